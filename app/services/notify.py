"""Tell users what happened: a notice in their inbox and, when mail is on, an e-mail.

Notices are written in the default language, like the activity log, so a notice
reads the same whoever triggered it. Mails wait in the outbox (`mail_outbox`)
until `deliver` sends them; `flask dti send-mail` runs it from cron.
"""

import logging
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from flask_appbuilder.security.sqla.models import Role as RoleRow
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import DtiUser, MailMessage, MailStatus, Notification
from . import activity
from .clock import now

logger = logging.getLogger(__name__)

# A mail that failed this many times stays failed until someone retries it.
MAX_ATTEMPTS = 5

# Lengths of the notice columns (see app.models.notify).
EVENT_LENGTH = 60
SUBJECT_LENGTH = 255
ERROR_LENGTH = 1000

# The roles of an agency's own staff, by name: importing permissions.Role here
# would be circular (permissions → calendar → notify).
AGENCY_STAFF = ("Specialist", "Unit approver")

# What sending one mail may raise; ValueError is a header the email package refuses.
SEND_ERRORS = (smtplib.SMTPException, OSError, ValueError)
# Refusals of one mail after which the SMTP session stays usable.
REFUSALS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException)


def mail_enabled():
    """Tell whether the console sends e-mail (MAIL_SERVER is set)."""
    return bool(current_app.config.get("MAIL_SERVER"))


def _render(text):
    """Return a lazy string or plain text in the default language."""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "vi")):
        return str(text)


def _one_line(text, length):
    """Return text on one line (mail headers allow no line breaks), cut to length."""
    return " ".join(text.split())[:length]


def notify_users(users, event, subject, body, link=None):
    """Add a notice (and a queued mail) for each distinct active user; no commit.

    :raises ValueError: for an empty event name or one longer than the column.
    """
    if not event or len(event) > EVENT_LENGTH:
        raise ValueError(f"event name must have 1 to {EVENT_LENGTH} characters")

    subject_text = _one_line(_render(subject), SUBJECT_LENGTH)
    body_text = _render(body)
    send_mail = mail_enabled()

    notifications = []
    mails = 0
    seen = set()
    for user in users:
        if user is None or user.id in seen or not user.active:
            continue
        seen.add(user.id)

        notification = Notification(
            user=user, event=event, subject=subject_text, body=body_text, link=link
        )
        db.session.add(notification)
        notifications.append(notification)

        if send_mail and user.email:
            db.session.add(
                MailMessage(
                    notification=notification,
                    event=event,
                    recipient=user.email,
                    subject=subject_text,
                    body=body_text,
                    status=MailStatus.QUEUED,
                    attempts=0,
                )
            )
            mails += 1

    logger.info(
        "notice %s for users %s: %s notices, %s mails queued",
        event,
        sorted(seen),
        len(notifications),
        mails,
    )
    return notifications


def agency_users(agency_id, roles=AGENCY_STAFF):
    """Return the active users of an agency who hold any of the given roles."""
    names = [str(role) for role in roles]
    query = (
        select(DtiUser)
        .where(DtiUser.agency_id == agency_id)
        .where(DtiUser.active.is_(True))
        .where(DtiUser.roles.any(RoleRow.name.in_(names)))
        .order_by(DtiUser.id)
    )
    return list(db.session.execute(query).scalars())


def notify_agency(agency_id, event, subject, body, link=None, roles=AGENCY_STAFF):
    """Notify the active users of an agency who hold any of the given roles."""
    users = agency_users(agency_id, roles)
    return notify_users(users, event, subject, body, link=link)


def unread_count(user):
    """Return how many notices in the user's inbox are still unread."""
    if user is None:
        return 0
    query = (
        select(func.count(Notification.id))
        .where(Notification.user_id == user.id)
        .where(Notification.read_at.is_(None))
    )
    return db.session.execute(query).scalar_one()


# --- Sending ----------------------------------------------------------------


def _waiting():
    """Return the condition of mails to send: queued, or failed with tries left."""
    return or_(
        MailMessage.status == MailStatus.QUEUED,
        (MailMessage.status == MailStatus.FAILED)
        & (MailMessage.attempts < MAX_ATTEMPTS),
    )


def _pending(limit):
    """Return the first `limit` mails still to send, oldest first."""
    query = select(MailMessage).where(_waiting()).order_by(MailMessage.id).limit(limit)
    return list(db.session.execute(query).scalars())


