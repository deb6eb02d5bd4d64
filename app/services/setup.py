"""Rules for the organiser's set-up records: years, phases, fields, index sets."""

from flask_babel import lazy_gettext as _l

from ..models import IndicatorKind
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


def check_indicator(indicator):
    """Refuse an indicator that does not fit its set's tree or year."""
    index_set = indicator.index_set
    parent = indicator.parent
    kind = indicator.kind
    if index_set is None:
        raise DomainError(_l("Choose the index set of the indicator."))

    if parent is not None and parent.index_set_id != index_set.id:
        raise DomainError(
            _l(
                "The parent of %(code)s belongs to another index set.",
                code=indicator.code,
            )
        )
    expected_parent = {
        IndicatorKind.PILLAR: None,
        IndicatorKind.MAIN: IndicatorKind.PILLAR,
        IndicatorKind.COMPONENT: IndicatorKind.MAIN,
    }[IndicatorKind(kind)]
    if (parent.kind if parent else None) != expected_parent:
        raise DomainError(
            _l(
                "%(code)s does not fit under that parent: pillars have none, main "
                "indicators sit under a pillar, components under a main indicator.",
                code=indicator.code,
            )
        )

    field = indicator.field
    if field is not None and field.year_id != index_set.year_id:
        raise DomainError(
            _l("Field %(field)s belongs to another year.", field=field.code)
        )
    if kind != IndicatorKind.COMPONENT and (field is not None or indicator.rule_type):
        raise DomainError(
            _l(
                "Only components carry a scoring rule and a field (%(code)s).",
                code=indicator.code,
            )
        )
    if indicator.max_points is not None and indicator.max_points < 0:
        raise DomainError(_l("The maximum points cannot be negative."))
