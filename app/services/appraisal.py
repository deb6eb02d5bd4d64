"""Appraisal round 1, explanations, round 2 and finalisation.

Round 1: appraisers give every component a verdict (agree, or adjust with a
note whenever points are cut); the last verdict closes the round for the
dossier. Explanation: the agency answers each cut and its leader signs the
answers off. Round 2: appraisers settle the cut-and-answered components; the
others keep their round-1 score. The organiser (or the district, for its
communes) then finalises; a finalised dossier changes only through a logged
reopening.
"""

import logging
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from .. import labels
from ..extensions import db
from ..models import (
    Agency,
    AgencyLevel,
    Answer,
    AppraisalNote,
    Indicator,
    IndicatorKind,
    PhaseKind,
    Submission,
    SubmissionStatus,
    Verdict,
)
from . import activity, answers, calendar, clock, notify, permissions, scoring
from .exceptions import DomainError, NotAllowed

logger = logging.getLogger(__name__)

ROUND_PHASE = {1: PhaseKind.APPRAISAL_1, 2: PhaseKind.APPRAISAL_2}


def round_of(submission):
    """Return the appraisal round a dossier is in (1 or 2), or None."""
    if submission.status in (SubmissionStatus.APPROVED, SubmissionStatus.APPRAISAL_1):
        return 1
    if submission.status == SubmissionStatus.APPRAISAL_2:
        return 2
    return None


def note_of(answer, round_):
    """Return an answer's note of a round, or None."""
    return next((note for note in answer.notes if note.round == round_), None)


def is_cut(note):
    """Tell whether a round-1 note took points away from the agency's score."""
    if note is None or note.verdict != Verdict.ADJUST:
        return False
    own = note.answer.self_score or Decimal(0)
    return note.proposed_score is not None and note.proposed_score < own


def is_disputed(answer):
    """Tell whether a component goes to round 2: cut, and the cut answered."""
    first = note_of(answer, 1)
    return is_cut(first) and bool((first.reply_text or "").strip())


def _components(submission):
    return [
        answer
        for answer in submission.answers
        if answer.indicator.kind == IndicatorKind.COMPONENT
    ]


# --- Who may appraise what --------------------------------------------------------


def why_not_appraise(user, answer):
    """Return why the user may not give a verdict on this answer now, or None."""
    submission = answer.submission
    if user is None:
        return _l("Log in to appraise.")

    # No self-appraisal: appraising departments are themselves assessed.
    if user.agency_id is not None and user.agency_id == submission.agency_id:
        return _l(
            "You cannot appraise the dossier of your own agency (%(agency)s).",
            agency=submission.agency.name,
        )

    city_staff = permissions.has_role(
        user, permissions.Role.ADMIN, permissions.Role.ORGANISER
    )
    if not city_staff and not permissions.can_see(user, answer):
        return _l(
            "Indicator %(code)s is not in the fields you appraise.",
            code=answer.indicator.code,
        )
    if not (city_staff or permissions.has_role(user, permissions.Role.APPRAISER)):
        return _l("Only appraisers and the organiser's staff give verdicts.")

    round_ = round_of(submission)
    if round_ is None:
        return _l(
            "Submission #%(id)s is not in appraisal (%(state)s).",
            id=submission.id,
            state=labels.label(labels.SUBMISSION_STATUS, submission.status),
        )
    if round_ == 2 and not is_disputed(answer):
        return _l(
            "Indicator %(code)s is not disputed: its round-1 score stands.",
            code=answer.indicator.code,
        )
    return calendar.why_closed(submission.year, ROUND_PHASE[round_], submission.agency)


