"""The self-assessment screen and the unit approver's sign-off, end to end."""

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    ActivityLog,
    Answer,
    PhaseExtension,
    PhaseKind,
    Submission,
    SubmissionStatus,
)
from app.services import calendar, seeding, workflow
from app.services.exceptions import DomainError, NotAllowed
from app.services.workflow import AnswerInput
from tests import factories
from tests.conftest import flashes


def _answer(submission, rule):
    return next(a for a in submission.answers if a.indicator.rule_type == rule)


def _pillar_of(answer):
    return answer.indicator.parent.parent.code


def _self_window(submission):
    return calendar.window(
        submission.year, PhaseKind.SELF_ASSESSMENT, submission.agency
    )


def fill_completely(submission, user):
    """Answer every component with figures the rules accept, and explain each."""
    chance = seeding.random.Random(submission.id)
    entries = []
    for answer in submission.answers:
        figures = seeding.demo_figures(answer.indicator, chance)
        if answer.indicator.rule_type == "ratio":
            figures = {"a": 3, "b": 4}
        entries.append(
            AnswerInput(
                answer.id,
                answer.version,
                figures,
                explanation="Số liệu theo báo cáo năm của đơn vị.",
            )
        )
    result = workflow.save_answers(submission, user, entries)
    assert result.ok, (result.errors, result.conflicts)


# --- The page ------------------------------------------------------------------


def test_specialist_lands_on_its_own_dossier(login_as, ctx):
    client = login_as("spec_a")

    response = client.get("/self-assessment/")

    own = factories.submission_of("S02")
    assert response.headers["Location"].endswith(f"/self-assessment/{own.id}")
    html = client.get(f"/self-assessment/{own.id}").get_data(as_text=True)
    assert "Sở Nội vụ" in html
    assert html.count('class="dti-component') > 5


def test_other_agency_dossier_is_not_found(login_as, ctx):
    client = login_as("spec_a")
    other = factories.submission_of("S06")

    assert client.get(f"/self-assessment/{other.id}").status_code == 404
    assert client.post(f"/self-assessment/{other.id}", data={}).status_code == 404
    assert client.post(f"/self-assessment/{other.id}/submit").status_code == 404


def test_each_component_shows_the_inputs_its_rule_needs(login_as, ctx):
    submission = factories.submission_of("916")
    client = login_as("spec_district")
    seen = {}
    for pillar in ("I", "II", "III"):
        html = client.get(f"/self-assessment/{submission.id}?pillar={pillar}").get_data(
            as_text=True
        )
        for answer in submission.answers:
            rule = answer.indicator.rule_type
            if f'id="c{answer.id}"' in html:
                seen.setdefault(rule, answer)

    html = "".join(
        client.get(
            f"/self-assessment/{submission.id}?pillar={_pillar_of(answer)}"
        ).get_data(as_text=True)
        for answer in seen.values()
    )
    expected = {
        "yes_no": "_value",
        "choice": "_choice",
        "count": "_count",
        "ratio": "_b",
        "parts": "_parts",
        "relative": "_value",
        "manual": "_points",
    }
    for rule, suffix in expected.items():
        answer = seen[rule]
        assert f'name="a{answer.id}{suffix}"' in html, rule


# --- Saving ------------------------------------------------------------------------


def _ratio_form(answer, a, b, version=None, explanation=""):
    return {
        "pillar": _pillar_of(answer),
        "answer_ids": [str(answer.id)],
        f"a{answer.id}_version": str(answer.version if version is None else version),
        f"a{answer.id}_a": a,
        f"a{answer.id}_b": b,
        f"a{answer.id}_explanation": explanation,
    }


def test_saving_computes_the_score_and_logs_old_and_new(login_as, ctx):
    submission = factories.submission_of("S02")
    answer = _answer(submission, "ratio")
    client = login_as("spec_a")

    response = client.post(
        f"/self-assessment/{submission.id}", data=_ratio_form(answer, "3", "4")
    )

    assert response.status_code == 302
    db.session.refresh(answer)
    assert answer.figures == {"a": 3, "b": 4}
    assert float(answer.self_score) == float(answer.indicator.max_points) * 0.75
    entry = db.session.execute(
        select(ActivityLog).where(ActivityLog.action == "answer.updated")
    ).scalar_one()
    assert entry.changes["figures"] == {"old": None, "new": {"a": 3, "b": 4}}
    assert entry.username == "spec_a"
    db.session.refresh(submission)
    assert submission.self_score == answer.self_score


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ("3", "0", "mẫu số b bằng 0"),
        ("5", "4", "không được lớn hơn"),
        ("ba", "4", "phải là số"),
        ("3", "", "mẫu số b"),
    ],
)
def test_refused_figures_keep_what_was_typed_and_say_why(login_as, ctx, a, b, message):
    submission = factories.submission_of("S02")
    answer = _answer(submission, "ratio")
    client = login_as("spec_a")

    response = client.post(
        f"/self-assessment/{submission.id}", data=_ratio_form(answer, a, b)
    )

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    block = html[html.index(f'id="c{answer.id}"') :][:6000]
    assert message in block.lower()
    assert f'name="a{answer.id}_a" value="{a}"' in block
    db.session.refresh(answer)
    assert answer.figures is None


