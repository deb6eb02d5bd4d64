"""Appraisal round 1, explanations, round 2, finalisation, and districts running
their communes' round — each rule with its refusal, then full cycles."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    ActivityLog,
    IndicatorKind,
    Notification,
    PhaseKind,
    SubmissionStatus,
    Verdict,
)
from app.services import appraisal, calendar, workflow
from app.services.appraisal import VerdictInput
from app.services.exceptions import DomainError, NotAllowed
from tests import factories
from tests.test_selfassessment import fill_completely


def _components(submission):
    return sorted(
        (a for a in submission.answers if a.indicator.kind == IndicatorKind.COMPONENT),
        key=lambda answer: answer.indicator.position,
    )


def _during(submission, kind, clock_at):
    window = calendar.window(submission.year, kind, submission.agency)
    clock_at(window.opens_at + timedelta(hours=1))
    return window


def approved_dossier(code, specialist, approver):
    """Return an agency's dossier filled, submitted and approved."""
    submission = factories.submission_of(code)
    fill_completely(submission, factories.user(specialist))
    workflow.submit(submission, factories.user(specialist))
    workflow.approve(submission, factories.user(approver))
    return submission


def _scored(submission):
    return next(a for a in _components(submission) if a.self_score and a.self_score > 1)


# --- Round 1 -----------------------------------------------------------------


def test_appraiser_board_lists_its_fields_and_not_its_own_agency(
    login_as, ctx, clock_at
):
    other = approved_dossier("S06", "spec_b", "appr_b")
    _during(other, PhaseKind.APPRAISAL_1, clock_at)
    db.session.commit()

    rows = (
        db.session.execute(appraisal.board_query(factories.user("appraiser_nt"), 1))
        .scalars()
        .all()
    )

    assert rows
    assert {row.indicator.field.code for row in rows} <= {"NT", "HT", "AT"}
    assert {row.submission.agency.code for row in rows} == {"S06"}
    client = login_as("appraiser_nt")
    html = client.get("/appraisal/").get_data(as_text=True)
    assert rows[0].indicator.name[:30] in html


def test_no_self_appraisal(ctx, clock_at):
    submission = approved_dossier("S02", "spec_a", "appr_a")
    _during(submission, PhaseKind.APPRAISAL_1, clock_at)
    answer = next(
        a
        for a in _components(submission)
        if a.indicator.field and a.indicator.field.code == "NL"
    )

    with pytest.raises(NotAllowed, match="S02|Nội vụ"):
        appraisal.record_verdict(
            answer, factories.user("appraiser_nl"), VerdictInput("agree")
        )

    rows = db.session.execute(appraisal.board_query(factories.user("appraiser_nl"), 1))
    assert all(row.submission_id != submission.id for row in rows.scalars())


def test_appraiser_outside_its_fields_is_refused(ctx, clock_at):
    submission = approved_dossier("S06", "spec_b", "appr_b")
    _during(submission, PhaseKind.APPRAISAL_1, clock_at)
    answer = next(
        a
        for a in _components(submission)
        if a.indicator.field and a.indicator.field.code == "KT"
    )

    with pytest.raises(NotAllowed):
        appraisal.record_verdict(
            answer, factories.user("appraiser_nt"), VerdictInput("agree")
        )


