"""Assessment years, their phase calendars, fields and index sets."""

import enum

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    or_,
    text,
)
from sqlalchemy.orm import relationship

from .mixins import TrackedMixin
from .organisation import Agency, AgencyLevel, DepartmentGroup, DtiUser

POINTS = Numeric(9, 2)


class YearStatus(enum.IntEnum):
    """Where an assessment year is in its life; compare with < and >=."""

    DRAFT = 10  # being prepared: index sets and calendar may change freely
    OPEN = 20  # the round is running
    CLOSED = 30  # results published, kept for the record


class PhaseKind(enum.IntEnum):
    """The phases of a yearly round, in the order they run."""

    CONTACT = 10  # agencies nominate their focal contact
    SELF_ASSESSMENT = 20  # agencies enter figures and their leader signs off
    APPRAISAL_1 = 30  # appraisers give a verdict on every component
    EXPLANATION = 40  # agencies answer the notes where points were cut
    APPRAISAL_2 = 50  # appraisers settle the disputed components
    PUBLICATION = 60  # the organiser proposes and the city publishes


class IndicatorKind(enum.IntEnum):
    """The three tiers of an index-set tree."""

    PILLAR = 1  # pillar (trụ cột) or group (nhóm)
    MAIN = 2  # main indicator (chỉ số chính)
    COMPONENT = 3  # component indicator (chỉ số thành phần), the scored leaf


class AssessmentYear(TrackedMixin, Model):
    """One yearly DTI round: the year assessed and everything set up for it."""

    __tablename__ = "assessment_year"

    id = Column(Integer, primary_key=True)
    year = Column(Integer, unique=True, nullable=False)
    name = Column(String(150), nullable=False)
    # The data period: figures must describe 1 January – 31 December of `year`.
    data_start = Column(Date, nullable=False)
    data_end = Column(Date, nullable=False)
    status = Column(Integer, nullable=False, default=YearStatus.DRAFT)
    copied_from_id = Column(Integer, ForeignKey("assessment_year.id"))
    copied_from = relationship("AssessmentYear", remote_side=[id])
    note = Column(Text)

    phases = relationship(
        "Phase",
        back_populates="year",
        order_by="Phase.kind",
        cascade="all, delete-orphan",
    )

    def __str__(self):
        return self.name


class Phase(TrackedMixin, Model):
    """When one phase of a year opens and closes.

    Rows without a district are the city's calendar; a district may add its own
    rows to run its communes' round on another schedule.
    """

    __tablename__ = "phase"
    __table_args__ = (
        # One city-wide row per phase and year, and one per district.
        Index(
            "uq_phase_city",
            "year_id",
            "kind",
            unique=True,
            sqlite_where=text("district_id IS NULL"),
            postgresql_where=text("district_id IS NULL"),
        ),
        Index(
            "uq_phase_district",
            "year_id",
            "kind",
            "district_id",
            unique=True,
            sqlite_where=text("district_id IS NOT NULL"),
            postgresql_where=text("district_id IS NOT NULL"),
        ),
    )

    id = Column(Integer, primary_key=True)
    year_id = Column(Integer, ForeignKey("assessment_year.id"), nullable=False)
    year = relationship(AssessmentYear, back_populates="phases")
    kind = Column(Integer, nullable=False)
    district_id = Column(Integer, ForeignKey("agency.id"))
    district = relationship(Agency)
    opens_at = Column(DateTime, nullable=False)
    closes_at = Column(DateTime, nullable=False)
    note = Column(Text)

    @property
    def kind_enum(self):
        return PhaseKind(self.kind)

    def __str__(self):
        return f"{self.year} – {PhaseKind(self.kind).name}"


class PhaseExtension(TrackedMixin, Model):
    """One agency's later deadline for one phase, granted with a reason."""

    __tablename__ = "phase_extension"
    __table_args__ = (
        UniqueConstraint("year_id", "kind", "agency_id", name="uq_phase_extension"),
    )

    id = Column(Integer, primary_key=True)
    year_id = Column(Integer, ForeignKey("assessment_year.id"), nullable=False)
    year = relationship(AssessmentYear)
    kind = Column(Integer, nullable=False)
    agency_id = Column(Integer, ForeignKey("agency.id"), nullable=False, index=True)
    agency = relationship(Agency)
    closes_at = Column(DateTime, nullable=False)
    reason = Column(Text, nullable=False)

    def __str__(self):
        return f"{self.agency} – {PhaseKind(self.kind).name}"


field_appraiser = Table(
    "field_appraiser",
    Model.metadata,
    Column("field_id", Integer, ForeignKey("field.id", ondelete="CASCADE")),
    Column("user_id", Integer, ForeignKey("ab_user.id", ondelete="CASCADE")),
    UniqueConstraint("field_id", "user_id", name="uq_field_appraiser"),
)


