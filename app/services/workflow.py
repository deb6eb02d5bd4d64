"""Every state change of a submission, and saving its answers, in one place.

Each function checks who may act and when (services.permissions and the phase
calendar), refuses with a message written for the user, then writes the
change, its activity-log entry (old → new) and commits.
"""

import logging
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from .. import labels
from ..extensions import db
from ..models import Answer, IndicatorKind, Submission, SubmissionStatus
from . import activity, answers, clock, notify, permissions, scoring
from .exceptions import DomainError, NotAllowed

logger = logging.getLogger(__name__)


# --- Saving answers -------------------------------------------------------------


@dataclass
class AnswerInput:
    """What the self-assessment form sent for one component."""

    answer_id: int
    version: int | None
    figures: dict | None
    explanation: str = ""
    evidence_ids: list = field(default_factory=list)


@dataclass
class SaveResult:
    """What happened to each component of a save."""

    saved: list = field(default_factory=list)
    # answer id → message, for figures the rule cannot score.
    errors: dict = field(default_factory=dict)
    # answer id → the answer as it now is, when someone else changed it first.
    conflicts: dict = field(default_factory=dict)

    @property
    def ok(self):
        return not self.errors and not self.conflicts


def _refuse(reason):
    if reason is not None:
        raise NotAllowed(reason)


def _same(answer, entry):
    return (
        (answer.figures or None) == (entry.figures or None)
        and (answer.explanation or "") == (entry.explanation or "")
        and sorted(item.id for item in answer.evidence) == sorted(entry.evidence_ids)
    )


def save_answers(submission, user, entries):
    """Save the components a specialist filled in; return what happened to each.

    A component whose figures the rule refuses, or that someone else changed
    since the form was loaded, is not saved; the others are.
    """
    _refuse(permissions.why_not_edit_submission(user, submission))

    by_id = {answer.id: answer for answer in submission.answers}
    evidence_ids = {item.id for item in submission.evidence}
    result = SaveResult()
    relative_changed = False

    for entry in entries:
        answer = by_id.get(entry.answer_id)
        if answer is None:
            raise NotAllowed(
                _l(
                    "Answer #%(id)s is not part of submission #%(submission)s.",
                    id=entry.answer_id,
                    submission=submission.id,
                )
            )
        if _same(answer, entry):
            continue
        if entry.version is not None and entry.version != answer.version:
            result.conflicts[answer.id] = answer
            continue
        unknown = set(entry.evidence_ids) - evidence_ids
        if unknown:
            raise NotAllowed(
                _l(
                    "Evidence #%(id)s does not belong to submission #%(submission)s.",
                    id=sorted(unknown)[0],
                    submission=submission.id,
                )
            )

        indicator = answer.indicator
        try:
            if entry.figures is not None:
                scoring.check_figures(
                    indicator.rule_type,
                    indicator.rule_params or {},
                    indicator.max_points,
                    entry.figures,
                )
            score = answers.score_answer(indicator, entry.figures)
        except scoring.RuleError as error:
            result.errors[answer.id] = error.message
            continue

        old = {
            "figures": answer.figures,
            "self_score": answer.self_score,
            "explanation": answer.explanation,
            "evidence": sorted(item.id for item in answer.evidence),
        }
        answer.figures = entry.figures
        answer.explanation = (entry.explanation or "").strip() or None
        answer.evidence = [
            item for item in submission.evidence if item.id in entry.evidence_ids
        ]
        if indicator.rule_type != "relative":
            answer.self_score = score
        else:
            relative_changed = True
        answer.updated_by_id = user.id
        new = {
            "figures": answer.figures,
            "self_score": answer.self_score,
            "explanation": answer.explanation,
            "evidence": sorted(entry.evidence_ids),
        }
        changes = {
            key: {"old": activity.plain(old[key]), "new": activity.plain(new[key])}
            for key in old
            if old[key] != new[key]
        }
        activity.record(
            "answer.updated",
            _l(
                "Indicator %(code)s of submission #%(id)s saved.",
                code=indicator.code,
                id=submission.id,
            ),
            target=answer,
            agency_id=submission.agency_id,
            changes=changes,
        )
        result.saved.append(answer.id)

    try:
        db.session.flush()
    except StaleDataError:
        # Someone saved between our read and our write: nothing is overwritten.
        db.session.rollback()
        raise DomainError(
            _l("Someone else saved this submission at the same moment; load it again.")
        ) from None

    if relative_changed:
        answers.recompute_relative(submission.year)
    answers.refresh_totals(submission)
    db.session.commit()
    logger.info(
        "submission %s: %s answers saved by user %s",
        submission.id,
        len(result.saved),
        user.id,
    )
    return result


