"""The campaign board: where each phase stands and who is late."""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Agency, PhaseExtension, PhaseKind, Submission, SubmissionStatus
from . import calendar, clock, permissions

# A dossier has done a phase's work once it reaches this state.
DONE_AT = {
    PhaseKind.SELF_ASSESSMENT: SubmissionStatus.APPROVED,
    PhaseKind.APPRAISAL_1: SubmissionStatus.EXPLANATION,
    PhaseKind.EXPLANATION: SubmissionStatus.APPRAISAL_2,
    PhaseKind.APPRAISAL_2: SubmissionStatus.FINALISED,
    PhaseKind.PUBLICATION: SubmissionStatus.PUBLISHED,
}


@dataclass
class PhaseRow:
    """One phase of the calendar, with how many dossiers are done or late."""

    kind: int
    phase: object
    state: str  # upcoming, open or closed
    time_left: object = None
    done: int = 0
    pending: int = 0
    late: int = 0


@dataclass
class Late:
    """One dossier past its deadline for a phase."""

    submission: Submission
    kind: int
    deadline: object
    extended: bool


@dataclass
class Board:
    year: object
    phases: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    late: list = field(default_factory=list)
    extensions: list = field(default_factory=list)


def _done(submission, kind):
    if kind == PhaseKind.CONTACT:
        return bool(submission.agency.contact_name)
    return submission.status >= DONE_AT[kind]


def board(user, year):
    """Return the campaign board of a year, limited to the dossiers the user sees."""
    moment = clock.now()
    statement = (
        select(Submission)
        .options(joinedload(Submission.agency).joinedload(Agency.level))
        .where(Submission.year_id == year.id)
    )
    scope = permissions.row_scope(Submission, user)
    if scope is not None:
        statement = statement.where(scope)
    submissions = db.session.execute(statement).scalars().unique().all()

    result = Board(year=year)
    for submission in submissions:
        result.counts[submission.status] = result.counts.get(submission.status, 0) + 1

    dates = calendar.YearCalendar(year)
    for kind in PhaseKind:
        phase = dates.rows.get((kind, None))
        row = PhaseRow(kind=kind, phase=phase, state="upcoming")
        if phase is not None:
            if moment >= phase.closes_at:
                row.state = "closed"
            elif moment >= phase.opens_at:
                row.state = "open"
                row.time_left = phase.closes_at - moment
        for submission in submissions:
            if _done(submission, kind):
                row.done += 1
                continue
            row.pending += 1
            window = dates.window(kind, submission.agency)
            if window is not None and moment >= window.deadline:
                row.late += 1
                result.late.append(
                    Late(
                        submission,
                        kind,
                        window.deadline,
                        window.extended_to is not None,
                    )
                )
        result.phases.append(row)

    visible = {submission.agency_id for submission in submissions}
    result.extensions = [
        extension
        for extension in db.session.execute(
            select(PhaseExtension).where(PhaseExtension.year_id == year.id)
        ).scalars()
        if extension.agency_id in visible
    ]
    result.late.sort(key=lambda item: (item.kind, item.submission.agency.code))
    return result
