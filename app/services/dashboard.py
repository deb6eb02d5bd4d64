"""What the home page shows: the current round, its phase, the user's dossiers."""

from sqlalchemy import func, select

from ..extensions import db
from ..models import AssessmentYear, Phase, PhaseKind, Submission, YearStatus
from . import calendar, clock, permissions


def current_year():
    """Return the running year, else the most recent one, or None."""
    running = (
        db.session.execute(
            select(AssessmentYear)
            .where(AssessmentYear.status == YearStatus.OPEN)
            .order_by(AssessmentYear.year.desc())
        )
        .scalars()
        .first()
    )
    if running is not None:
        return running
    return (
        db.session.execute(select(AssessmentYear).order_by(AssessmentYear.year.desc()))
        .scalars()
        .first()
    )


def current_phase(year, district_id=None):
    """Return the phase of a year's city calendar open at this moment, or None."""
    if year is None:
        return None
    moment = clock.now()
    if district_id is None:
        calendar = Phase.district_id.is_(None)
    else:
        calendar = Phase.district_id == district_id
    return (
        db.session.execute(
            select(Phase)
            .where(Phase.year_id == year.id, calendar)
            .where(Phase.opens_at <= moment, Phase.closes_at > moment)
            .order_by(Phase.kind)
        )
        .scalars()
        .first()
    )


def status_counts(user, year):
    """Return {status: count} of the submissions of a year the user may see."""
    if user is None or year is None:
        return {}
    statement = (
        select(Submission.status, func.count())
        .where(Submission.year_id == year.id)
        .group_by(Submission.status)
    )
    scope = permissions.row_scope(Submission, user)
    if scope is not None:
        statement = statement.where(scope)
    return dict(db.session.execute(statement).all())


def own_submission(user, year):
    """Return the dossier of the user's agency for a year, or None."""
    if user is None or year is None or getattr(user, "agency_id", None) is None:
        return None
    return db.session.execute(
        select(Submission).where(
            Submission.agency_id == user.agency_id, Submission.year_id == year.id
        )
    ).scalar()


def home(user):
    """Return the template context of the home page."""
    year = current_year()
    own = own_submission(user, year)
    return {
        "year": year,
        "phase": current_phase(year),
        "counts": status_counts(user, year),
        "own": own,
        "own_window": (
            calendar.window(year, PhaseKind.SELF_ASSESSMENT, own.agency)
            if own
            else None
        ),
        "now": clock.now(),
    }
