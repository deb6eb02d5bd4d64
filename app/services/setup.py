"""Rules for the organiser's set-up records: years, phases, fields, index sets."""

from flask_babel import lazy_gettext as _l

from .exceptions import DomainError


def check_year(year):
    """Refuse a year whose data period is empty or outside the year assessed."""
    if year.data_start and year.data_end and year.data_start > year.data_end:
        raise DomainError(
            _l(
                "The data period of year %(year)s ends before it starts.",
                year=year.year,
            )
        )

    if year.data_start and year.year and year.data_start.year != year.year:
        raise DomainError(
            _l(
                "The data period must start in the year assessed (%(year)s).",
                year=year.year,
            )
        )


def check_phase(phase):
    """Refuse a phase that closes before it opens or belongs to a non-district."""
    if phase.opens_at and phase.closes_at and phase.opens_at >= phase.closes_at:
        raise DomainError(_l("A phase must close after it opens."))

    district = phase.district
    if district is not None and district.level.code != "district":
        raise DomainError(
            _l(
                "%(agency)s is not a district: only districts keep their own calendar.",
                agency=district.name,
            )
        )


def check_field(field):
    """Refuse appraiser accounts that do not belong to the appraising agency."""
    agency_id = field.appraiser_agency.id if field.appraiser_agency else None
    for user in field.appraisers or []:
        if user.agency_id != agency_id:
            raise DomainError(
                _l(
                    "Account %(username)s does not belong to the appraising agency "
                    "of field %(code)s.",
                    username=user.username,
                    code=field.code,
                )
            )


def check_index_set(index_set):
    """Refuse a department group on a set that is not for departments."""
    level = index_set.level
    if index_set.group is not None and level is not None and level.code != "department":
        raise DomainError(
            _l("Only department index sets are split by department group.")
        )

    if index_set.max_points is not None and index_set.max_points <= 0:
        raise DomainError(_l("An index set must be worth more than 0 points."))