def test_one_bad_component_does_not_stop_the_others(login_as, ctx):
    submission = factories.submission_of("S02")
    ratio = _answer(submission, "ratio")
    count = next(
        a
        for a in submission.answers
        if a.indicator.rule_type == "count" and _pillar_of(a) == _pillar_of(ratio)
    )
    form = _ratio_form(ratio, "5", "4")
    form["answer_ids"].append(str(count.id))
    form[f"a{count.id}_version"] = str(count.version)
    form[f"a{count.id}_count"] = "3"
    client = login_as("spec_a")

    response = client.post(f"/self-assessment/{submission.id}", data=form)

    assert response.status_code == 409
    db.session.refresh(count)
    db.session.refresh(ratio)
    assert count.figures == {"count": 3}
    assert ratio.figures is None


def test_save_one_component_leaves_the_others_alone(login_as, ctx):
    submission = factories.submission_of("S02")
    ratio = _answer(submission, "ratio")
    form = _ratio_form(ratio, "1", "2")
    other = next(a for a in submission.answers if a.id != ratio.id)
    form["answer_ids"].append(str(other.id))
    form[f"a{other.id}_version"] = str(other.version)
    form[f"a{other.id}_explanation"] = "Không được lưu"
    form["only"] = str(ratio.id)
    client = login_as("spec_a")

    client.post(f"/self-assessment/{submission.id}", data=form)

    db.session.refresh(ratio)
    db.session.refresh(other)
    assert ratio.figures == {"a": 1, "b": 2}
    assert other.explanation is None


def test_second_person_saving_the_same_component_is_told_and_shown_the_new_value(
    login_as, ctx
):
    submission = factories.submission_of("S02")
    answer = _answer(submission, "ratio")
    loaded_version = answer.version
    workflow.save_answers(
        submission,
        factories.user("organiser"),
        [AnswerInput(answer.id, loaded_version, {"a": 1, "b": 4})],
    )
    client = login_as("spec_a")

    response = client.post(
        f"/self-assessment/{submission.id}",
        data=_ratio_form(answer, "3", "4", version=loaded_version),
    )

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "dti-conflict" in html
    assert any("người khác" in message for message in flashes(response))
    db.session.refresh(answer)
    assert answer.figures == {"a": 1, "b": 4}
    block = html[html.index(f'id="c{answer.id}"') :][:6000]
    assert f'name="a{answer.id}_a" value="3"' in block


def test_saving_after_the_deadline_is_refused_with_the_deadline(
    login_as, ctx, clock_at
):
    submission = factories.submission_of("S02")
    answer = _answer(submission, "ratio")
    deadline = _self_window(submission).deadline
    clock_at(deadline + timedelta(minutes=1))
    client = login_as("spec_a")

    response = client.post(
        f"/self-assessment/{submission.id}", data=_ratio_form(answer, "3", "4")
    )

    assert response.status_code == 409
    assert any(deadline.strftime("%d/%m/%Y %H:%M") in m for m in flashes(response))
    db.session.refresh(answer)
    assert answer.figures is None


def test_an_extension_lets_one_agency_work_after_the_deadline(ctx, clock_at):
    submission = factories.submission_of("S02")
    late = _self_window(submission).deadline + timedelta(days=1)
    db.session.add(
        PhaseExtension(
            year_id=submission.year_id,
            kind=PhaseKind.SELF_ASSESSMENT,
            agency_id=submission.agency_id,
            closes_at=late + timedelta(days=2),
            reason="Cán bộ đầu mối nghỉ ốm",
        )
    )
    db.session.flush()
    clock_at(late)
    answer = _answer(submission, "ratio")

    result = workflow.save_answers(
        submission,
        factories.user("spec_a"),
        [AnswerInput(answer.id, answer.version, {"a": 1, "b": 1})],
    )

    assert result.saved == [answer.id]
    other = factories.submission_of("S06")
    with pytest.raises(NotAllowed):
        workflow.save_answers(other, factories.user("spec_b"), [])


def test_communes_follow_their_district_calendar(ctx, clock_at):
    commune = factories.submission_of("31117")
    city = _self_window(commune)
    from app.models import Phase

    db.session.add(
        Phase(
            year_id=commune.year_id,
            kind=PhaseKind.SELF_ASSESSMENT,
            district_id=commune.agency.parent_id,
            opens_at=city.opens_at,
            closes_at=city.closes_at + timedelta(days=10),
        )
    )
    db.session.flush()

    assert _self_window(commune).deadline == city.closes_at + timedelta(days=10)
    other_district = factories.submission_of("917")
    assert _self_window(other_district).deadline == city.closes_at


