"""The inbox of each user's notices and the organiser's mail outbox."""

from flask import flash, g, redirect, url_for
from flask_appbuilder import action, expose
from flask_appbuilder.models.sqla.filters import FilterEqualFunction
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import SelectField

from .. import labels
from ..extensions import db
from ..models import MailMessage, MailStatus, Notification
from ..services import notify
from ..services.clock import now
from .base import DtiModelView

MAIL_STATUS = {
    MailStatus.QUEUED: _l("Waiting to be sent"),
    MailStatus.SENT: _l("Sent"),
    MailStatus.FAILED: _l("Failed"),
}


def _current_user_id():
    return g.user.id


def _read_state(value):
    """Show an unread notice as "new", a read one by the date it was read."""
    if value is None:
        return _l("new")
    return value.strftime("%d/%m/%Y")


def _lines_html(value):
    """Show a notice's text with its line breaks."""
    if not value:
        return ""
    return Markup("<br>").join(escape(line) for line in value.splitlines())


def _link_html(value):
    """Show a notice's link as a link when it leads inside the console."""
    if not value:
        return ""
    # Only console paths become links: no other site, no javascript: URLs.
    if not value.startswith("/") or value.startswith("//"):
        return value
    return Markup('<a href="{0}">{0}</a>').format(value)


def _mail_status(value):
    return labels.label(MAIL_STATUS, value)


class InboxView(DtiModelView):
    """The signed-in user's own notices, newest first; opening one marks it read."""

    datamodel = SQLAInterface(Notification)
    route_base = "/inbox"
    record_label = _l("Notice")
    list_title = _l("My notices")
    show_title = _l("Notice")
    base_permissions = ["can_list", "can_show", "mark_read"]
    # Strictly the user's own notices, whatever roles they hold.
    base_filters = [["user_id", FilterEqualFunction, _current_user_id]]
    base_order = ("created_at", "desc")

    list_columns = ["created_at", "subject", "read_at"]
    show_columns = ["created_at", "event", "subject", "body", "link", "read_at"]
    search_columns = ["subject", "event", "read_at"]
    order_columns = ["created_at", "subject", "read_at"]
    label_columns = {
        "created_at": _l("Received"),
        "event": _l("Event"),
        "subject": _l("Subject"),
        "body": _l("Message"),
        "link": _l("Link"),
        "read_at": _l("Read on"),
    }
    formatters_columns = {
        "read_at": _read_state,
        "body": _lines_html,
        "link": _link_html,
    }

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        """Show one of the user's notices and mark it read.

        :raises NotFound: (404) for a notice in someone else's inbox.
        """
        page = super().show(pk)
        notification = self.datamodel.get(pk, self._base_filters)
        if notification is not None and notification.read_at is None:
            notification.read_at = now()
            db.session.commit()
        return page

    @action(
        "mark_read",
        _l("Mark as read"),
        None,
        "fa-envelope-open",
        multiple=True,
        single=False,
    )
    def mark_read(self, items):
        """Mark the selected notices read."""
        if not isinstance(items, list):
            items = [items]

        marked = 0
        for notification in items:
            # FAB loads the selected rows without the base filters: check here.
            if notification is None or notification.user_id != g.user.id:
                continue
            if notification.read_at is None:
                notification.read_at = now()
                marked += 1
        db.session.commit()

        flash(str(_l("Notices marked as read: %(count)s.", count=marked)), "success")
        return redirect(url_for(".list"))


class MailOutboxModelView(DtiModelView):
    """Every e-mail the console sent or tried to send, with retries of failures."""

    datamodel = SQLAInterface(MailMessage)
    route_base = "/mail-outbox"
    record_label = _l("Mail")
    list_title = _l("Mail outbox")
    show_title = _l("Mail")
    base_permissions = ["can_list", "can_show", "can_csv", "retry"]
    base_order = ("created_at", "desc")

    list_columns = [
        "created_at",
        "recipient",
        "subject",
        "status",
        "attempts",
        "sent_at",
    ]
    show_columns = [
        "created_at",
        "event",
        "recipient",
        "subject",
        "body",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    ]
    export_columns = [
        "id",
        "created_at",
        "event",
        "recipient",
        "subject",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    ]
    search_columns = ["recipient", "status", "event"]
    order_columns = ["created_at", "recipient", "status", "attempts", "sent_at"]
    label_columns = {
        "id": _l("Number"),
        "created_at": _l("Written"),
        "event": _l("Event"),
        "recipient": _l("Recipient"),
        "subject": _l("Subject"),
        "body": _l("Message"),
        "status": _l("State"),
        "attempts": _l("Attempts"),
        "sent_at": _l("Sent on"),
        "last_error": _l("Last error"),
    }
    formatters_columns = {
        "status": _mail_status,
        "body": _lines_html,
        "last_error": _lines_html,
    }
    export_formatters = {"status": _mail_status}
    search_form_extra_fields = {
        "status": SelectField(_l("State"), choices=labels.choices(MAIL_STATUS))
    }

    @action(
        "retry",
        _l("Send again"),
        _l("Send the selected failed mails again now?"),
        "fa-redo",
        multiple=True,
        single=False,
    )
    def retry(self, items):
        """Queue the selected failed mails again and send what is waiting."""
        if not isinstance(items, list):
            items = [items]

        requeued = notify.requeue([mail for mail in items if mail is not None])
        if not requeued:
            flash(str(_l("Select failed mails to send them again.")), "warning")
            return redirect(url_for(".list"))

        if not notify.mail_enabled():
            flash(
                str(
                    _l(
                        "Mail is off: the mails wait until the administrator "
                        "sets MAIL_SERVER."
                    )
                ),
                "warning",
            )
            return redirect(url_for(".list"))

        sent, failed = notify.deliver()
        category = "warning" if failed else "success"
        flash(
            str(
                _l(
                    "Mails sent: %(sent)s; failed: %(failed)s.",
                    sent=sent,
                    failed=failed,
                )
            ),
            category,
        )
        return redirect(url_for(".list"))
