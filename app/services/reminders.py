"""Reminders to whoever still has work in the current phase, with the days left.

Run daily by `flask dti remind`. Agencies and appraisers who are done get
nothing; the days left are counted when the reminder is sent.
"""

import logging
import math
from collections import defaultdict

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Agency, AssessmentYear, DtiUser, PhaseKind, Submission, YearStatus
from ..models import SubmissionStatus as Status
from . import appraisal, calendar, clock, notify, permissions

logger = logging.getLogger(__name__)


def days_left(deadline, moment):
    """Return the whole days left before a deadline, counting a part day as one."""
    return max(0, math.ceil((deadline - moment).total_seconds() / 86400))


def _agency_work(submission, kind):
    """Return (roles to remind, what to do) for a dossier in a phase, or None."""
    if kind == PhaseKind.SELF_ASSESSMENT:
        if submission.status < Status.SUBMITTED:
            return ("Specialist",), _l("finish and submit the self-assessment")
        if submission.status == Status.SUBMITTED:
            return ("Unit approver",), _l("approve the self-assessment")
    if kind == PhaseKind.EXPLANATION and submission.status == Status.EXPLANATION:
        cuts = [
            appraisal.note_of(answer, 1)
            for answer in submission.answers
            if appraisal.is_cut(appraisal.note_of(answer, 1))
        ]
        if any(not (note.reply_text or "").strip() for note in cuts):
            return ("Specialist",), _l("explain the components that lost points")
        return ("Unit approver",), _l("sign the explanations off")
    return None


def remind(year=None):
    """Send today's reminders; return how many notices were written."""
    moment = clock.now()
    if year is None:
        year = (
            db.session.execute(
                select(AssessmentYear)
                .where(AssessmentYear.status == YearStatus.OPEN)
                .order_by(AssessmentYear.year.desc())
            )
            .scalars()
            .first()
        )
    if year is None:
        return 0

    dates = calendar.YearCalendar(year)
    sent = 0
    submissions = (
        db.session.execute(
            select(Submission)
            .options(joinedload(Submission.agency).joinedload(Agency.level))
            .where(Submission.year_id == year.id)
        )
        .scalars()
        .unique()
    )
    for submission in submissions:
        for kind in (PhaseKind.SELF_ASSESSMENT, PhaseKind.EXPLANATION):
            window = dates.window(kind, submission.agency)
            if window is None or not window.is_open(moment):
                continue
            work = _agency_work(submission, kind)
            if work is None:
                continue
            roles, task = work
            left = days_left(window.deadline, moment)
            sent += len(
                notify.notify_agency(
                    submission.agency_id,
                    f"reminder.{PhaseKind(kind).name.lower()}",
                    _l("%(days)s days left to %(task)s", days=left, task=task),
                    _l(
                        "%(agency)s: %(days)s days left (until %(deadline)s) to "
                        "%(task)s for %(year)s.",
                        agency=submission.agency.name,
                        days=left,
                        deadline=window.deadline.strftime("%d/%m/%Y %H:%M"),
                        task=task,
                        year=year.name,
                    ),
                    link=f"/self-assessment/{submission.id}",
                    roles=roles,
                )
            )

    sent += _remind_appraisers(year, dates, moment)
    db.session.commit()
    notify.deliver()
    logger.info("reminders for %s: %s notices", year.year, sent)
    return sent


def _remind_appraisers(year, dates, moment):
    """Remind each appraiser with verdicts outstanding in an open round."""
    appraisers = db.session.execute(
        select(DtiUser)
        .where(DtiUser.active.is_(True))
        .where(DtiUser.roles.any(name=str(permissions.Role.APPRAISER)))
    ).scalars()
    sent = 0
    by_round = defaultdict(list)
    for user in appraisers:
        for round_, kind in appraisal.ROUND_PHASE.items():
            phase = dates.rows.get((kind, None))
            if user.agency is not None and permissions.is_district_appraiser(user):
                phase = dates.rows.get((kind, user.agency_id)) or phase
            if phase is None or not (phase.opens_at <= moment < phase.closes_at):
                continue
            statement = appraisal.board_query(user, round_).where(
                Submission.year_id == year.id
            )
            count = db.session.execute(
                select(func.count()).select_from(statement.order_by(None).subquery())
            ).scalar()
            if count:
                by_round[round_].append((user, count, phase))

    for round_, entries in by_round.items():
        for user, count, phase in entries:
            left = days_left(phase.closes_at, moment)
            sent += len(
                notify.notify_users(
                    [user],
                    f"reminder.appraisal_{round_}",
                    _l(
                        "%(count)s components wait for your verdict "
                        "(%(days)s days left)",
                        count=count,
                        days=left,
                    ),
                    _l(
                        "Appraisal round %(round)s of %(year)s closes on %(deadline)s; "
                        "%(count)s components of your fields still need a verdict.",
                        round=round_,
                        year=year.name,
                        deadline=phase.closes_at.strftime("%d/%m/%Y %H:%M"),
                        count=count,
                    ),
                    link=f"/appraisal/?round={round_}",
                )
            )
    return sent