def board_query(user, round_, agency_id=None, level_code=None, code=None):
    """Return a SELECT of the answers still waiting for this user's verdict."""
    statuses = (
        [SubmissionStatus.APPROVED, SubmissionStatus.APPRAISAL_1]
        if round_ == 1
        else [SubmissionStatus.APPRAISAL_2]
    )
    own_note = aliased(AppraisalNote)
    statement = (
        select(Answer)
        .join(Submission, Submission.id == Answer.submission_id)
        .join(Indicator, Indicator.id == Answer.indicator_id)
        .join(Agency, Agency.id == Submission.agency_id)
        .where(Submission.status.in_(statuses))
        .where(Indicator.kind == IndicatorKind.COMPONENT)
        .where(
            ~exists().where(
                and_(own_note.answer_id == Answer.id, own_note.round == round_)
            )
        )
    )
    if user.agency_id is not None:
        statement = statement.where(Submission.agency_id != user.agency_id)
    scope = permissions.row_scope(Answer, user)
    if scope is not None:
        statement = statement.where(scope)

    if round_ == 2:
        first = aliased(AppraisalNote)
        statement = statement.where(
            exists().where(
                and_(
                    first.answer_id == Answer.id,
                    first.round == 1,
                    first.verdict == Verdict.ADJUST,
                    first.proposed_score < func.coalesce(Answer.self_score, 0),
                    func.length(func.trim(func.coalesce(first.reply_text, ""))) > 0,
                )
            )
        )
    if agency_id:
        statement = statement.where(Submission.agency_id == agency_id)
    if level_code:
        statement = statement.join(
            AgencyLevel, AgencyLevel.id == Agency.level_id
        ).where(AgencyLevel.code == level_code)
    if code:
        statement = statement.where(Indicator.code.startswith(code.strip()))
    return statement.order_by(Agency.code, Indicator.position)


# --- Verdicts ------------------------------------------------------------------


@dataclass
class VerdictInput:
    """What an appraiser entered for one component."""

    verdict: str
    score: object = None
    comment: str = ""


def record_verdict(answer, user, entry):
    """Give (or revise) the user's verdict on a component in the current round."""
    reason = why_not_appraise(user, answer)
    if reason is not None:
        raise NotAllowed(reason)

    submission = answer.submission
    round_ = round_of(submission)
    indicator = answer.indicator
    maximum = scoring.points(indicator.max_points)
    base = answer.self_score if round_ == 1 else answer.round1_score
    base = scoring.points(base or 0)
    comment = (entry.comment or "").strip()

    if entry.verdict == Verdict.AGREE:
        score = base
    elif entry.verdict == Verdict.ADJUST:
        if entry.score in (None, ""):
            raise DomainError(_l("Enter the appraised score."))
        try:
            score = scoring.points(str(entry.score).replace(",", "."))
        except scoring.RuleError as error:
            raise DomainError(error.message) from error
        if score < 0 or score > maximum:
            raise DomainError(
                _l(
                    "The appraised score must be between 0 and %(maximum)s.",
                    maximum=maximum,
                )
            )
    else:
        raise DomainError(_l("Choose agree or adjust."))

    # A cut always needs the reason, so the agency can answer it.
    if score < base and not comment:
        raise DomainError(
            _l(
                "Write a note: the score of %(code)s goes down from %(old)s to "
                "%(new)s.",
                code=indicator.code,
                old=base,
                new=score,
            )
        )

    note = note_of(answer, round_)
    old = None
    if note is None:
        note = AppraisalNote(answer=answer, round=round_)
        db.session.add(note)
    else:
        old = {"verdict": note.verdict, "score": activity.plain(note.proposed_score)}
    note.verdict = entry.verdict
    note.proposed_score = score
    note.comment = comment or None
    note.appraiser_id = user.id
    if round_ == 1:
        answer.round1_score = score
    else:
        answer.round2_score = score

    if submission.status == SubmissionStatus.APPROVED:
        _move(submission, SubmissionStatus.APPRAISAL_1, user)
    activity.record(
        f"appraisal.round{round_}",
        _l(
            "Round %(round)s verdict on %(code)s of submission #%(id)s: %(verdict)s, "
            "%(score)s points.",
            round=round_,
            code=indicator.code,
            id=submission.id,
            verdict=labels.label(labels.VERDICT, entry.verdict),
            score=score,
        ),
        target=answer,
        agency_id=submission.agency_id,
        changes={
            "verdict": {"old": old and old["verdict"], "new": str(entry.verdict)},
            "score": {"old": old and old["score"], "new": activity.plain(score)},
            "comment": {"old": None, "new": comment or None},
        },
        user=user,
    )
    db.session.flush()
    if round_ == 1:
        _close_round1_if_complete(submission, user)
    else:
        _announce_round2_if_complete(submission, user)
    answers.refresh_totals(submission)
    db.session.commit()
    logger.info(
        "round %s verdict on answer %s by user %s: %s",
        round_,
        answer.id,
        user.id,
        score,
    )
    return note


