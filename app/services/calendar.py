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
from ..models import Phase, PhaseExtension
from . import clock
from .exceptions import DomainError


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