class Field(TrackedMixin, Model):
    """A field (lĩnh vực) of indicators and the agency that appraises it."""

    __tablename__ = "field"
    __table_args__ = (UniqueConstraint("year_id", "code", name="uq_field_year_code"),)

    id = Column(Integer, primary_key=True)
    year_id = Column(Integer, ForeignKey("assessment_year.id"), nullable=False)
    year = relationship(AssessmentYear)
    code = Column(String(20), nullable=False)
    name = Column(String(255), nullable=False)
    description = Column(Text)
    appraiser_agency_id = Column(Integer, ForeignKey("agency.id"))
    appraiser_agency = relationship(Agency)
    # The appraiser accounts (of the appraising agency) that handle this field.
    appraisers = relationship(DtiUser, secondary=field_appraiser, backref="fields")

    @classmethod
    def search_text(cls, text):
        """Return the condition for fields matching typed text (code or name)."""
        return or_(cls.code == text, cls.name.ilike(f"%{text}%"))

    def __str__(self):
        return f"{self.code} – {self.name}"


class IndexSet(TrackedMixin, Model):
    """The indicator tree one level (and department group) answers in one year."""

    __tablename__ = "index_set"
    __table_args__ = (
        Index(
            "uq_index_set_level",
            "year_id",
            "level_id",
            unique=True,
            sqlite_where=text("group_id IS NULL"),
            postgresql_where=text("group_id IS NULL"),
        ),
        Index(
            "uq_index_set_group",
            "year_id",
            "level_id",
            "group_id",
            unique=True,
            sqlite_where=text("group_id IS NOT NULL"),
            postgresql_where=text("group_id IS NOT NULL"),
        ),
    )

    id = Column(Integer, primary_key=True)
    year_id = Column(Integer, ForeignKey("assessment_year.id"), nullable=False)
    year = relationship(AssessmentYear, lazy="joined")
    level_id = Column(Integer, ForeignKey("agency_level.id"), nullable=False)
    level = relationship(AgencyLevel, lazy="joined")
    group_id = Column(Integer, ForeignKey("department_group.id"))
    group = relationship(DepartmentGroup, lazy="joined")
    name = Column(String(255), nullable=False)
    # Where the content comes from: the decision, or "illustrative" for demo sets.
    source = Column(String(500), nullable=False, default="")
    # The total the set is built to (1,000 for most sets, 500 for some communes).
    max_points = Column(POINTS, nullable=False, default=1000)
    # Bumped by an explicit, logged new version once the set is frozen; while
    # `revision_open` is set the organiser may edit the frozen set.
    version = Column(Integer, nullable=False, default=1)
    revision_open = Column(Boolean, nullable=False, default=False)
    revision_reason = Column(Text)
    note = Column(Text)

    indicators = relationship(
        "Indicator",
        back_populates="index_set",
        order_by="Indicator.position",
        cascade="all, delete-orphan",
    )

    @classmethod
    def search_text(cls, text):
        """Return the condition for index sets matching typed text."""
        return cls.name.ilike(f"%{text}%")

    def __str__(self):
        return self.name


class Indicator(Model):
    """A node of an index set: pillar, main indicator or scored component."""

    __tablename__ = "indicator"
    __table_args__ = (
        UniqueConstraint("index_set_id", "code", name="uq_indicator_set_code"),
        Index("ix_indicator_parent_id", "parent_id"),
        Index("ix_indicator_field_id", "field_id"),
    )

    id = Column(Integer, primary_key=True)
    index_set_id = Column(Integer, ForeignKey("index_set.id"), nullable=False)
    index_set = relationship(IndexSet, back_populates="indicators")
    parent_id = Column(Integer, ForeignKey("indicator.id"))
    parent = relationship("Indicator", remote_side=[id], backref="children")
    kind = Column(Integer, nullable=False)
    code = Column(String(20), nullable=False)
    name = Column(Text, nullable=False)
    position = Column(Integer, nullable=False, default=0)
    max_points = Column(POINTS, nullable=False, default=0)
    field_id = Column(Integer, ForeignKey("field.id"))
    field = relationship(Field, lazy="joined")
    evidence_required = Column(Boolean, nullable=False, default=True)
    # The scoring rule: a type from app.services.scoring and its parameters.
    rule_type = Column(String(30))
    rule_params = Column(JSON)
    # The annex's own columns, kept word for word.
    method_text = Column(Text)
    evidence_text = Column(Text)
    data_source = Column(Text)
    verifying_unit = Column(Text)

    @property
    def kind_enum(self):
        return IndicatorKind(self.kind)

    @classmethod
    def search_text(cls, text):
        """Return the condition for indicators matching a number or words."""
        return or_(cls.code == text, cls.name.ilike(f"%{text}%"))

    def __str__(self):
        return f"{self.code} {self.name}"