def _claim(mail_id):
    """Lock one mail still to send for this run, or return None.

    None means another `send-mail` run holds it or has sent it since: on
    PostgreSQL the row stays locked (SKIP LOCKED) until this run commits the
    result, so two runs at once never send the same mail twice.
    """
    query = (
        select(MailMessage)
        .where(MailMessage.id == mail_id, _waiting())
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return db.session.execute(query).scalar_one_or_none()


def _connect(config):
    """Open an SMTP connection as MAIL_* configure it."""
    connection = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10)
    try:
        if config.get("MAIL_USE_TLS"):
            connection.starttls()
        if config.get("MAIL_USERNAME"):
            connection.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
    except (smtplib.SMTPException, OSError):
        connection.close()
        raise
    return connection


def _disconnect(connection):
    """Close an SMTP connection, ignoring a server that has already gone."""
    try:
        connection.quit()
    except (smtplib.SMTPException, OSError):
        connection.close()


def _message(mail, config):
    """Return the e-mail for an outbox row, ending with the notice's link."""
    body = mail.body
    link = mail.notification.link if mail.notification is not None else None
    if link:
        body = f"{body.rstrip()}\n\n{config.get('DTI_BASE_URL', '')}{link}\n"

    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = mail.recipient
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="dti-console")
    # base64 keeps Vietnamese intact through servers without 8BITMIME.
    message.set_content(body, subtype="plain", charset="utf-8", cte="base64")
    return message


def _record_failure(mail, error):
    """Count a failed attempt on an outbox row and keep the error."""
    mail.attempts = (mail.attempts or 0) + 1
    mail.last_error = str(error)[:ERROR_LENGTH]
    mail.status = MailStatus.FAILED
    logger.warning(
        "mail %s (notice %s) failed, attempt %s of %s: %s; check MAIL_SERVER, "
        "MAIL_PORT, MAIL_USE_TLS, MAIL_USERNAME and the recipient's address",
        mail.id,
        mail.notification_id,
        mail.attempts,
        MAX_ATTEMPTS,
        error,
    )


def requeue(mails):
    """Queue failed mails again with a fresh count of attempts; commit.

    Mails that are not failed are left alone. Returns the mails queued again.
    """
    failed = [mail for mail in mails if mail.status == MailStatus.FAILED]
    if not failed:
        return []

    for mail in failed:
        mail.status = MailStatus.QUEUED
        mail.attempts = 0
    ids = [mail.id for mail in failed]
    activity.record(
        "mail_outbox.requeued",
        _l("Failed mails queued again: %(count)s.", count=len(failed)),
        changes={"mails": ids},
    )
    db.session.commit()
    logger.info("mails %s queued again", ids)
    return failed


def deliver(limit=100):
    """Send queued mails and retry failed ones; return (sent, failed).

    Commits after each mail (and so whatever else the session holds), so one
    bad address never loses the state of the others.
    """
    if not mail_enabled():
        waiting = db.session.execute(
            select(func.count(MailMessage.id)).where(_waiting())
        ).scalar_one()
        if waiting:
            logger.warning(
                "%s mails wait in the outbox but mail is off: set MAIL_SERVER "
                "to send them",
                waiting,
            )
        return 0, 0

    config = current_app.config
    mails = _pending(limit)
    linked = any(mail.notification and mail.notification.link for mail in mails)
    if linked and not config.get("DTI_BASE_URL"):
        logger.warning(
            "DTI_BASE_URL is empty, so links in mails are relative: set it to "
            "the console's address, e.g. https://dti.cantho.gov.vn"
        )

    sent = failed = 0
    connection = None
    # A server that cannot be reached fails the whole batch with one error,
    # rather than waiting for a timeout once per mail.
    connect_error = None
    for mail_id in [mail.id for mail in mails]:
        mail = _claim(mail_id)
        if mail is None:
            logger.info("mail %s is being sent by another run; skipped", mail_id)
            continue

        error = connect_error
        if error is None and connection is None:
            try:
                connection = _connect(config)
            except SEND_ERRORS as exc:
                error = connect_error = exc

        if error is None:
            try:
                connection.send_message(_message(mail, config))
            except SEND_ERRORS as exc:
                error = exc
                # A refused address leaves the session usable (unless the server
                # hung up with it, as on a 421); anything else may not.
                if not isinstance(exc, REFUSALS) or connection.sock is None:
                    _disconnect(connection)
                    connection = None

        if error is None:
            mail.status = MailStatus.SENT
            mail.sent_at = now()
            sent += 1
            logger.info("mail %s (notice %s) sent", mail.id, mail.notification_id)
        else:
            _record_failure(mail, error)
            failed += 1
        db.session.commit()

    if connection is not None:
        _disconnect(connection)
    if mails:
        logger.info("mail delivery: %s sent, %s failed", sent, failed)
    return sent, failed