# --- What is missing before submission ------------------------------------------


@dataclass
class Missing:
    """One component that stops a submission, and why."""

    answer: Answer
    message: str


def missing_items(submission):
    """List the components that must be completed before the dossier is submitted.

    Every scored component needs an answer; one that earns points and needs
    evidence needs either a file or a written explanation.
    """
    missing = []
    for answer in sorted(submission.answers, key=lambda item: item.indicator.position):
        indicator = answer.indicator
        if indicator.kind != IndicatorKind.COMPONENT:
            continue
        if not answer.figures and indicator.rule_type != "not_scored":
            missing.append(
                Missing(
                    answer,
                    str(_l("Indicator %(code)s has no answer.", code=indicator.code)),
                )
            )
            continue
        earns = answer.self_score is not None and answer.self_score > 0
        if indicator.rule_type == "relative":
            earns = bool((answer.figures or {}).get("value"))
        if indicator.evidence_required and earns:
            if not answer.evidence and not (answer.explanation or "").strip():
                missing.append(
                    Missing(
                        answer,
                        str(
                            _l(
                                "Indicator %(code)s earns points but has neither "
                                "evidence nor an explanation.",
                                code=indicator.code,
                            )
                        ),
                    )
                )
    return missing


# --- State changes --------------------------------------------------------------


def _move(submission, status, user, action, summary, changes=None):
    old = submission.status
    submission.status = status
    activity.record(
        action,
        summary,
        target=submission,
        agency_id=submission.agency_id,
        changes={
            "status": {
                "old": labels.label(labels.SUBMISSION_STATUS, old),
                "new": labels.label(labels.SUBMISSION_STATUS, status),
            },
            **(changes or {}),
        },
        user=user,
    )
    db.session.commit()
    logger.info(
        "submission %s moved from %s to %s by user %s",
        submission.id,
        old,
        status,
        user.id,
    )


def submit(submission, user):
    """Send a complete draft to the unit approver."""
    _refuse(permissions.why_not_submit(user, submission))
    missing = missing_items(submission)
    if missing:
        raise DomainError(
            _l(
                "Submission #%(id)s cannot be submitted: %(count)s components are "
                "incomplete.",
                id=submission.id,
                count=len(missing),
            ),
            errors=[item.message for item in missing],
        )

    submission.submitted_at = clock.now()
    submission.submitted_by_id = user.id
    _move(
        submission,
        SubmissionStatus.SUBMITTED,
        user,
        "submission.submitted",
        _l("Submission #%(id)s submitted to the unit approver.", id=submission.id),
    )


def approve(submission, user):
    """Sign the self-assessment off: it locks and goes to appraisal."""
    _refuse(permissions.why_not_approve(user, submission))
    submission.approved_at = clock.now()
    submission.approved_by_id = user.id
    submission.returned_reason = None
    notify.notify_agency(
        submission.agency_id,
        "submission.approved",
        _l("Submission #%(id)s approved", id=submission.id),
        _l(
            "The unit approver signed the self-assessment off; it now goes to "
            "appraisal."
        ),
        link=_page(submission),
        roles=("Specialist",),
    )
    _move(
        submission,
        SubmissionStatus.APPROVED,
        user,
        "submission.approved",
        _l("Submission #%(id)s approved by the unit.", id=submission.id),
    )
    notify.deliver()


def return_to_agency(submission, user, reason):
    """Send a dossier back to its specialist with the reason."""
    _refuse(permissions.why_not_return(user, submission))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give the reason for returning the submission."))

    submission.returned_at = clock.now()
    submission.returned_by_id = user.id
    submission.returned_reason = reason
    notify.notify_agency(
        submission.agency_id,
        "submission.returned",
        _l("Submission #%(id)s returned for changes", id=submission.id),
        _l("Reason: %(reason)s", reason=reason),
        link=_page(submission),
        roles=("Specialist",),
    )
    _move(
        submission,
        SubmissionStatus.RETURNED,
        user,
        "submission.returned",
        _l("Submission #%(id)s returned: %(reason)s", id=submission.id, reason=reason),
        changes={"reason": {"old": None, "new": reason}},
    )
    notify.deliver()


def _page(submission):
    return f"/self-assessment/{submission.id}"


def submission_for(agency, year):
    """Return an agency's submission of a year, or None."""
    return db.session.execute(
        select(Submission).where(
            Submission.agency_id == agency.id, Submission.year_id == year.id
        )
    ).scalar()