def _move(submission, status, user, reason=None):
    old = submission.status
    submission.status = status
    changes = {
        "status": {
            "old": labels.label(labels.SUBMISSION_STATUS, old),
            "new": labels.label(labels.SUBMISSION_STATUS, status),
        }
    }
    if reason:
        changes["reason"] = {"old": None, "new": reason}
    activity.record(
        "submission.moved",
        _l(
            "Submission #%(id)s moved to %(state)s.",
            id=submission.id,
            state=labels.label(labels.SUBMISSION_STATUS, status),
        ),
        target=submission,
        agency_id=submission.agency_id,
        changes=changes,
        user=user,
    )


def _link(submission):
    return f"/explanation/{submission.id}"


def _close_round1_if_complete(submission, user):
    """Close round 1 once every component has a verdict; tell the agency."""
    if any(note_of(answer, 1) is None for answer in _components(submission)):
        return

    _move(submission, SubmissionStatus.EXPLANATION, user)
    cuts = sum(1 for answer in _components(submission) if is_cut(note_of(answer, 1)))
    window = calendar.window(submission.year, PhaseKind.EXPLANATION, submission.agency)
    deadline = window.deadline.strftime("%d/%m/%Y %H:%M") if window else "–"
    if cuts:
        notify.notify_agency(
            submission.agency_id,
            "explanation.due",
            _l("Explanations due by %(deadline)s", deadline=deadline),
            _l(
                "Explain each cut of submission #%(id)s by %(deadline)s; your unit "
                "approver then signs the explanations off.",
                id=submission.id,
                deadline=deadline,
            ),
            link=_link(submission),
        )
    notify.notify_agency(
        submission.agency_id,
        "appraisal.round1_ready",
        _l("Round-1 appraisal of submission #%(id)s is ready", id=submission.id),
        _l(
            "The appraisers have given every component a verdict. %(cuts)s components "
            "lost points; explain them by %(deadline)s.",
            cuts=cuts,
            deadline=deadline,
        ),
        link=_link(submission),
    )


def _announce_round2_if_complete(submission, user):
    disputed = [answer for answer in _components(submission) if is_disputed(answer)]
    if any(note_of(answer, 2) is None for answer in disputed):
        return
    notify.notify_agency(
        submission.agency_id,
        "appraisal.round2_done",
        _l("Round-2 appraisal of submission #%(id)s is done", id=submission.id),
        _l("Every disputed component has its final verdict."),
        link=_link(submission),
    )


def round2_complete(submission):
    """Tell whether every disputed component of a dossier has its round-2 verdict."""
    return all(
        note_of(answer, 2) is not None
        for answer in _components(submission)
        if is_disputed(answer)
    )


# --- Explanations --------------------------------------------------------------


def _explanation_refusal(user, submission, role, refusal):
    """Return why `user` (who must hold `role` for the agency) may not act now."""
    if not permissions.acts_for(user, submission, role):
        return refusal
    if submission.status != SubmissionStatus.EXPLANATION:
        return _l(
            "Submission #%(id)s is not in its explanation phase.", id=submission.id
        )
    return calendar.why_closed(
        submission.year, PhaseKind.EXPLANATION, submission.agency
    )


def why_not_explain(user, submission):
    """Return why the user may not answer the notes of a dossier now, or None."""
    return _explanation_refusal(
        user,
        submission,
        permissions.Role.SPECIALIST,
        _l(
            "Only the specialist of %(agency)s answers the appraisal notes.",
            agency=submission.agency.name,
        ),
    )


def reply(note, user, text):
    """Record the agency's explanation of a cut."""
    submission = note.answer.submission
    reason = why_not_explain(user, submission)
    if reason is not None:
        raise NotAllowed(reason)
    if note.round != 1 or not is_cut(note):
        raise DomainError(
            _l("Note #%(id)s cut no points and needs no explanation.", id=note.id)
        )
    if note.reply_approved_at is not None:
        raise DomainError(
            _l(
                "The explanations of submission #%(id)s are signed off.",
                id=submission.id,
            )
        )

    text = (text or "").strip()
    old = note.reply_text
    note.reply_text = text or None
    note.reply_by_id = user.id
    note.reply_at = clock.now()
    activity.record(
        "appraisal.explained",
        _l(
            "Explanation of %(code)s in submission #%(id)s saved.",
            code=note.answer.indicator.code,
            id=submission.id,
        ),
        target=note,
        agency_id=submission.agency_id,
        changes={"reply": {"old": old, "new": note.reply_text}},
        user=user,
    )
    db.session.commit()


