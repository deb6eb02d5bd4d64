"""The activity log screen: read-only, filterable and exportable."""

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from ..models import ActivityLog
from .base import DtiModelView


def change_lines(value):
    """Return "column: old → new" lines for a log entry's changes."""
    if not value:
        return []
    lines = []
    for column, change in value.items():
        if isinstance(change, dict) and "old" in change:
            lines.append(f"{column}: {change.get('old')} → {change.get('new')}")
        else:
            lines.append(f"{column}: {change}")
    return lines


def _changes_html(value):
    return Markup("<br>").join(escape(line) for line in change_lines(value))


def _changes_text(value):
    return "; ".join(change_lines(value))


class ActivityLogModelView(DtiModelView):
    """What people did, when, to which record, with old and new values."""

    datamodel = SQLAInterface(ActivityLog)
    list_title = _l("Activity log")
    show_title = _l("Activity")
    base_permissions = ["can_list", "can_show", "can_csv"]

    list_columns = ["created_at", "username", "action", "summary", "agency"]
    export_columns = [
        "id",
        "created_at",
        "username",
        "action",
        "target_type",
        "target_id",
        "agency.name",
        "summary",
        "changes",
        "ip_address",
    ]
    search_columns = [
        "created_at",
        "username",
        "action",
        "target_type",
        "target_id",
        "agency",
        "summary",
    ]
    order_columns = ["created_at", "username", "action"]
    base_order = ("created_at", "desc")
    show_columns = [
        "created_at",
        "username",
        "action",
        "summary",
        "target_type",
        "target_id",
        "agency",
        "changes",
        "ip_address",
    ]
    label_columns = {
        "id": _l("Number"),
        "created_at": _l("Time"),
        "username": _l("User"),
        "action": _l("Action"),
        "summary": _l("What happened"),
        "target_type": _l("Record type"),
        "target_id": _l("Record number"),
        "agency": _l("Agency"),
        "agency.name": _l("Agency"),
        "changes": _l("Old → new values"),
        "ip_address": _l("IP address"),
    }
    formatters_columns = {"changes": _changes_html}
    export_formatters = {"changes": _changes_text}
