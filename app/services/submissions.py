"""Opening submissions and guarding what may change in them."""

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select

from ..extensions import db
from ..models import (
    Answer,
    IndexSet,
    Indicator,
    IndicatorKind,
    Submission,
    SubmissionStatus,
)
from . import permissions
from .exceptions import DomainError, NotAllowed

logger = logging.getLogger(__name__)


def index_set_for(agency, year):
    """Return the index set an agency answers in a year, or None."""
    statement = select(IndexSet).where(
        IndexSet.year_id == year.id, IndexSet.level_id == agency.level_id
    )
    if agency.group_id is not None:
        statement = statement.where(IndexSet.group_id == agency.group_id)
    else:
        statement = statement.where(IndexSet.group_id.is_(None))
    return db.session.execute(statement).scalars().first()


def components_of(index_set):
    """Return the component indicators of a set, in annex order."""
    statement = (
        select(Indicator)
        .where(Indicator.index_set_id == index_set.id)
        .where(Indicator.kind == IndicatorKind.COMPONENT)
        .order_by(Indicator.position, Indicator.id)
    )
    return db.session.execute(statement).scalars().all()


def prepare_submission(submission):
    """Fill in a new submission's index set and one empty answer per component.

    :raises DomainError: when the agency already has a submission for the year,
        or no index set applies to it.
    """
    agency, year = submission.agency, submission.year
    if agency is None or year is None:
        raise DomainError(_l("Choose the agency and the assessment year."))

    existing = db.session.execute(
        select(Submission.id).where(
            Submission.agency_id == agency.id, Submission.year_id == year.id
        )
    ).scalar()
    if existing is not None:
        raise DomainError(
            _l(
                "%(agency)s already has submission #%(id)s for %(year)s.",
                agency=agency.name,
                id=existing,
                year=year.year,
            )
        )

    index_set = index_set_for(agency, year)
    if index_set is None:
        raise DomainError(
            _l(
                "No index set of %(year)s applies to %(agency)s (level %(level)s).",
                year=year.year,
                agency=agency.name,
                level=agency.level.name,
            )
        )

    submission.index_set = index_set
    submission.status = SubmissionStatus.DRAFT
    submission.answers = [Answer(indicator=item) for item in components_of(index_set)]
    logger.info("submission opened for agency %s, year %s", agency.id, year.year)


def _has_figures(submission):
    return any(answer.figures for answer in submission.answers)


def check_index_set_change(submission):
    """Allow another index set only on a draft with no figures entered yet."""
    history = inspect(submission).attrs.index_set.history
    if not history.has_changes():
        return

    if submission.status_enum >= SubmissionStatus.SUBMITTED or _has_figures(submission):
        raise DomainError(
            _l(
                "The index set of submission #%(id)s can only change on a draft "
                "without figures.",
                id=submission.id,
            )
        )

    new_set = submission.index_set
    agency = submission.agency
    if new_set.year_id != submission.year_id or new_set.level_id != agency.level_id:
        raise DomainError(
            _l(
                "Index set %(name)s is not for %(agency)s's level in %(year)s.",
                name=new_set.name,
                agency=agency.name,
                year=submission.year.year,
            )
        )

    submission.answers = [Answer(indicator=item) for item in components_of(new_set)]


def check_deletable(submission):
    """Refuse to delete a submission once it has left the agency."""
    if submission.status_enum >= SubmissionStatus.SUBMITTED:
        raise DomainError(
            _l(
                "Submission #%(id)s has been submitted and cannot be deleted.",
                id=submission.id,
            )
        )


def check_answer_editable(answer):
    """Refuse an edit the current user may not make to this answer."""
    reason = permissions.why_not_edit_submission(
        permissions.current_user(), answer.submission
    )
    if reason:
        raise NotAllowed(reason)


def check_evidence_editable(evidence):
    """Refuse changes to evidence of a submission that is no longer editable."""
    reason = permissions.why_not_edit_submission(
        permissions.current_user(), evidence.submission
    )
    if reason:
        raise NotAllowed(reason)
