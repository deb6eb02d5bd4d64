"""The phase calendar drives the round: the board, moved deadlines, extensions
and reminders — notices checked in the inbox and in a real SMTP server."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    ActivityLog,
    Notification,
    Phase,
    PhaseExtension,
    PhaseKind,
    SubmissionStatus,
    YearStatus,
)
from app.services import calendar, campaign, clock, reminders, workflow
from app.services.exceptions import DomainError, NotAllowed
from app.services.workflow import AnswerInput
from tests import factories
from tests.conftest import flashes


def _city_phase(year, kind):
    return db.session.execute(
        select(Phase).where(
            Phase.year_id == year.id, Phase.kind == kind, Phase.district_id.is_(None)
        )
    ).scalar_one()


def _notices(username, event):
    return (
        db.session.execute(
            select(Notification).where(
                Notification.user_id == factories.user(username).id,
                Notification.event == event,
            )
        )
        .scalars()
        .all()
    )


# --- The board ---------------------------------------------------------------------


def test_board_shows_the_open_phase_and_the_late_agencies(ctx, clock_at, login_as):
    submission = factories.submission_of("S02")
    phase = _city_phase(submission.year, PhaseKind.SELF_ASSESSMENT)
    clock_at(phase.closes_at + timedelta(hours=1))
    submission.agency.contact_name = "Lê Thị Hoa"

    data = campaign.board(factories.user("organiser"), submission.year)

    rows = {row.kind: row for row in data.phases}
    assert rows[PhaseKind.SELF_ASSESSMENT].state == "closed"
    late = {(item.submission.agency.code, item.kind) for item in data.late}
    assert ("S02", PhaseKind.SELF_ASSESSMENT) in late
    assert rows[PhaseKind.SELF_ASSESSMENT].late == len(
        [item for item in data.late if item.kind == PhaseKind.SELF_ASSESSMENT]
    )
    assert rows[PhaseKind.CONTACT].done >= 1


def test_board_marks_an_extension_and_does_not_count_it_late(ctx, clock_at):
    submission = factories.submission_of("S02")
    phase = _city_phase(submission.year, PhaseKind.SELF_ASSESSMENT)
    db.session.add(
        PhaseExtension(
            year_id=submission.year_id,
            kind=PhaseKind.SELF_ASSESSMENT,
            agency_id=submission.agency_id,
            closes_at=phase.closes_at + timedelta(days=5),
            reason="Thay đổi lãnh đạo",
        )
    )
    db.session.flush()
    clock_at(phase.closes_at + timedelta(hours=1))

    data = campaign.board(factories.user("organiser"), submission.year)

    late = {
        item.submission.agency.code
        for item in data.late
        if item.kind == PhaseKind.SELF_ASSESSMENT
    }
    assert "S02" not in late
    assert [extension.agency.code for extension in data.extensions] == ["S02"]


def test_district_organiser_board_covers_its_communes_only(ctx):
    year = factories.submission_of("916").year

    data = campaign.board(factories.user("district_org"), year)

    counted = sum(data.counts.values())
    assert counted == 4  # the district and its three opened communes
    page_agencies = {item.submission.agency.code for item in data.late}
    assert page_agencies <= {"916", "31117", "31120", "31150"}


def test_board_page_renders(login_as, ctx):
    client = login_as("organiser")

    html = client.get("/campaign/").get_data(as_text=True)

    assert "dti-phases" in html
    assert "Tự đánh giá" in html


# --- Moving a deadline ------------------------------------------------------------


def test_moving_a_deadline_is_logged_enforced_at_once_and_announced(
    ctx, clock_at, app, mail_on
):
    submission = factories.submission_of("S02")
    phase = _city_phase(submission.year, PhaseKind.SELF_ASSESSMENT)
    old_close = phase.closes_at
    new_close = old_close + timedelta(days=7)

    count = calendar.move_phase(
        phase, phase.opens_at, new_close, "Nghỉ lễ kéo dài", factories.user("organiser")
    )

    assert (
        count
        == db.session.execute(
            select(func.count())
            .select_from(factories.agency("S02").__class__)
            .where(factories.agency("S02").__class__.active.is_(True))
        ).scalar()
    )
    entry = db.session.execute(
        select(ActivityLog).where(ActivityLog.action == "phase.moved")
    ).scalar_one()
    assert entry.changes["reason"]["new"] == "Nghỉ lễ kéo dài"
    assert entry.changes["closes_at"]["old"] == old_close.isoformat()

    # The server enforces the new time at once.
    clock_at(old_close + timedelta(days=1))
    answer = next(a for a in submission.answers if a.indicator.rule_type == "ratio")
    result = workflow.save_answers(
        submission,
        factories.user("spec_a"),
        [AnswerInput(answer.id, answer.version, {"a": 1, "b": 2})],
    )
    assert result.saved == [answer.id]

    assert _notices("spec_a", "deadline.moved")
    assert _notices("appr_b", "deadline.moved")
    recipients = {rcpt for rcpts, _msg in mail_on.messages() for rcpt in rcpts}
    assert factories.user("spec_a").email in recipients
    message = next(
        msg
        for rcpts, msg in mail_on.messages()
        if factories.user("spec_a").email in rcpts
    )
    assert new_close.strftime("%d/%m/%Y") in message["Subject"]
    assert "Nghỉ lễ kéo dài" in message.get_content()


def test_a_district_calendar_move_reaches_only_its_communes(ctx):
    commune = factories.submission_of("31117")
    city = _city_phase(commune.year, PhaseKind.SELF_ASSESSMENT)
    own = Phase(
        year_id=commune.year_id,
        kind=PhaseKind.SELF_ASSESSMENT,
        district_id=commune.agency.parent_id,
        opens_at=city.opens_at,
        closes_at=city.closes_at,
    )
    db.session.add(own)
    db.session.flush()

    calendar.move_phase(
        own,
        own.opens_at,
        own.closes_at + timedelta(days=3),
        "Bão lụt",
        factories.user("district_org"),
    )

    assert _notices("spec_commune", "deadline.moved")
    assert not _notices("spec_a", "deadline.moved")
    assert not _notices("spec_other_commune", "deadline.moved") or (
        factories.agency("31150").parent_id == commune.agency.parent_id
    )


@pytest.mark.parametrize(
    ("username", "district", "reason", "error"),
    [
        ("organiser", False, "  ", DomainError),
        ("spec_a", False, "Lý do", NotAllowed),
        ("district_org", False, "Lý do", NotAllowed),
    ],
)
def test_moving_a_deadline_refusals(ctx, username, district, reason, error):
    submission = factories.submission_of("S02")
    phase = _city_phase(submission.year, PhaseKind.SELF_ASSESSMENT)
    closes = phase.closes_at

    with pytest.raises(error):
        calendar.move_phase(
            phase,
            phase.opens_at,
            closes + timedelta(days=1),
            reason,
            factories.user(username),
        )
    assert phase.closes_at == closes


def test_running_round_dates_cannot_change_without_a_reason_in_the_crud_form(
    login_as, ctx
):
    submission = factories.submission_of("S02")
    assert submission.year.status == YearStatus.OPEN
    phase = _city_phase(submission.year, PhaseKind.SELF_ASSESSMENT)
    client = login_as("organiser")

    response = client.post(
        f"/phasemodelview/edit/{phase.id}",
        data={
            "year": str(phase.year_id),
            "kind": str(phase.kind),
            "district": "",
            "opens_at": phase.opens_at.strftime("%d/%m/%Y %H:%M"),
            "closes_at": (phase.closes_at + timedelta(days=2)).strftime(
                "%d/%m/%Y %H:%M"
            ),
            "note": "",
        },
    )

    assert response.status_code == 200
    assert flashes(response)
    db.session.refresh(phase)
    assert (
        phase.closes_at
        == _city_phase(submission.year, PhaseKind.SELF_ASSESSMENT).closes_at
    )


def test_move_page_moves_and_notifies(login_as, ctx):
    submission = factories.submission_of("S02")
    phase = _city_phase(submission.year, PhaseKind.SELF_ASSESSMENT)
    new_close = phase.closes_at + timedelta(days=4)
    client = login_as("organiser")

    response = client.post(
        f"/phasemodelview/move/{phase.id}",
        data={
            "opens_at": phase.opens_at.strftime("%d/%m/%Y %H:%M"),
            "closes_at": new_close.strftime("%d/%m/%Y %H:%M"),
            "reason": "Đề nghị của các đơn vị",
        },
    )

    assert response.status_code == 302
    db.session.refresh(phase)
    assert phase.closes_at == new_close
    assert _notices("spec_b", "deadline.moved")


# --- Extensions ---------------------------------------------------------------------


def test_an_extension_is_told_only_to_its_agency(login_as, ctx, mail_on):
    submission = factories.submission_of("S02")
    phase = _city_phase(submission.year, PhaseKind.SELF_ASSESSMENT)
    late = phase.closes_at + timedelta(days=3)
    client = login_as("organiser")

    response = client.post(
        "/phaseextensionmodelview/add",
        data={
            "year": str(submission.year_id),
            "agency": str(submission.agency_id),
            "kind": str(int(PhaseKind.SELF_ASSESSMENT)),
            "closes_at": late.strftime("%d/%m/%Y %H:%M"),
            "reason": "Cán bộ đầu mối nghỉ ốm",
        },
    )

    assert response.status_code == 302
    window = calendar.window(
        submission.year, PhaseKind.SELF_ASSESSMENT, submission.agency
    )
    assert window.deadline == late
    assert _notices("spec_a", "extension.granted")
    assert not _notices("spec_b", "extension.granted")
    recipients = {rcpt for rcpts, _msg in mail_on.messages() for rcpt in rcpts}
    assert factories.user("spec_a").email in recipients
    assert factories.user("spec_b").email not in recipients


@pytest.mark.parametrize(
    ("delta", "reason", "message"),
    [
        (timedelta(days=-1), "Lý do", "sau thời điểm kết thúc"),
        (timedelta(days=2), "", "lý do"),
    ],
)
def test_extension_refusals(ctx, delta, reason, message):
    submission = factories.submission_of("S02")
    phase = _city_phase(submission.year, PhaseKind.SELF_ASSESSMENT)
    extension = PhaseExtension(
        year=submission.year,
        kind=PhaseKind.SELF_ASSESSMENT,
        agency=submission.agency,
        closes_at=phase.closes_at + delta,
        reason=reason,
    )

    with pytest.raises(DomainError) as raised:
        calendar.check_extension(extension, factories.user("organiser"))

    assert message in str(raised.value.message).lower()


# --- Reminders ----------------------------------------------------------------------


def test_remind_reaches_those_with_work_left_and_says_the_days_left(
    ctx, clock_at, mail_on, app
):
    year = factories.submission_of("S02").year
    phase = _city_phase(year, PhaseKind.SELF_ASSESSMENT)
    clock_at(phase.closes_at - timedelta(days=2, hours=3))
    done = factories.submission_of("S06")
    done.status = SubmissionStatus.APPROVED
    waiting = factories.submission_of("916")
    waiting.status = SubmissionStatus.SUBMITTED
    db.session.flush()

    result = app.test_cli_runner().invoke(args=["dti", "remind"])

    assert result.exit_code == 0, result.output
    specialist = _notices("spec_a", "reminder.self_assessment")
    assert len(specialist) == 1
    assert "3" in specialist[0].subject
    assert not _notices("spec_b", "reminder.self_assessment")
    assert not _notices("appr_b", "reminder.self_assessment")
    assert not _notices("spec_district", "reminder.self_assessment")
    recipients = {rcpt for rcpts, _msg in mail_on.messages() for rcpt in rcpts}
    assert factories.user("spec_a").email in recipients
    assert factories.user("spec_b").email not in recipients


def test_remind_outside_any_open_phase_sends_nothing(ctx, clock_at):
    year = factories.submission_of("S02").year
    phase = _city_phase(year, PhaseKind.SELF_ASSESSMENT)
    clock_at(phase.opens_at - timedelta(days=1))

    sent = reminders.remind(year)

    assert sent == 0


def test_days_left_counts_a_part_day_as_a_day():
    now = clock.now()

    assert reminders.days_left(now + timedelta(hours=1), now) == 1
    assert reminders.days_left(now + timedelta(days=2, minutes=1), now) == 3
    assert reminders.days_left(now - timedelta(days=1), now) == 0