def test_concurrent_writes_in_the_database_are_caught(ctx):
    submission = factories.submission_of("S02")
    answer = _answer(submission, "ratio")
    db.session.execute(
        Answer.__table__.update()
        .where(Answer.id == answer.id)
        .values(version=Answer.version + 1)
    )

    with pytest.raises(DomainError):
        workflow.save_answers(
            submission,
            factories.user("spec_a"),
            [AnswerInput(answer.id, None, {"a": 1, "b": 2})],
        )


# --- Submission and sign-off ----------------------------------------------------------


def test_incomplete_dossier_cannot_be_submitted_and_the_screen_lists_what_is_missing(
    login_as, ctx
):
    submission = factories.submission_of("S02")
    client = login_as("spec_a")

    page = client.get(f"/self-assessment/{submission.id}").get_data(as_text=True)
    response = client.post(
        f"/self-assessment/{submission.id}/submit", follow_redirects=True
    )

    assert "dti-missing" in page
    assert any("chưa hoàn thành" in m or "chưa có" in m for m in flashes(response))
    db.session.refresh(submission)
    assert submission.status == SubmissionStatus.DRAFT


def test_scored_component_needing_evidence_needs_a_file_or_an_explanation(ctx):
    submission = factories.submission_of("S02")
    fill_completely(submission, factories.user("spec_a"))
    answer = next(
        a
        for a in submission.answers
        if a.indicator.evidence_required and a.self_score and a.self_score > 0
    )
    workflow.save_answers(
        submission,
        factories.user("spec_a"),
        [AnswerInput(answer.id, answer.version, answer.figures, explanation="")],
    )

    missing = workflow.missing_items(submission)

    assert [item.answer.id for item in missing] == [answer.id]
    assert answer.indicator.code in missing[0].message


def test_full_workflow_draft_submit_return_fix_submit_approve(login_as, ctx):
    submission = factories.submission_of("S02")
    fill_completely(submission, factories.user("spec_a"))
    db.session.commit()
    specialist = login_as("spec_a")

    specialist.post(f"/self-assessment/{submission.id}/submit")
    db.session.refresh(submission)
    assert submission.status == SubmissionStatus.SUBMITTED
    answer = _answer(submission, "ratio")
    refused = specialist.post(
        f"/self-assessment/{submission.id}", data=_ratio_form(answer, "1", "4")
    )
    assert refused.status_code == 409

    approver = login_as("appr_a")
    approver.post(
        f"/self-assessment/{submission.id}/return",
        data={"return-reason": "Bổ sung tài liệu chỉ số 2.1"},
    )
    db.session.refresh(submission)
    assert submission.status == SubmissionStatus.RETURNED

    specialist = login_as("spec_a")
    html = specialist.get(f"/self-assessment/{submission.id}").get_data(as_text=True)
    assert "Bổ sung tài liệu chỉ số 2.1" in html
    saved = specialist.post(
        f"/self-assessment/{submission.id}",
        data=_ratio_form(answer, "2", "4", explanation="Đã bổ sung."),
    )
    assert saved.status_code == 302
    specialist.post(f"/self-assessment/{submission.id}/submit")

    approver = login_as("appr_a")
    approver.post(f"/self-assessment/{submission.id}/approve")
    db.session.refresh(submission)
    assert submission.status == SubmissionStatus.APPROVED
    assert submission.approved_by.username == "appr_a"

    actions = db.session.execute(
        select(ActivityLog.action, ActivityLog.username, ActivityLog.changes)
        .where(
            ActivityLog.target_type == "submission",
            ActivityLog.target_id == submission.id,
        )
        .order_by(ActivityLog.id)
    ).all()
    assert [(action, user) for action, user, _c in actions] == [
        ("submission.submitted", "spec_a"),
        ("submission.returned", "appr_a"),
        ("submission.submitted", "spec_a"),
        ("submission.approved", "appr_a"),
    ]
    assert actions[1][2]["reason"]["new"] == "Bổ sung tài liệu chỉ số 2.1"


@pytest.mark.parametrize(
    ("status", "action", "username"),
    [
        (SubmissionStatus.DRAFT, workflow.approve, "appr_a"),
        (SubmissionStatus.APPROVED, workflow.submit, "spec_a"),
        (SubmissionStatus.APPROVED, workflow.approve, "appr_a"),
        (SubmissionStatus.SUBMITTED, workflow.submit, "spec_a"),
        (SubmissionStatus.SUBMITTED, workflow.approve, "spec_a"),
        (SubmissionStatus.SUBMITTED, workflow.approve, "appr_b"),
        (SubmissionStatus.DRAFT, workflow.submit, "appr_a"),
    ],
)
def test_impossible_transitions_are_refused(ctx, status, action, username):
    submission = factories.submission_of("S02")
    submission.status = status
    db.session.flush()

    with pytest.raises(DomainError):
        action(submission, factories.user(username))

    assert submission.status == status


