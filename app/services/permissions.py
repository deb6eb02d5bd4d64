"""Who may see and change which records: every row-level rule lives here.

FAB's role permissions decide which screens and buttons a user has; the rules
below decide which rows those screens show. List, show, edit, delete, export and
downloads all go through `row_scope`, so one rule covers every way in.
"""

import enum

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, false, or_, select

from ..models import (
    ActivityLog,
    Agency,
    AgencyLevel,
    Answer,
    AppraisalNote,
    Evidence,
    PhaseExtension,
    PhaseKind,
    Submission,
    SubmissionStatus,
    answer_evidence,
    field_appraiser,
)
from ..models.indexes import Indicator
from . import calendar


class Role(enum.StrEnum):
    """The roles `flask dti init-roles` creates."""

    ADMIN = "Admin"
    ORGANISER = "Organiser"
    SPECIALIST = "Specialist"
    APPROVER = "Unit approver"
    APPRAISER = "Appraiser"
    DISTRICT_ORGANISER = "District organiser"
    VIEWER = "Viewer"


# Roles that read every agency's records.
CITY_WIDE_ROLES = {Role.ADMIN, Role.ORGANISER, Role.VIEWER}

# Roles tied to one agency.
AGENCY_ROLES = {Role.SPECIALIST, Role.APPROVER, Role.DISTRICT_ORGANISER}