def test_verdicts_only_inside_the_appraisal_window(ctx, clock_at):
    submission = approved_dossier("S06", "spec_b", "appr_b")
    window = calendar.window(submission.year, PhaseKind.APPRAISAL_1, submission.agency)
    answer = _components(submission)[0]

    clock_at(window.opens_at - timedelta(minutes=5))
    with pytest.raises(NotAllowed, match=window.opens_at.strftime("%d/%m/%Y")):
        appraisal.record_verdict(
            answer, factories.user("organiser"), VerdictInput("agree")
        )

    clock_at(window.closes_at + timedelta(minutes=5))
    with pytest.raises(NotAllowed, match=window.closes_at.strftime("%d/%m/%Y")):
        appraisal.record_verdict(
            answer, factories.user("organiser"), VerdictInput("agree")
        )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (VerdictInput("adjust", "", "x"), "Nhập điểm"),
        (VerdictInput("adjust", "-1", "x"), "từ 0 đến"),
        (VerdictInput("adjust", "9999", "x"), "từ 0 đến"),
        (VerdictInput("adjust", "0", ""), "ghi chú"),
        (VerdictInput("maybe"), "Đồng ý"),
    ],
)
def test_bad_verdicts_are_refused_with_a_message(ctx, clock_at, entry, message):
    submission = approved_dossier("S06", "spec_b", "appr_b")
    _during(submission, PhaseKind.APPRAISAL_1, clock_at)
    answer = _scored(submission)

    with pytest.raises(DomainError) as raised:
        appraisal.record_verdict(answer, factories.user("organiser"), entry)

    assert message.lower() in str(raised.value.message).lower()
    assert appraisal.note_of(answer, 1) is None


def test_a_cut_needs_a_note_and_the_verdict_is_logged(ctx, clock_at):
    submission = approved_dossier("S06", "spec_b", "appr_b")
    _during(submission, PhaseKind.APPRAISAL_1, clock_at)
    answer = _scored(submission)

    appraisal.record_verdict(
        answer,
        factories.user("organiser"),
        VerdictInput("adjust", "1", "Thiếu văn bản"),
    )

    assert submission.status == SubmissionStatus.APPRAISAL_1
    assert answer.round1_score == Decimal("1.00")
    entry = db.session.execute(
        select(ActivityLog).where(ActivityLog.action == "appraisal.round1")
    ).scalar_one()
    assert entry.changes["score"]["new"] == "1"
    assert entry.changes["comment"]["new"] == "Thiếu văn bản"


# --- The whole cycle -----------------------------------------------------------------


def test_full_cycle_of_a_department(ctx, clock_at, login_as):
    submission = approved_dossier("S06", "spec_b", "appr_b")
    organiser = factories.user("organiser")
    components = _components(submission)
    cut, kept = _scored(submission), None

    # Round 1: every component gets a verdict; the last one closes the round.
    _during(submission, PhaseKind.APPRAISAL_1, clock_at)
    for answer in components:
        if answer is cut:
            entry = VerdictInput("adjust", "1", "Chưa có quyết định kiện toàn")
        else:
            entry = VerdictInput("agree")
        appraisal.record_verdict(answer, organiser, entry)
    assert submission.status == SubmissionStatus.EXPLANATION
    notices = (
        db.session.execute(
            select(Notification.event).where(
                Notification.user_id == factories.user("spec_b").id
            )
        )
        .scalars()
        .all()
    )
    assert "appraisal.round1_ready" in notices
    assert "explanation.due" in notices

    # Explanation: the specialist answers the cut, the approver signs off.
    _during(submission, PhaseKind.EXPLANATION, clock_at)
    note = appraisal.note_of(cut, 1)
    with pytest.raises(NotAllowed):
        appraisal.reply(note, factories.user("appr_b"), "Không phải chuyên viên")
    appraisal.reply(
        note, factories.user("spec_b"), "Quyết định số 15/QĐ-SCT đã ban hành"
    )
    appraisal.sign_off(submission, factories.user("appr_b"))
    assert submission.status == SubmissionStatus.APPRAISAL_2
    assert note.reply_approved_by.username == "appr_b"

    # Round 2: only the disputed component is on the board.
    _during(submission, PhaseKind.APPRAISAL_2, clock_at)
    board = db.session.execute(appraisal.board_query(organiser, 2)).scalars().all()
    assert [answer.id for answer in board if answer.submission_id == submission.id] == [
        cut.id
    ]
    kept = next(answer for answer in components if answer is not cut)
    with pytest.raises(NotAllowed):
        appraisal.record_verdict(kept, organiser, VerdictInput("agree"))
    with pytest.raises(NotAllowed):
        appraisal.finalise(submission, organiser)
    appraisal.record_verdict(
        cut, organiser, VerdictInput("adjust", "2", "Chấp nhận một phần")
    )

    # Finalisation: round 2 where disputed, round 1 elsewhere.
    appraisal.finalise(submission, organiser)
    assert submission.status == SubmissionStatus.FINALISED
    assert cut.final_score == Decimal("2.00")
    assert kept.final_score == kept.round1_score == kept.self_score
    expected = sum(answer.final_score or 0 for answer in components)
    assert submission.final_score == expected

    # A finalised dossier changes only through a logged reopening.
    with pytest.raises(NotAllowed):
        appraisal.record_verdict(cut, organiser, VerdictInput("agree"))
    with pytest.raises(DomainError):
        appraisal.reopen(submission, organiser, "")
    appraisal.reopen(submission, organiser, "Sai sót khi nhập điểm vòng 2")
    assert submission.status == SubmissionStatus.APPRAISAL_2
    assert submission.final_score is None
    reopened = (
        db.session.execute(
            select(ActivityLog.changes)
            .where(ActivityLog.action == "submission.moved")
            .order_by(ActivityLog.id.desc())
        )
        .scalars()
        .first()
    )
    assert reopened["reason"]["new"] == "Sai sót khi nhập điểm vòng 2"

    client = login_as("organiser")
    assert client.get(f"/appraisal/submission/{submission.id}").status_code == 200