def test_editing_an_approved_submission_is_refused(ctx):
    submission = factories.submission_of("S02")
    submission.status = SubmissionStatus.APPROVED
    answer = _answer(submission, "ratio")

    with pytest.raises(NotAllowed):
        workflow.save_answers(
            submission,
            factories.user("spec_a"),
            [AnswerInput(answer.id, answer.version, {"a": 1, "b": 1})],
        )


def test_returning_needs_a_reason(ctx):
    submission = factories.submission_of("S02")
    submission.status = SubmissionStatus.SUBMITTED

    with pytest.raises(DomainError):
        workflow.return_to_agency(submission, factories.user("appr_a"), "   ")


def test_approver_sees_the_dossier_read_only(login_as, ctx):
    submission = factories.submission_of("S02")
    submission.status = SubmissionStatus.SUBMITTED
    db.session.commit()
    client = login_as("appr_a")

    html = client.get(f"/self-assessment/{submission.id}").get_data(as_text=True)

    assert "dti-save-one" not in html
    assert re.search(r"<input[^>]+disabled", html)
    assert "/approve" in html
    assert "/return" in html


def test_specialist_cannot_approve(login_as, ctx):
    submission = factories.submission_of("S02")
    submission.status = SubmissionStatus.SUBMITTED
    db.session.commit()
    client = login_as("spec_a")

    response = client.post(f"/self-assessment/{submission.id}/approve")

    assert response.status_code == 403
    db.session.refresh(submission)
    assert submission.status == SubmissionStatus.SUBMITTED


# --- Evidence through the screen ----------------------------------------------


def test_upload_checks_the_pdf_links_it_and_the_owner_can_read_it(login_as, ctx):
    submission = factories.submission_of("S02")
    answer = _answer(submission, "ratio")
    client = login_as("spec_a")

    response = client.post(
        f"/self-assessment/{submission.id}/evidence",
        data={
            "evidence-file": (io.BytesIO(factories.make_pdf(2)), "Kế hoạch 12.pdf"),
            "evidence-doc_type": "plan",
            "evidence-doc_number": "12/KH-SNV",
            "evidence-doc_date": "15/03/2026",
            "evidence-issuer": "Sở Nội vụ",
            "evidence-summary": "Kế hoạch chuyển đổi số năm",
            "evidence-answers": [str(answer.id)],
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    db.session.expire_all()
    item = db.session.get(Submission, submission.id).evidence[0]
    assert item.original_filename == "Kế hoạch 12.pdf"
    assert item.page_count == 2
    assert item.kind == "scan"
    assert item.doc_date.strftime("%d/%m/%Y") == "15/03/2026"
    assert [linked.id for linked in item.answers] == [answer.id]

    download = client.get(f"/self-assessment/evidence/{item.id}")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.get_data()[:5] == b"%PDF-"
    download.close()

    other = login_as("spec_b")
    assert other.get(f"/self-assessment/evidence/{item.id}").status_code == 404


def test_a_text_file_named_pdf_is_refused_and_nothing_is_stored(login_as, ctx, app):
    submission = factories.submission_of("S02")
    client = login_as("spec_a")

    response = client.post(
        f"/self-assessment/{submission.id}/evidence",
        data={
            "evidence-file": (io.BytesIO(b"day khong phai PDF"), "bao-cao.pdf"),
            "evidence-doc_type": "report",
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )

    assert any("không phải" in message for message in flashes(response))
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).evidence == []


def test_appraiser_reads_evidence_of_an_approved_dossier_in_its_field(ctx, login_as):
    from app.services import evidence

    submission = factories.submission_of("S06")
    answer = next(
        a
        for a in submission.answers
        if a.indicator.field and a.indicator.field.code == "NT"
    )
    item = evidence.add_evidence(
        submission,
        factories.make_pdf(),
        "bc.pdf",
        factories.user("spec_b"),
        doc_type="report",
        doc_number=None,
        doc_date=None,
        issuer=None,
        summary=None,
        answers=[answer],
    )
    db.session.commit()
    appraiser = login_as("appraiser_nt")
    assert appraiser.get(f"/self-assessment/evidence/{item.id}").status_code == 404

    submission.status = SubmissionStatus.APPROVED
    db.session.commit()
    allowed = appraiser.get(f"/self-assessment/evidence/{item.id}")
    assert allowed.status_code == 200
    allowed.close()
    assert (
        login_as("appraiser_nl").get(f"/self-assessment/evidence/{item.id}").status_code
        == 404
    )
