"""Answers and their scores: computing points and keeping totals in step."""

import logging
from decimal import Decimal

from sqlalchemy import func, select, update

from ..extensions import db
from ..models import Answer, IndexSet, Indicator, Submission
from . import scoring
from .submissions import prepare_submission

logger = logging.getLogger(__name__)


def open_submission(agency, year):
    """Create an agency's draft submission for a year, with empty answers."""
    submission = Submission(agency=agency, year=year)
    prepare_submission(submission)
    db.session.add(submission)
    db.session.flush()
    return submission


def score_answer(indicator, figures):
    """Return the points figures earn under an indicator's rule, or None.

    None means there is nothing to score yet (no figures, no rule, or a relative
    rule that is scored for the whole round).
    """
    if not figures or not indicator.rule_type or indicator.rule_type == "relative":
        return None
    return scoring.score(
        indicator.rule_type,
        indicator.rule_params or {},
        indicator.max_points,
        figures,
    )


def refresh_totals(submission):
    """Recompute a submission's totals from its answers (in the session)."""
    db.session.flush()
    totals = db.session.execute(
        select(
            func.sum(Answer.self_score),
            func.sum(Answer.round1_score),
            func.sum(Answer.final_score),
        ).where(Answer.submission_id == submission.id)
    ).one()
    submission.self_score, submission.round1_score, submission.final_score = totals


def refresh_all_totals(submission_ids):
    """Recompute the totals of many submissions in one statement per column."""
    if not submission_ids:
        return
    for column in ("self_score", "round1_score", "final_score"):
        total = (
            select(func.sum(getattr(Answer, column)))
            .where(Answer.submission_id == Submission.id)
            .scalar_subquery()
        )
        db.session.execute(
            update(Submission)
            .where(Submission.id.in_(submission_ids))
            .values({column: total})
            .execution_options(synchronize_session=False)
        )


def recompute_relative(year):
    """Score every relative component of a year against the best value.

    Agencies are compared within the same index set; only answers that carry
    a value take part.
    """
    indicators = db.session.execute(
        select(Indicator)
        .join(IndexSet, IndexSet.id == Indicator.index_set_id)
        .where(IndexSet.year_id == year.id, Indicator.rule_type == "relative")
    ).scalars()
    touched = set()
    for indicator in indicators:
        rows = db.session.execute(
            select(Answer.id, Answer.submission_id, Answer.figures).where(
                Answer.indicator_id == indicator.id
            )
        ).all()
        values = {}
        for answer_id, submission_id, figures in rows:
            value = (figures or {}).get("value")
            if value not in (None, ""):
                values[answer_id] = Decimal(str(value))
                touched.add(submission_id)
        for answer_id, score in scoring.score_relative(
            indicator.max_points, values
        ).items():
            db.session.execute(
                update(Answer)
                .where(Answer.id == answer_id)
                .values(self_score=score, version=Answer.version + 1)
                .execution_options(synchronize_session=False)
            )
    refresh_all_totals(sorted(touched))
    # The statements above bypass the session; reload what it holds.
    db.session.expire_all()
    logger.info("relative scores recomputed for year %s", year.year)
