"""Agencies, their levels and groups, and the users who act for them."""

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    or_,
)
from sqlalchemy.orm import relationship

from .mixins import TrackedMixin


class AgencyLevel(Model):
    """A tier of government that has its own index set (department, district…).

    A table rather than an enum: provinces reorganise their levels (the 2025
    reform merged districts away), and the console must follow without a release.
    """

    __tablename__ = "agency_level"

    id = Column(Integer, primary_key=True)
    code = Column(String(20), unique=True, nullable=False)
    name = Column(String(100), nullable=False)
    # Sort order from the top of the administration down.
    rank = Column(Integer, nullable=False, default=0)
    description = Column(Text)

    def __str__(self):
        return self.name


class DepartmentGroup(Model):
    """One of the groups the department index set splits agencies into."""

    __tablename__ = "department_group"

    id = Column(Integer, primary_key=True)
    code = Column(String(10), unique=True, nullable=False)
    name = Column(String(255), nullable=False)
    description = Column(Text)

    def __str__(self):
        return f"{self.code} – {self.name}"


class Agency(TrackedMixin, Model):
    """A department, district or commune that self-assesses each year."""

    __tablename__ = "agency"
    __table_args__ = (
        Index("ix_agency_level_id", "level_id"),
        Index("ix_agency_parent_id", "parent_id"),
    )

    id = Column(Integer, primary_key=True)
    code = Column(String(20), unique=True, nullable=False)
    name = Column(String(255), nullable=False)
    level_id = Column(Integer, ForeignKey("agency_level.id"), nullable=False)
    level = relationship(AgencyLevel, lazy="joined")
    group_id = Column(Integer, ForeignKey("department_group.id"))
    group = relationship(DepartmentGroup, lazy="joined")
    parent_id = Column(Integer, ForeignKey("agency.id"))
    parent = relationship("Agency", remote_side=[id], lazy="joined", join_depth=1)
    active = Column(Boolean, nullable=False, default=True)

    # The focal contact (cán bộ đầu mối) the organiser's letter asks for.
    contact_name = Column(String(150))
    contact_position = Column(String(150))
    contact_mobile = Column(String(30))
    contact_landline = Column(String(30))
    contact_email = Column(String(150))

    @classmethod
    def search_text(cls, text):
        """Return the condition for agencies matching typed text (name or code)."""
        return or_(cls.name.ilike(f"%{text}%"), cls.code == text)

    def __str__(self):
        return self.name


class DtiUser(User):
    """A FAB user who acts for one agency.

    Extends `ab_user` in place, so FAB's login, roles and user screens keep working.
    """

    __tablename__ = "ab_user"
    __table_args__ = {"extend_existing": True}

    # use_alter: agency rows point back at users (created_by), so this key is
    # added after both tables exist.
    agency_id = Column(
        Integer,
        ForeignKey("agency.id", use_alter=True, name="fk_ab_user_agency_id_agency"),
        index=True,
    )
    agency = relationship(Agency, foreign_keys=[agency_id], lazy="joined")

    @classmethod
    def search_text(cls, text):
        """Return the condition for accounts matching typed text."""
        return or_(
            cls.username.ilike(f"%{text}%"),
            cls.first_name.ilike(f"%{text}%"),
            cls.last_name.ilike(f"%{text}%"),
        )

    def __str__(self):
        return self.username