def test_components_without_cuts_need_no_explanation(ctx, clock_at):
    submission = approved_dossier("S06", "spec_b", "appr_b")
    _during(submission, PhaseKind.APPRAISAL_1, clock_at)
    for answer in _components(submission):
        appraisal.record_verdict(
            answer, factories.user("organiser"), VerdictInput("agree")
        )
    note = appraisal.note_of(_components(submission)[0], 1)
    _during(submission, PhaseKind.EXPLANATION, clock_at)

    with pytest.raises(DomainError):
        appraisal.reply(note, factories.user("spec_b"), "Không cần")

    appraisal.sign_off(submission, factories.user("appr_b"))
    assert appraisal.round2_complete(submission)


def test_full_cycle_of_a_commune_run_by_its_district(ctx, clock_at, login_as):
    submission = approved_dossier("31117", "spec_commune", "appr_commune")
    district_appraiser = factories.user("appraiser_district")

    # The district keeps its own calendar for its communes.
    from app.models import Phase

    city = calendar.window(submission.year, PhaseKind.APPRAISAL_1, submission.agency)
    db.session.add(
        Phase(
            year_id=submission.year_id,
            kind=PhaseKind.APPRAISAL_1,
            district_id=submission.agency.parent_id,
            opens_at=city.opens_at - timedelta(days=3),
            closes_at=city.closes_at,
        )
    )
    db.session.flush()
    clock_at(city.opens_at - timedelta(days=2))

    # City field appraisers do not appraise communes; the district's do, all fields.
    assert (
        not db.session.execute(appraisal.board_query(factories.user("appraiser_nt"), 1))
        .scalars()
        .all()
    )
    components = _components(submission)
    cut = _scored(submission)
    for answer in components:
        entry = (
            VerdictInput("adjust", "0", "Không có minh chứng")
            if answer is cut
            else VerdictInput("agree")
        )
        appraisal.record_verdict(answer, district_appraiser, entry)
    assert submission.status == SubmissionStatus.EXPLANATION

    _during(submission, PhaseKind.EXPLANATION, clock_at)
    appraisal.reply(
        appraisal.note_of(cut, 1), factories.user("spec_commune"), "Đã bổ sung"
    )
    appraisal.sign_off(submission, factories.user("appr_commune"))
    _during(submission, PhaseKind.APPRAISAL_2, clock_at)
    appraisal.record_verdict(cut, district_appraiser, VerdictInput("agree"))

    # The city's organiser does not finalise a commune; its district does.
    with pytest.raises(NotAllowed):
        appraisal.finalise(submission, factories.user("organiser"))
    appraisal.finalise(submission, factories.user("district_org"))
    assert submission.status == SubmissionStatus.FINALISED
    assert cut.final_score == Decimal("0.00")

    client = login_as("district_org")
    assert client.get(f"/appraisal/submission/{submission.id}").status_code == 200
    other = factories.submission_of("31120")
    assert client.get(f"/appraisal/submission/{other.id}").status_code == 200
    far = factories.submission_of("917")
    assert client.get(f"/appraisal/submission/{far.id}").status_code == 404
    outside = factories.submission_of("S06")
    assert client.get(f"/appraisal/submission/{outside.id}").status_code == 404


