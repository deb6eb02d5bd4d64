"""Columns several tables share."""

from flask import g, has_request_context
from sqlalchemy import Column, DateTime, ForeignKey, Integer
from sqlalchemy.orm import declared_attr, relationship

from ..services.clock import now


def _current_user_id():
    """Return the id of the user making the change, or None for the system."""
    if not has_request_context():
        return None
    user = getattr(g, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.id


class TrackedMixin:
    """When a record was created and last changed, and by whom.

    Unlike FAB's AuditMixin the authors may be empty: the CLI and the seed data
    change records without a logged-in user.
    """

    @declared_attr
    def created_on(cls):
        return Column(DateTime, nullable=False, default=now)

    @declared_attr
    def changed_on(cls):
        return Column(DateTime, nullable=False, default=now, onupdate=now)

    @declared_attr
    def created_by_id(cls):
        return Column(Integer, ForeignKey("ab_user.id"), default=_current_user_id)

    @declared_attr
    def changed_by_id(cls):
        return Column(
            Integer,
            ForeignKey("ab_user.id"),
            default=_current_user_id,
            onupdate=_current_user_id,
        )

    @declared_attr
    def created_by(cls):
        return relationship("DtiUser", foreign_keys=[cls.created_by_id])

    @declared_attr
    def changed_by(cls):
        return relationship("DtiUser", foreign_keys=[cls.changed_by_id])
