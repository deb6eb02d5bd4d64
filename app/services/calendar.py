"""The phase calendar: when an agency may act, with district calendars and extensions.

Departments and districts follow the city's calendar. Communes follow their
district's calendar where the district set one, else the city's. An extension
granted to one agency moves only that agency's closing time.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import labels
from ..extensions import db
from ..models import Agency, Phase, PhaseExtension
from . import activity, clock, notify, permissions
from .exceptions import DomainError, NotAllowed


@dataclass
class Window:
    """When one phase is open for one agency."""

    kind: int
    opens_at: datetime
    closes_at: datetime
    # The agency's own later deadline, when one was granted.
    extended_to: datetime | None = None
    district_id: int | None = None

    @property
    def deadline(self):
        return max(self.closes_at, self.extended_to or self.closes_at)

    def is_open(self, moment=None):
        moment = moment or clock.now()
        return self.opens_at <= moment < self.deadline


def calendar_district(agency):
    """Return the id of the district whose calendar an agency follows, or None."""
    if agency.level is not None and agency.level.code == "commune":
        return agency.parent_id
    return None


def phase_for(year, kind, agency):
    """Return the phase row that governs an agency, or None if none is set."""
    district_id = calendar_district(agency)
    if district_id is not None:
        own = db.session.execute(
            select(Phase).where(
                Phase.year_id == year.id,
                Phase.kind == kind,
                Phase.district_id == district_id,
            )
        ).scalar()
        if own is not None:
            return own
    return db.session.execute(
        select(Phase).where(
            Phase.year_id == year.id, Phase.kind == kind, Phase.district_id.is_(None)
        )
    ).scalar()


def extension_for(year, kind, agency):
    """Return the agency's extension of a phase, or None."""
    return db.session.execute(
        select(PhaseExtension).where(
            PhaseExtension.year_id == year.id,
            PhaseExtension.kind == kind,
            PhaseExtension.agency_id == agency.id,
        )
    ).scalar()


def window(year, kind, agency):
    """Return an agency's window for a phase, or None if the phase is not set."""
    phase = phase_for(year, kind, agency)
    if phase is None:
        return None
    extension = extension_for(year, kind, agency)
    return Window(
        kind=kind,
        opens_at=phase.opens_at,
        closes_at=phase.closes_at,
        extended_to=extension.closes_at if extension else None,
        district_id=phase.district_id,
    )


def why_closed(year, kind, agency, moment=None):
    """Return why a phase is not open for an agency now, or None if it is."""
    current = window(year, kind, agency)
    phase_name = labels.label(labels.PHASE_KIND, kind)
    if current is None:
        return _l(
            "The %(phase)s phase of %(year)s has no dates yet.",
            phase=phase_name,
            year=year.year,
        )

    moment = moment or clock.now()
    if moment < current.opens_at:
        return _l(
            "The %(phase)s phase opens on %(date)s.",
            phase=phase_name,
            date=current.opens_at.strftime("%d/%m/%Y %H:%M"),
        )
    if moment >= current.deadline:
        return _l(
            "The %(phase)s phase closed on %(date)s.",
            phase=phase_name,
            date=current.deadline.strftime("%d/%m/%Y %H:%M"),
        )
    return None


def check_open(year, kind, agency):
    """Refuse an action outside the agency's window, naming the deadline."""
    reason = why_closed(year, kind, agency)
    if reason is not None:
        raise DomainError(reason)


# --- Changing the calendar ----------------------------------------------------


def why_not_manage(user, district_id):
    """Return why the user may not change a calendar row, or None.

    The organiser's staff keep the city calendar; a district organiser keeps
    its own district's calendar for its communes, and nothing else.
    """
    if user is None:
        return _l("Log in to change the calendar.")
    if permissions.has_role(user, permissions.Role.ADMIN, permissions.Role.ORGANISER):
        return None
    if (
        permissions.has_role(user, permissions.Role.DISTRICT_ORGANISER)
        and district_id is not None
        and district_id == user.agency_id
    ):
        return None
    return _l("Only the organiser keeps this calendar.")


def affected_agencies(phase):
    """Return the ids of the agencies a calendar row governs."""
    if phase.district_id is not None:
        return list(
            db.session.execute(
                select(Agency.id).where(
                    Agency.parent_id == phase.district_id, Agency.active.is_(True)
                )
            ).scalars()
        )
    # Communes of a district with its own row for this phase follow that row.
    own_rows = select(Phase.district_id).where(
        Phase.year_id == phase.year_id,
        Phase.kind == phase.kind,
        Phase.district_id.isnot(None),
    )
    return list(
        db.session.execute(
            select(Agency.id).where(
                Agency.active.is_(True),
                (Agency.parent_id.is_(None)) | (Agency.parent_id.not_in(own_rows)),
            )
        ).scalars()
    )


