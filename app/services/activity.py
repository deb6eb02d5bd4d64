"""Write the activity log: who did what to which record, with old → new values."""

import datetime
import decimal
import enum
import logging

from flask import current_app, g, has_request_context, request
from flask_babel import force_locale
from sqlalchemy import inspect

from ..extensions import db
from ..models import ActivityLog

logger = logging.getLogger(__name__)

# Columns whose values never belong in a log: secrets and bookkeeping.
_SKIPPED = {"password", "changed_on", "created_on", "updated_at", "version"}


def plain(value):
    """Return a JSON-friendly form of a column value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, decimal.Decimal):
        return str(value.normalize()) if value == value.to_integral() else str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, db.Model):
        return str(value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def changes_of(obj):
    """Return {"column": {"old": ..., "new": ...}} for unsaved edits of `obj`."""
    changes = {}
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        if attr.key in _SKIPPED:
            continue

        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue

        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old != new:
            changes[attr.key] = {"old": plain(old), "new": plain(new)}
    return changes


def snapshot_of(obj):
    """Return every column value of `obj`, e.g. to log what a deletion removed."""
    state = inspect(obj)
    return {
        attr.key: plain(getattr(obj, attr.key))
        for attr in state.mapper.column_attrs
        if attr.key not in _SKIPPED
    }


def _current_user():
    """Return the logged-in user, or None outside a request or when anonymous."""
    if not has_request_context():
        return None
    user = getattr(g, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def record(action, summary, target=None, agency_id=None, changes=None, user=None):
    """Add an activity-log row to the session; it commits with the change itself.

    `summary` may be a lazy string: it is rendered in the default language, so
    the record reads the same whatever language its author used.
    """
    user = user or _current_user()
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "vi")):
        text = str(summary)

    entry = ActivityLog(
        user_id=getattr(user, "id", None),
        username=getattr(user, "username", None),
        action=action,
        target_type=target.__tablename__ if target is not None else None,
        target_id=getattr(target, "id", None),
        agency_id=agency_id,
        summary=text,
        changes=changes or None,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    logger.info(
        "activity %s on %s %s by %s",
        action,
        entry.target_type,
        entry.target_id,
        entry.username,
    )
    return entry
