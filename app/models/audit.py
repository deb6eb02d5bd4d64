"""The activity log: what people did, separate from technical logs."""

from flask_appbuilder import Model
from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from ..services.clock import now
from .organisation import Agency, DtiUser


class ActivityLog(Model):
    """One thing a person (or the system) did to one record."""

    __tablename__ = "activity_log"
    __table_args__ = (
        Index("ix_activity_log_created_at", "created_at"),
        Index("ix_activity_log_target", "target_type", "target_id"),
        Index("ix_activity_log_agency_id", "agency_id"),
        Index("ix_activity_log_action", "action"),
    )

    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, nullable=False, default=now)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))
    user = relationship(DtiUser)
    # Kept as text so the entry stays readable after the account is deleted.
    username = Column(String(100))
    # A dotted event name such as "submission.approved" or "login.failed".
    action = Column(String(60), nullable=False)
    target_type = Column(String(40))
    target_id = Column(Integer)
    # The agency the record belongs to, so each agency can read its own history.
    agency_id = Column(Integer, ForeignKey("agency.id", ondelete="SET NULL"))
    agency = relationship(Agency)
    summary = Column(Text, nullable=False)
    # Old and new values: {"field": {"old": ..., "new": ...}}.
    changes = Column(JSON)
    ip_address = Column(String(45))

    def __str__(self):
        return f"#{self.id} {self.action}"