def why_not_sign_off(user, submission):
    """Return why the user may not sign the explanations off, or None."""
    return _explanation_refusal(
        user,
        submission,
        permissions.Role.APPROVER,
        _l(
            "Only the unit approver of %(agency)s signs the explanations off.",
            agency=submission.agency.name,
        ),
    )


def sign_off(submission, user):
    """Sign the agency's explanations off; the dossier goes to round 2."""
    reason = why_not_sign_off(user, submission)
    if reason is not None:
        raise NotAllowed(reason)

    moment = clock.now()
    for answer in _components(submission):
        note = note_of(answer, 1)
        if is_cut(note) and note.reply_text:
            note.reply_approved_by_id = user.id
            note.reply_approved_at = moment
    _move(submission, SubmissionStatus.APPRAISAL_2, user)
    db.session.commit()


def close_explanation(submission, user):
    """Move a dossier on to round 2 once its explanation phase is over.

    For the organiser, when an agency let the phase pass without signing off:
    unanswered cuts are then not disputed.
    """
    _require_organiser(user, submission)
    if submission.status != SubmissionStatus.EXPLANATION:
        raise DomainError(
            _l("Submission #%(id)s is not in its explanation phase.", id=submission.id)
        )
    if (
        calendar.why_closed(submission.year, PhaseKind.EXPLANATION, submission.agency)
        is None
    ):
        raise DomainError(
            _l(
                "The explanation phase of submission #%(id)s is still open.",
                id=submission.id,
            )
        )
    _move(submission, SubmissionStatus.APPRAISAL_2, user)
    db.session.commit()


# --- Finalisation --------------------------------------------------------------


def organises(user, submission):
    """Tell whether the user runs the round this dossier belongs to."""
    if permissions.has_role(user, permissions.Role.ADMIN, permissions.Role.ORGANISER):
        # The city's staff run departments and districts; districts run communes.
        return submission.agency.level.code != "commune" or permissions.has_role(
            user, permissions.Role.ADMIN
        )
    if permissions.has_role(user, permissions.Role.DISTRICT_ORGANISER):
        return submission.agency.parent_id == user.agency_id
    return False


def _require_organiser(user, submission):
    if user is None or not organises(user, submission):
        raise NotAllowed(
            _l(
                "Only the organiser of the round of %(agency)s may do this.",
                agency=submission.agency.name,
            )
        )


def why_not_finalise(user, submission):
    """Return why the user may not finalise the dossier now, or None."""
    if user is None or not organises(user, submission):
        return _l(
            "Only the organiser of the round of %(agency)s may finalise it.",
            agency=submission.agency.name,
        )
    if submission.status != SubmissionStatus.APPRAISAL_2:
        return _l("Submission #%(id)s is not in appraisal round 2.", id=submission.id)
    if not round2_complete(submission):
        return _l("Round 2 of submission #%(id)s is not complete.", id=submission.id)
    return None


def finalise(submission, user):
    """Fix the final scores: round 2 where disputed, round 1 everywhere else."""
    reason = why_not_finalise(user, submission)
    if reason is not None:
        raise NotAllowed(reason)

    for answer in _components(submission):
        answer.final_score = (
            answer.round2_score
            if note_of(answer, 2) is not None
            else answer.round1_score
        )
    submission.finalised_at = clock.now()
    submission.finalised_by_id = user.id
    _move(submission, SubmissionStatus.FINALISED, user)
    db.session.flush()
    answers.refresh_totals(submission)
    db.session.commit()
    logger.info("submission %s finalised by user %s", submission.id, user.id)


def reopen(submission, user, reason):
    """Reopen a finalised dossier for round 2, with the reason logged."""
    _require_organiser(user, submission)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give the reason for reopening the submission."))
    # A published dossier may be reopened to correct it; the correction is then
    # published as a new version with its reason.
    if submission.status < SubmissionStatus.FINALISED:
        raise DomainError(
            _l(
                "Only a finalised submission can be reopened (#%(id)s).",
                id=submission.id,
            )
        )

    for answer in _components(submission):
        answer.final_score = None
    submission.finalised_at = None
    submission.finalised_by_id = None
    _move(submission, SubmissionStatus.APPRAISAL_2, user, reason=reason)
    db.session.flush()
    answers.refresh_totals(submission)
    db.session.commit()