def current_user():
    """Return the logged-in user of this request, or None."""
    if not has_request_context():
        return None
    user = getattr(g, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def role_names(user):
    """Return the set of role names a user holds."""
    if user is None:
        return set()
    return {role.name for role in user.roles}


def has_role(user, *roles):
    """Tell whether the user holds any of the given roles."""
    return bool(role_names(user) & {str(role) for role in roles})


def sees_every_agency(user):
    """Tell whether the user reads every agency's records."""
    return has_role(user, *CITY_WIDE_ROLES)


# --- Agencies -------------------------------------------------------------


def own_agencies(user):
    """Return a SELECT of the agency ids the user acts for, or None for all.

    An empty SELECT (no rows) means the user acts for no agency.
    """
    if sees_every_agency(user):
        return None

    names = role_names(user)
    agency_id = getattr(user, "agency_id", None)
    if agency_id is None:
        return select(Agency.id).where(false())

    conditions = []
    # Specialists and approvers act for their own agency only.
    if names & {Role.SPECIALIST, Role.APPROVER, Role.DISTRICT_ORGANISER}:
        conditions.append(Agency.id == agency_id)
    # A district organiser also runs the round for the district's communes.
    if Role.DISTRICT_ORGANISER in names:
        conditions.append(Agency.parent_id == agency_id)
    if not conditions:
        return select(Agency.id).where(false())
    return select(Agency.id).where(or_(*conditions))


def _appraiser_field_ids(user):
    """Return a SELECT of the field ids assigned to an appraiser."""
    return select(field_appraiser.c.field_id).where(
        field_appraiser.c.user_id == user.id
    )


def is_district_appraiser(user):
    """Tell whether an appraiser works for a district, on its communes' round."""
    agency = getattr(user, "agency", None)
    return agency is not None and agency.level.code == "district"


def _communes_of(district_id):
    return select(Agency.id).where(Agency.parent_id == district_id)


def _city_round_agencies():
    """Return the agencies the city appraises: everyone but the communes."""
    return (
        select(Agency.id)
        .join(AgencyLevel, AgencyLevel.id == Agency.level_id)
        .where(AgencyLevel.code != "commune")
    )


def _appraisable_submissions(user):
    """Return the condition on Submission an appraiser's access follows.

    Appraisers see dossiers once the unit has signed them off, never their own
    agency's (appraising departments are themselves assessed). A district's
    appraisers see its communes; the city's field appraisers see the rest.
    """
    condition = Submission.status >= SubmissionStatus.APPROVED
    if user.agency_id is not None:
        condition = condition & (Submission.agency_id != user.agency_id)
    if is_district_appraiser(user):
        return condition & Submission.agency_id.in_(_communes_of(user.agency_id))
    return condition & Submission.agency_id.in_(_city_round_agencies())


# --- Row scopes -----------------------------------------------------------


def _submission_scope(user):
    names = role_names(user)
    conditions = []
    agencies = own_agencies(user)
    if names & AGENCY_ROLES:
        conditions.append(Submission.agency_id.in_(agencies))
    if Role.APPRAISER in names:
        conditions.append(_appraisable_submissions(user))
    return or_(*conditions) if conditions else false()


def _answer_scope(user):
    names = role_names(user)
    conditions = []
    if names & AGENCY_ROLES:
        own = select(Submission.id).where(Submission.agency_id.in_(own_agencies(user)))
        conditions.append(Answer.submission_id.in_(own))
    if Role.APPRAISER in names:
        conditions.append(_answer_scope_for_appraiser(user))
    return or_(*conditions) if conditions else false()


def _evidence_scope(user):
    names = role_names(user)
    conditions = []
    if names & AGENCY_ROLES:
        own = select(Submission.id).where(Submission.agency_id.in_(own_agencies(user)))
        conditions.append(Evidence.submission_id.in_(own))
    if Role.APPRAISER in names:
        # Evidence is readable where it backs an answer the appraiser may read.
        linked = (
            select(answer_evidence.c.answer_id)
            .join(Answer, Answer.id == answer_evidence.c.answer_id)
            .where(answer_evidence.c.evidence_id == Evidence.id)
            .where(_answer_scope_for_appraiser(user))
        )
        conditions.append(exists(linked))
    return or_(*conditions) if conditions else false()


def _answer_scope_for_appraiser(user):
    """Return the answers of the appraiser's fields, in dossiers they may see.

    A district appraiser appraises every field of its communes' dossiers.
    """
    appraisable = select(Submission.id).where(_appraisable_submissions(user))
    if is_district_appraiser(user):
        return Answer.submission_id.in_(appraisable)
    in_fields = select(Indicator.id).where(
        Indicator.field_id.in_(_appraiser_field_ids(user))
    )
    return Answer.submission_id.in_(appraisable) & Answer.indicator_id.in_(in_fields)


def _note_scope(user):
    visible_answers = select(Answer.id).where(_answer_scope(user))
    return AppraisalNote.answer_id.in_(visible_answers)


def _agency_scope(user):
    names = role_names(user)
    conditions = []
    if names & AGENCY_ROLES:
        conditions.append(Agency.id.in_(own_agencies(user)))
    if Role.APPRAISER in names:
        # Appraisers read the agencies whose dossiers they appraise.
        appraisable = select(Submission.agency_id).where(_appraisable_submissions(user))
        conditions.append(Agency.id.in_(appraisable))
        if user.agency_id is not None:
            conditions.append(Agency.id == user.agency_id)
    return or_(*conditions) if conditions else false()


def _activity_scope(user):
    conditions = [ActivityLog.user_id == user.id]
    names = role_names(user)
    if names & AGENCY_ROLES:
        conditions.append(ActivityLog.agency_id.in_(own_agencies(user)))
    return or_(*conditions)


def _extension_scope(user):
    return PhaseExtension.agency_id.in_(own_agencies(user))


_SCOPES = {
    Agency: _agency_scope,
    PhaseExtension: _extension_scope,
    Submission: _submission_scope,
    Answer: _answer_scope,
    Evidence: _evidence_scope,
    AppraisalNote: _note_scope,
    ActivityLog: _activity_scope,
}


def is_scoped(model):
    """Tell whether rows of `model` belong to agencies and need a row scope."""
    return model in _SCOPES


def row_scope(model, user):
    """Return the SQL condition limiting `model` rows to what `user` may see.

    None means no limit (city-wide roles, or a model that is not agency data);
    an anonymous user sees nothing.
    """
    if model not in _SCOPES:
        return None
    if user is None:
        return false()
    if sees_every_agency(user):
        return None
    return _SCOPES[model](user)


def can_see(user, obj):
    """Tell whether `obj` is inside the user's row scope."""
    from ..extensions import db

    model = type(obj)
    condition = row_scope(model, user)
    if condition is None:
        return True
    found = db.session.execute(
        select(model.id).where(model.id == obj.id).where(condition)
    ).first()
    return found is not None


# --- Record-level decisions, in pairs -------------------------------------
#
# why_not_* returns the reason a user may not act (shown as the message), or None;
# can_* answers the same question for menus and buttons.


def acts_for(user, submission, *roles):
    """Tell whether the user holds one of `roles` for the dossier's own agency."""
    return (
        user is not None
        and has_role(user, *roles)
        and user.agency_id == submission.agency_id
    )


def _self_assessment_closed(submission):
    return calendar.why_closed(
        submission.year, PhaseKind.SELF_ASSESSMENT, submission.agency
    )


def why_not_edit_submission(user, submission):
    """Return why the user may not change a submission's figures, or None."""
    if user is None:
        return _l("Log in to change submission #%(id)s.", id=submission.id)

    # The organiser's staff may correct any dossier that is still with its agency.
    city_staff = has_role(user, Role.ADMIN, Role.ORGANISER)
    # Otherwise only the agency's own specialist enters figures.
    if not (city_staff or acts_for(user, submission, Role.SPECIALIST)):
        return _l(
            "Only the specialist of %(agency)s may change submission #%(id)s.",
            agency=submission.agency.name,
            id=submission.id,
        )

    # Once submitted, the figures are locked until the dossier is returned.
    if submission.status >= SubmissionStatus.SUBMITTED:
        return _l(
            "Submission #%(id)s has been submitted and is locked.", id=submission.id
        )

    # Agencies work only inside their self-assessment window (extension included).
    if not city_staff:
        return _self_assessment_closed(submission)
    return None


def can_edit_submission(user, submission):
    """Tell whether the user may change a submission's figures."""
    return why_not_edit_submission(user, submission) is None


def why_not_submit(user, submission):
    """Return why the user may not send the dossier to the unit approver."""
    if user is None or not acts_for(user, submission, Role.SPECIALIST):
        return _l(
            "Only the specialist of %(agency)s may submit submission #%(id)s.",
            agency=submission.agency.name,
            id=submission.id,
        )
    # Only a draft or a returned dossier can be submitted.
    if submission.status not in (SubmissionStatus.DRAFT, SubmissionStatus.RETURNED):
        return _l(
            "Submission #%(id)s is not a draft and cannot be submitted.",
            id=submission.id,
        )
    return _self_assessment_closed(submission)


def can_submit(user, submission):
    return why_not_submit(user, submission) is None


def why_not_approve(user, submission):
    """Return why the user may not sign the self-assessment off."""
    if user is None or not acts_for(user, submission, Role.APPROVER):
        return _l(
            "Only the unit approver of %(agency)s may approve submission #%(id)s.",
            agency=submission.agency.name,
            id=submission.id,
        )
    # The approver signs what the specialist submitted, nothing else.
    if submission.status != SubmissionStatus.SUBMITTED:
        return _l("Submission #%(id)s is not waiting for approval.", id=submission.id)
    return _self_assessment_closed(submission)


def can_approve(user, submission):
    return why_not_approve(user, submission) is None


def why_not_return(user, submission):
    """Return why the user may not send the dossier back to its specialist."""
    if user is None:
        return _l("Log in to return submission #%(id)s.", id=submission.id)
    # The unit approver returns what it was asked to sign.
    if acts_for(user, submission, Role.APPROVER):
        if submission.status != SubmissionStatus.SUBMITTED:
            return _l(
                "Submission #%(id)s is not waiting for approval.", id=submission.id
            )
        return None
    # The organiser may send back a signed dossier before appraisal starts.
    if has_role(user, Role.ADMIN, Role.ORGANISER):
        if submission.status not in (
            SubmissionStatus.SUBMITTED,
            SubmissionStatus.APPROVED,
        ):
            return _l(
                "Submission #%(id)s can no longer be returned: appraisal has started.",
                id=submission.id,
            )
        return None
    return _l(
        "Only the unit approver of %(agency)s may return submission #%(id)s.",
        agency=submission.agency.name,
        id=submission.id,
    )


def can_return(user, submission):
    return why_not_return(user, submission) is None
