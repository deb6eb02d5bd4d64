"""The demo's finished 2022 round: appraised, explained, finalised, published.

Built straight from the data, dated inside the 2022 calendar, so a new user
sees real rankings, charts and exports on the first run. Figures are drawn
from a fixed seed, so every run builds the same round.
"""

import logging
import random
from datetime import timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import (
    Agency,
    AppraisalNote,
    IndicatorKind,
    PhaseKind,
    Submission,
    SubmissionStatus,
    Verdict,
)
from . import answers, results, seeding

logger = logging.getLogger(__name__)

CUT_NOTES = [
    "Chưa có văn bản chứng minh số liệu; đề nghị bổ sung quyết định, kế hoạch.",
    "Tài liệu kiểm chứng không ghi rõ số hiệu, ngày ban hành.",
    "Số liệu chưa khớp với báo cáo tổng hợp của thành phố.",
]
REPLY = "Đơn vị bổ sung văn bản số 25/BC-UBND ngày 28/02/2023 kèm theo."
ROUND2_NOTE = "Chấp nhận giải trình một phần sau khi đối chiếu văn bản bổ sung."


def _at(year, kind, days=2):
    phase = next(item for item in year.phases if item.kind == kind)
    return phase.opens_at + timedelta(days=days)


def load(year):
    """Build and publish the finished round of `year`; return the dossiers made."""
    if (
        db.session.execute(
            select(Submission.id).where(Submission.year_id == year.id)
        ).first()
        is not None
    ):
        return 0

    chance = random.Random(f"demo-{year.year}")
    agencies = db.session.execute(
        select(Agency).where(Agency.active.is_(True)).order_by(Agency.code)
    ).scalars()
    made = []
    for agency in agencies:
        submission = answers.open_submission(agency, year)
        _answer(submission, chance)
        _appraise(submission, chance)
        made.append(submission)
    db.session.flush()
    answers.recompute_relative(year)
    for submission in made:
        _finalise(submission)
    db.session.commit()

    admin = current_app.appbuilder.sm.find_user(username="admin")
    scopes = [results.CITY] + [
        f"district:{district_id}"
        for district_id in sorted(
            {item.agency.parent_id for item in made if item.agency.parent_id}
        )
    ]
    for scope in scopes:
        results.publish(year, scope, admin)
    logger.info("demo round %s: %s dossiers published", year.year, len(made))
    return len(made)


def _answer(submission, chance):
    year = submission.year
    strength = chance.uniform(0.45, 0.95)
    for answer in submission.answers:
        indicator = answer.indicator
        answer.figures = seeding.demo_figures(indicator, chance)
        if chance.random() > strength and indicator.rule_type in ("yes_no", "parts"):
            answer.figures = (
                {"value": False} if indicator.rule_type == "yes_no" else {"parts": []}
            )
        if indicator.rule_type != "relative":
            answer.self_score = answers.score_answer(indicator, answer.figures)
        answer.explanation = "Số liệu theo báo cáo chuyển đổi số năm 2022 của đơn vị."
        answer.updated_at = _at(year, PhaseKind.SELF_ASSESSMENT, days=10)
    submission.status = SubmissionStatus.APPROVED
    submission.submitted_at = _at(year, PhaseKind.SELF_ASSESSMENT, days=20)
    submission.approved_at = _at(year, PhaseKind.SELF_ASSESSMENT, days=22)


def _appraise(submission, chance):
    year = submission.year
    for answer in submission.answers:
        if answer.indicator.kind != IndicatorKind.COMPONENT:
            continue
        own = answer.self_score
        cut = own is not None and own > 0 and chance.random() < 0.12
        if not cut:
            answer.round1_score = own
            answer.notes.append(
                AppraisalNote(
                    round=1,
                    verdict=Verdict.AGREE,
                    proposed_score=own,
                    created_at=_at(year, PhaseKind.APPRAISAL_1),
                )
            )
            continue

        lowered = (own * Decimal(chance.choice(["0", "0.5"]))).quantize(Decimal("0.01"))
        first = AppraisalNote(
            round=1,
            verdict=Verdict.ADJUST,
            proposed_score=lowered,
            comment=chance.choice(CUT_NOTES),
            created_at=_at(year, PhaseKind.APPRAISAL_1),
        )
        answer.round1_score = lowered
        answer.notes.append(first)
        if chance.random() < 0.6:
            first.reply_text = REPLY
            first.reply_at = _at(year, PhaseKind.EXPLANATION)
            first.reply_approved_at = _at(year, PhaseKind.EXPLANATION, days=5)
            restored = lowered + (own - lowered) * Decimal(
                chance.choice(["0", "0.5", "1"])
            )
            restored = restored.quantize(Decimal("0.01"))
            answer.round2_score = restored
            answer.notes.append(
                AppraisalNote(
                    round=2,
                    verdict=Verdict.ADJUST if restored != lowered else Verdict.AGREE,
                    proposed_score=restored,
                    comment=ROUND2_NOTE,
                    created_at=_at(year, PhaseKind.APPRAISAL_2),
                )
            )


def _finalise(submission):
    for answer in submission.answers:
        answer.final_score = (
            answer.round2_score
            if answer.round2_score is not None
            else answer.round1_score
        )
        if answer.indicator.rule_type == "relative":
            answer.round1_score = answer.final_score = answer.self_score
    submission.status = SubmissionStatus.FINALISED
    submission.finalised_at = _at(submission.year, PhaseKind.APPRAISAL_2, days=9)
    answers.refresh_totals(submission)
