"""The inbox shows each user only their own notices; the outbox retries mail."""

from sqlalchemy import select

from app.extensions import db
from app.models import MailMessage, MailStatus
from app.services import notify
from tests import factories
from tests.conftest import flashes


def _notice(username, subject):
    (notice,) = notify.notify_users(
        [factories.user(username)], "deadline.moved", subject, "x"
    )
    db.session.commit()
    return notice


def test_inbox_lists_only_my_notices(login_as, ctx):
    _notice("spec_a", "Hạn chót của S02")
    _notice("spec_b", "Hạn chót của S06")

    page = login_as("spec_a").get("/inbox/list/")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Hạn chót của S02" in html
    assert "Hạn chót của S06" not in html


def test_another_users_notice_is_not_found_and_stays_unread(login_as, ctx):
    theirs = _notice("spec_b", "Hạn chót của S06")

    page = login_as("spec_a").get(f"/inbox/show/{theirs.id}")

    assert page.status_code == 404
    db.session.refresh(theirs)
    assert theirs.read_at is None


def test_showing_a_notice_marks_it_read(login_as, ctx):
    mine = _notice("spec_a", "Hạn chót của S02")
    client = login_as("spec_a")
    before = notify.unread_count(factories.user("spec_a"))

    page = client.get(f"/inbox/show/{mine.id}")

    assert page.status_code == 200
    assert "Hạn chót của S02" in page.get_data(as_text=True)
    db.session.refresh(mine)
    assert mine.read_at is not None
    assert notify.unread_count(factories.user("spec_a")) == before - 1


def test_mark_read_action_marks_only_my_selected_notices(login_as, ctx):
    first = _notice("spec_a", "Một")
    second = _notice("spec_a", "Hai")
    left = _notice("spec_a", "Ba")
    theirs = _notice("spec_b", "Của người khác")

    page = login_as("spec_a").post(
        "/inbox/action_post",
        data={
            "action": "mark_read",
            "rowid": [str(first.id), str(second.id), str(theirs.id)],
        },
    )

    assert page.status_code == 302
    for notice in (first, second, left, theirs):
        db.session.refresh(notice)
    assert first.read_at is not None
    assert second.read_at is not None
    assert left.read_at is None
    assert theirs.read_at is None


def test_organiser_retries_a_failed_mail(login_as, ctx, mail_on):
    notice = _notice("spec_a", "Gửi lại")
    mail = db.session.execute(
        select(MailMessage).where(MailMessage.notification_id == notice.id)
    ).scalar_one()
    mail.status = MailStatus.FAILED
    mail.attempts = notify.MAX_ATTEMPTS
    mail.last_error = "Connection refused"
    db.session.commit()

    page = login_as("organiser").post(
        "/mail-outbox/action_post",
        data={"action": "retry", "rowid": [str(mail.id)]},
        follow_redirects=True,
    )

    assert page.status_code == 200
    assert "Đã gửi 1 thư; lỗi 0 thư." in flashes(page)
    db.session.refresh(mail)
    assert mail.status == MailStatus.SENT
    assert [rcpt for rcpt, _message in mail_on.messages()] == [["spec_a@dti.invalid"]]


def test_outbox_lists_mail_for_the_organiser(login_as, ctx, mail_on):
    _notice("spec_a", "Thư trong hộp thư đi")

    page = login_as("organiser").get("/mail-outbox/list/")

    assert page.status_code == 200
    assert "Thư trong hộp thư đi" in page.get_data(as_text=True)


def test_specialist_cannot_open_the_mail_outbox(login_as, ctx):
    page = login_as("spec_a").get("/mail-outbox/list/")

    assert page.status_code == 403