# --- Screens ----------------------------------------------------------------


def test_verdict_page_saves_and_refusal_keeps_the_input(login_as, ctx, clock_at):
    submission = approved_dossier("S06", "spec_b", "appr_b")
    _during(submission, PhaseKind.APPRAISAL_1, clock_at)
    answer = _scored(submission)
    db.session.commit()
    client = login_as("organiser")

    refused = client.post(
        f"/appraisal/answer/{answer.id}",
        data={"verdict": "adjust", "score": "0", "comment": ""},
    )
    assert refused.status_code == 200
    assert 'value="0"' in refused.get_data(as_text=True)
    assert appraisal.note_of(answer, 1) is None

    saved = client.post(
        f"/appraisal/answer/{answer.id}",
        data={"verdict": "adjust", "score": "0", "comment": "Thiếu minh chứng"},
    )
    assert saved.status_code == 302
    db.session.refresh(answer)
    assert appraisal.note_of(answer, 1).verdict == Verdict.ADJUST


def test_explanation_page_lets_the_specialist_answer(login_as, ctx, clock_at):
    submission = approved_dossier("S06", "spec_b", "appr_b")
    _during(submission, PhaseKind.APPRAISAL_1, clock_at)
    cut = _scored(submission)
    for answer in _components(submission):
        entry = (
            VerdictInput("adjust", "0", "Thiếu")
            if answer is cut
            else VerdictInput("agree")
        )
        appraisal.record_verdict(answer, factories.user("organiser"), entry)
    _during(submission, PhaseKind.EXPLANATION, clock_at)
    note = appraisal.note_of(cut, 1)
    db.session.commit()
    client = login_as("spec_b")

    page = client.get(f"/explanation/{submission.id}").get_data(as_text=True)
    client.post(
        f"/explanation/{submission.id}/reply/{note.id}", data={"reply": "Đã có văn bản"}
    )

    assert "Thiếu" in page
    db.session.refresh(note)
    assert note.reply_text == "Đã có văn bản"
    assert login_as("spec_a").get(f"/explanation/{submission.id}").status_code == 404


def test_explaining_a_cut_can_add_evidence(login_as, ctx, clock_at):
    import io

    submission = approved_dossier("S06", "spec_b", "appr_b")
    _during(submission, PhaseKind.APPRAISAL_1, clock_at)
    cut = _scored(submission)
    for answer in _components(submission):
        entry = (
            VerdictInput("adjust", "0", "Thiếu")
            if answer is cut
            else VerdictInput("agree")
        )
        appraisal.record_verdict(answer, factories.user("organiser"), entry)
    _during(submission, PhaseKind.EXPLANATION, clock_at)
    note = appraisal.note_of(cut, 1)
    db.session.commit()
    client = login_as("spec_b")

    client.post(
        f"/explanation/{submission.id}/evidence/{note.id}",
        data={
            "evidence-file": (io.BytesIO(factories.make_pdf()), "quyet-dinh.pdf"),
            "evidence-doc_type": "decision",
        },
        content_type="multipart/form-data",
    )

    db.session.refresh(cut)
    assert [item.original_filename for item in cut.evidence][-1] == "quyet-dinh.pdf"
    page = (
        login_as("organiser").get(f"/appraisal/answer/{cut.id}").get_data(as_text=True)
    )
    assert "quyet-dinh.pdf" in page
