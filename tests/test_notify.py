"""Notices reach the right inboxes; mails leave through a real SMTP server."""

import os
import subprocess
import sys

import pytest
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import DtiUser, MailMessage, MailStatus, Notification
from app.services import notify
from config import BASE_DIR
from tests import factories
from tests.conftest import free_port
from tests.factories import agency

VIETNAMESE_BODY = "Hồ sơ của đơn vị đã được trả lại để chỉnh sửa."
# An English msgid the catalogue translates: its text must arrive in Vietnamese.
SUBJECT = _l("Submission #%(id)s has been submitted and is locked.", id=12)


def _mails():
    return list(
        db.session.execute(select(MailMessage).order_by(MailMessage.id)).scalars()
    )


@pytest.fixture
def mail_unreachable(app, monkeypatch):
    """Point the console's mail at a port nothing listens on."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())


# --- Inbox ----------------------------------------------------------------


def test_each_user_gets_one_notice_in_the_default_language(ctx):
    users = [
        factories.user("spec_a"),
        factories.user("appr_a"),
        factories.user("spec_a"),
    ]

    notices = notify.notify_users(
        users, "submission.returned", SUBJECT, VIETNAMESE_BODY, link="/selfassessment/"
    )
    db.session.commit()

    with force_locale("vi"):
        expected = str(SUBJECT)
    with force_locale("en"):
        assert expected != str(SUBJECT)
    assert sorted(notice.user.username for notice in notices) == ["appr_a", "spec_a"]
    for notice in notices:
        assert notice.subject == expected
        assert notice.body == VIETNAMESE_BODY
        assert notice.event == "submission.returned"
        assert notice.link == "/selfassessment/"
        assert notice.read_at is None


def test_unread_count_counts_only_the_users_unread_notices(ctx):
    spec_a = factories.user("spec_a")
    before = notify.unread_count(spec_a)
    first, *_rest = notify.notify_users([spec_a], "deadline.moved", "A", "a")
    notify.notify_users([spec_a, factories.user("spec_b")], "deadline.moved", "B", "b")
    db.session.commit()
    assert notify.unread_count(spec_a) == before + 2

    first.read_at = first.created_at
    db.session.commit()

    assert notify.unread_count(spec_a) == before + 1
    assert notify.unread_count(None) == 0


def test_inactive_users_get_nothing(ctx, mail_on):
    spec_a = factories.user("spec_a")
    spec_a.active = False

    notices = notify.notify_users(
        [spec_a, factories.user("appr_a")],
        "submission.returned",
        SUBJECT,
        VIETNAMESE_BODY,
    )
    db.session.commit()

    assert [notice.user.username for notice in notices] == ["appr_a"]
    assert [mail.recipient for mail in _mails()] == ["appr_a@dti.invalid"]


def test_notify_agency_reaches_only_that_agencys_staff(ctx, mail_on):
    s02 = agency("S02")

    notices = notify.notify_agency(s02.id, "submission.returned", SUBJECT, "x")
    db.session.commit()

    assert sorted(notice.user.username for notice in notices) == ["appr_a", "spec_a"]
    assert sorted(mail.recipient for mail in _mails()) == [
        "appr_a@dti.invalid",
        "spec_a@dti.invalid",
    ]
    others = db.session.execute(
        select(Notification)
        .join(DtiUser, DtiUser.id == Notification.user_id)
        .where(DtiUser.username.in_(["spec_b", "appr_b", "organiser"]))
    ).all()
    assert others == []


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (("Specialist", "Unit approver"), ["appr_a", "spec_a"]),
        (("Specialist",), ["spec_a"]),
        (("Unit approver",), ["appr_a"]),
        (("Appraiser",), ["appraiser_nl"]),
        (("Organiser",), []),
    ],
)
def test_agency_users_picks_the_roles_asked_for(ctx, roles, expected):
    users = notify.agency_users(agency("S02").id, roles=roles)

    assert sorted(user.username for user in users) == expected


def test_agency_users_leaves_out_inactive_users(ctx):
    factories.user("spec_a").active = False
    db.session.flush()

    users = notify.agency_users(agency("S02").id)

    assert [user.username for user in users] == ["appr_a"]


def test_an_event_name_longer_than_the_column_is_refused(ctx):
    with pytest.raises(ValueError, match="event name"):
        notify.notify_users([factories.user("spec_a")], "x" * 61, "A", "a")


# --- Mail -----------------------------------------------------------------


def test_mail_off_queues_and_sends_nothing(ctx, smtp_server):
    notices = notify.notify_users(
        [factories.user("spec_a")], "deadline.moved", SUBJECT, "a"
    )
    db.session.commit()

    assert len(notices) == 1
    assert _mails() == []
    assert notify.deliver() == (0, 0)
    assert smtp_server.handler.messages() == []


def test_mail_is_delivered_in_vietnamese_with_the_link(ctx, mail_on, app):
    notify.notify_users(
        [factories.user("spec_a")],
        "submission.returned",
        SUBJECT,
        VIETNAMESE_BODY,
        link="/selfassessment/12",
    )
    db.session.commit()
    (mail,) = _mails()
    assert mail.status == MailStatus.QUEUED
    assert mail.notification.user.username == "spec_a"

    assert notify.deliver() == (1, 0)

    (recipients, message), *_rest = mail_on.messages()
    with force_locale("vi"):
        expected_subject = str(SUBJECT)
    assert recipients == ["spec_a@dti.invalid"]
    assert message["To"] == "spec_a@dti.invalid"
    assert message["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert message["Subject"] == expected_subject
    body = message.get_content()
    assert VIETNAMESE_BODY in body
    assert body.rstrip().endswith("https://dti.cantho.gov.vn/selfassessment/12")

    db.session.refresh(mail)
    assert mail.status == MailStatus.SENT
    assert mail.sent_at is not None
    assert notify.deliver() == (0, 0)
    assert len(mail_on.messages()) == 1


def test_a_mail_without_link_ends_with_its_body(ctx, mail_on):
    notify.notify_users(
        [factories.user("spec_a")], "deadline.moved", "Hạn chót", "Nội dung."
    )
    db.session.commit()

    notify.deliver()

    ((_recipients, message),) = mail_on.messages()
    assert message.get_content().strip() == "Nội dung."


def test_unreachable_server_fails_the_mail_and_a_later_run_sends_it(
    ctx, app, monkeypatch, smtp_server
):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    notify.notify_users(
        [factories.user("spec_a"), factories.user("appr_a")], "deadline.moved", "A", "a"
    )
    db.session.commit()

    assert notify.deliver() == (0, 2)

    for mail in _mails():
        assert mail.status == MailStatus.FAILED
        assert mail.attempts == 1
        assert mail.last_error
        assert mail.sent_at is None

    monkeypatch.setitem(app.config, "MAIL_PORT", smtp_server.port)
    assert notify.deliver() == (2, 0)

    assert [mail.status for mail in _mails()] == [MailStatus.SENT] * 2
    assert len(smtp_server.handler.messages()) == 2


def test_a_refused_address_does_not_stop_the_others(ctx, mail_on):
    mail_on.refused.add("spec_a@dti.invalid")
    notify.notify_users(
        [factories.user("spec_a"), factories.user("appr_a")], "deadline.moved", "A", "a"
    )
    db.session.commit()

    assert notify.deliver() == (1, 1)

    by_recipient = {mail.recipient: mail for mail in _mails()}
    refused = by_recipient["spec_a@dti.invalid"]
    accepted = by_recipient["appr_a@dti.invalid"]
    assert refused.status == MailStatus.FAILED
    assert "No such user" in refused.last_error
    assert accepted.status == MailStatus.SENT
    assert [rcpt for rcpt, _message in mail_on.messages()] == [["appr_a@dti.invalid"]]


def test_attempts_stop_at_the_maximum(ctx, mail_unreachable):
    notify.notify_users([factories.user("spec_a")], "deadline.moved", "A", "a")
    db.session.commit()
    (mail,) = _mails()
    mail.status = MailStatus.FAILED
    mail.attempts = notify.MAX_ATTEMPTS - 1
    db.session.commit()

    assert notify.deliver() == (0, 1)
    assert mail.attempts == notify.MAX_ATTEMPTS

    assert notify.deliver() == (0, 0)
    db.session.refresh(mail)
    assert mail.attempts == notify.MAX_ATTEMPTS
    assert mail.status == MailStatus.FAILED


def test_requeue_gives_failed_mails_fresh_attempts(ctx, mail_on):
    notify.notify_users(
        [factories.user("spec_a"), factories.user("appr_a")], "deadline.moved", "A", "a"
    )
    db.session.commit()
    exhausted, sent = _mails()
    exhausted.status = MailStatus.FAILED
    exhausted.attempts = notify.MAX_ATTEMPTS
    sent.status = MailStatus.SENT
    db.session.commit()

    requeued = notify.requeue([exhausted, sent])

    assert requeued == [exhausted]
    assert (exhausted.status, exhausted.attempts) == (MailStatus.QUEUED, 0)
    assert sent.status == MailStatus.SENT
    assert notify.deliver() == (1, 0)


def test_send_mail_command_reports_the_counts(ctx, app, mail_on):
    notify.notify_users([factories.user("spec_a")], "deadline.moved", "A", "a")
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["dti", "send-mail"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent 1, failed 0"
    assert len(mail_on.messages()) == 1


def test_base_url_for_mail_links_comes_from_the_environment():
    """Production sets DTI_BASE_URL in the environment file; config must read it."""
    result = subprocess.run(
        [sys.executable, "-c", "import config; print(config.Config.DTI_BASE_URL)"],
        env={**os.environ, "DTI_BASE_URL": "https://dti.cantho.gov.vn/"},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == "https://dti.cantho.gov.vn"


@pytest.mark.committed
def test_a_mail_another_run_is_sending_is_skipped(app, mail_on):
    """Two send-mail runs at once (cron on two servers) never send a mail twice."""
    with app.test_request_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locks are PostgreSQL's; the PostgreSQL pass checks this")
        assert _mails() == [], "the outbox must start empty for this test"
        notify.notify_users([factories.user("spec_a")], "deadline.moved", "A", "a")
        db.session.commit()
        (mail,) = _mails()
        mail_id, notice_id = mail.id, mail.notification_id
        other_run = db.engine.connect()
        try:
            other_run.execute(
                select(MailMessage.id)
                .where(MailMessage.id == mail_id)
                .with_for_update()
            )

            assert notify.deliver() == (0, 0)
            assert mail_on.messages() == []

            other_run.rollback()
            assert notify.deliver() == (1, 0)
            assert notify.deliver() == (0, 0)
            assert len(mail_on.messages()) == 1
        finally:
            other_run.close()
            db.session.rollback()
            db.session.execute(
                MailMessage.__table__.delete().where(MailMessage.id == mail_id)
            )
            db.session.execute(
                Notification.__table__.delete().where(Notification.id == notice_id)
            )
            db.session.commit()