def move_phase(phase, opens_at, closes_at, reason, user):
    """Move a phase's dates, say why, and tell every agency it governs.

    :raises DomainError: for a missing reason, reversed dates or a user who
        does not keep this calendar.
    """
    refusal = why_not_manage(user, phase.district_id)
    if refusal is not None:
        raise NotAllowed(refusal)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give the reason for moving the deadline."))
    if opens_at >= closes_at:
        raise DomainError(_l("A phase must close after it opens."))

    old = {"opens_at": phase.opens_at, "closes_at": phase.closes_at}
    phase.opens_at, phase.closes_at = opens_at, closes_at
    phase_name = labels.label(labels.PHASE_KIND, phase.kind)
    activity.record(
        "phase.moved",
        _l(
            "%(phase)s of %(year)s moved: %(reason)s",
            phase=phase_name,
            year=phase.year.year,
            reason=reason,
        ),
        target=phase,
        agency_id=phase.district_id,
        changes={
            "opens_at": {
                "old": activity.plain(old["opens_at"]),
                "new": activity.plain(opens_at),
            },
            "closes_at": {
                "old": activity.plain(old["closes_at"]),
                "new": activity.plain(closes_at),
            },
            "reason": {"old": None, "new": reason},
        },
        user=user,
    )
    agencies = affected_agencies(phase)
    subject = _l(
        "%(phase)s of %(year)s: new deadline %(date)s",
        phase=phase_name,
        year=phase.year.year,
        date=closes_at.strftime("%d/%m/%Y %H:%M"),
    )
    body = _l(
        "The %(phase)s phase now runs from %(opens)s to %(closes)s. Reason: %(reason)s",
        phase=phase_name,
        opens=opens_at.strftime("%d/%m/%Y %H:%M"),
        closes=closes_at.strftime("%d/%m/%Y %H:%M"),
        reason=reason,
    )
    for agency_id in agencies:
        notify.notify_agency(agency_id, "deadline.moved", subject, body, link="/")
    db.session.commit()
    notify.deliver()
    return len(agencies)


def check_extension(extension, user):
    """Refuse an extension that is not later than the phase, or has no reason."""
    refusal = why_not_manage(user, calendar_district(extension.agency))
    if refusal is not None and not permissions.has_role(
        user, permissions.Role.ADMIN, permissions.Role.ORGANISER
    ):
        raise NotAllowed(refusal)
    if not (extension.reason or "").strip():
        raise DomainError(_l("Give the reason for the extension."))

    phase = phase_for(extension.year, extension.kind, extension.agency)
    if phase is None:
        raise DomainError(_l("The phase has no dates yet; set the calendar first."))
    if extension.closes_at <= phase.closes_at:
        raise DomainError(
            _l(
                "An extension must end after the phase closes (%(date)s).",
                date=phase.closes_at.strftime("%d/%m/%Y %H:%M"),
            )
        )


def announce_extension(extension, user):
    """Log an extension and tell only the agency it was granted to."""
    phase_name = labels.label(labels.PHASE_KIND, extension.kind)
    deadline = extension.closes_at.strftime("%d/%m/%Y %H:%M")
    activity.record(
        "phase.extended",
        _l(
            "%(agency)s may work on %(phase)s until %(date)s: %(reason)s",
            agency=extension.agency.name,
            phase=phase_name,
            date=deadline,
            reason=extension.reason,
        ),
        target=extension,
        agency_id=extension.agency.id,
        changes={
            "closes_at": {"old": None, "new": activity.plain(extension.closes_at)},
            "reason": {"old": None, "new": extension.reason},
        },
        user=user,
    )
    notify.notify_agency(
        extension.agency.id,
        "extension.granted",
        _l(
            "Extension granted: %(phase)s until %(date)s",
            phase=phase_name,
            date=deadline,
        ),
        _l(
            "Your agency may work on the %(phase)s phase until %(date)s. "
            "Reason: %(reason)s",
            phase=phase_name,
            date=deadline,
            reason=extension.reason,
        ),
        link="/",
    )


class YearCalendar:
    """Every window of one year, read once, for boards and reminders over many
    agencies (one query per table instead of one per agency and phase)."""

    def __init__(self, year):
        self.year = year
        self.rows = {
            (phase.kind, phase.district_id): phase
            for phase in db.session.execute(
                select(Phase).where(Phase.year_id == year.id)
            ).scalars()
        }
        self.extensions = {
            (extension.kind, extension.agency.id): extension
            for extension in db.session.execute(
                select(PhaseExtension).where(PhaseExtension.year_id == year.id)
            ).scalars()
        }

    def phase(self, kind, agency):
        district_id = calendar_district(agency)
        if district_id is not None and (kind, district_id) in self.rows:
            return self.rows[(kind, district_id)]
        return self.rows.get((kind, None))

    def window(self, kind, agency):
        phase = self.phase(kind, agency)
        if phase is None:
            return None
        extension = self.extensions.get((kind, agency.id))
        return Window(
            kind=kind,
            opens_at=phase.opens_at,
            closes_at=phase.closes_at,
            extended_to=extension.closes_at if extension else None,
            district_id=phase.district_id,
        )
