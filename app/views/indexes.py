"""Screens over assessment years, phase calendars, fields and index sets."""

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from .. import labels
from ..models import AssessmentYear, Field, IndexSet, Indicator, Phase
from ..services import setup
from .base import DtiModelView
from .formatting import format_points


def _label_of(mapping):
    return lambda code: labels.label(mapping, code)


class AssessmentYearModelView(DtiModelView):
    """The yearly rounds: the year assessed, its data period and its state."""

    datamodel = SQLAInterface(AssessmentYear)
    record_label = _l("Assessment year")
    list_title = _l("Assessment years")
    show_title = _l("Assessment year")
    add_title = _l("Add assessment year")
    edit_title = _l("Edit assessment year")

    list_columns = ["year", "name", "data_start", "data_end", "status"]
    search_columns = ["year", "name", "status"]
    base_order = ("year", "desc")
    add_columns = ["year", "name", "data_start", "data_end", "status", "note"]
    edit_columns = add_columns
    show_columns = [*add_columns, "copied_from", "created_on", "changed_on"]
    label_columns = {
        "year": _l("Year assessed"),
        "name": _l("Name"),
        "data_start": _l("Data period from"),
        "data_end": _l("Data period to"),
        "status": _l("State"),
        "note": _l("Note"),
        "copied_from": _l("Copied from"),
        "created_on": _l("Created on"),
        "changed_on": _l("Changed on"),
    }
    description_columns = {
        "year": _l("The calendar year whose figures are assessed, e.g. 2022."),
        "data_start": _l("Figures must describe this period: normally 1 January."),
        "data_end": _l("Normally 31 December of the year assessed."),
        "status": _l(
            "Being prepared: index sets and calendar may change freely. Running: "
            "the round is under way. Closed: results published."
        ),
    }
    formatters_columns = {"status": _label_of(labels.YEAR_STATUS)}
    export_formatters = formatters_columns
    add_form_extra_fields = {
        "status": SelectField(
            _l("State"), choices=labels.choices(labels.YEAR_STATUS), coerce=int
        )
    }
    edit_form_extra_fields = add_form_extra_fields
    search_form_extra_fields = {
        "status": SelectField(_l("State"), choices=labels.choices(labels.YEAR_STATUS))
    }

    def pre_add(self, item):
        setup.check_year(item)

    def pre_update(self, item):
        setup.check_year(item)
        super().pre_update(item)


class PhaseModelView(DtiModelView):
    """The phase calendar: when each phase of a year opens and closes."""

    datamodel = SQLAInterface(Phase)
    record_label = _l("Phase")
    list_title = _l("Phase calendar")
    show_title = _l("Phase")
    add_title = _l("Add phase")
    edit_title = _l("Edit phase")

    list_columns = ["year", "kind", "district", "opens_at", "closes_at"]
    export_columns = [
        "year.year",
        "kind",
        "district.name",
        "opens_at",
        "closes_at",
        "note",
    ]
    search_columns = ["year", "kind", "district", "opens_at", "closes_at"]
    order_columns = ["year", "kind", "opens_at", "closes_at"]
    base_order = ("opens_at", "asc")
    add_columns = ["year", "kind", "district", "opens_at", "closes_at", "note"]
    edit_columns = add_columns
    label_columns = {
        "year": _l("Assessment year"),
        "year.year": _l("Assessment year"),
        "kind": _l("Phase"),
        "district": _l("District calendar"),
        "district.name": _l("District calendar"),
        "opens_at": _l("Opens"),
        "closes_at": _l("Closes"),
        "note": _l("Note"),
    }
    description_columns = {
        "district": _l(
            "Leave empty for the city's calendar. A district sets its own dates "
            "for its communes' round here."
        ),
        "closes_at": _l("Actions are refused after this moment (local time)."),
    }
    formatters_columns = {"kind": _label_of(labels.PHASE_KIND)}
    export_formatters = formatters_columns
    add_form_extra_fields = {
        "kind": SelectField(
            _l("Phase"), choices=labels.choices(labels.PHASE_KIND), coerce=int
        )
    }
    edit_form_extra_fields = add_form_extra_fields
    search_form_extra_fields = {
        "kind": SelectField(_l("Phase"), choices=labels.choices(labels.PHASE_KIND))
    }

    def pre_add(self, item):
        setup.check_phase(item)

    def pre_update(self, item):
        setup.check_phase(item)
        super().pre_update(item)


class FieldModelView(DtiModelView):
    """Fields of indicators and which agency appraises each, per year."""

    datamodel = SQLAInterface(Field)
    record_label = _l("Field")
    list_title = _l("Fields")
    show_title = _l("Field")
    add_title = _l("Add field")
    edit_title = _l("Edit field")

    list_columns = ["year", "code", "name", "appraiser_agency"]
    export_columns = [
        "year.year",
        "code",
        "name",
        "appraiser_agency.name",
        "description",
    ]
    search_columns = ["year", "code", "name", "appraiser_agency"]
    base_order = ("code", "asc")
    add_columns = [
        "year",
        "code",
        "name",
        "appraiser_agency",
        "appraisers",
        "description",
    ]
    edit_columns = add_columns
    label_columns = {
        "year": _l("Assessment year"),
        "year.year": _l("Assessment year"),
        "code": _l("Code"),
        "name": _l("Name"),
        "appraiser_agency": _l("Appraising agency"),
        "appraiser_agency.name": _l("Appraising agency"),
        "appraisers": _l("Appraiser accounts"),
        "description": _l("Description"),
    }
    description_columns = {
        "appraiser_agency": _l("The department assigned to appraise this field."),
        "appraisers": _l("Accounts of the appraising agency that appraise this field."),
    }

    def pre_add(self, item):
        setup.check_field(item)

    def pre_update(self, item):
        setup.check_field(item)
        super().pre_update(item)


class IndexSetModelView(DtiModelView):
    """The index set each level (and department group) answers in a year."""

    datamodel = SQLAInterface(IndexSet)
    record_label = _l("Index set")
    list_title = _l("Index sets")
    show_title = _l("Index set")
    add_title = _l("Add index set")
    edit_title = _l("Edit index set")

    list_columns = ["year", "level", "group", "name", "max_points", "version"]
    export_columns = [
        "year.year",
        "level.code",
        "group.code",
        "name",
        "max_points",
        "version",
        "source",
    ]
    search_columns = ["year", "level", "group", "name", "source"]
    order_columns = ["year", "level", "group", "name"]
    base_order = ("name", "asc")
    add_columns = ["year", "level", "group", "name", "max_points", "source", "note"]
    edit_columns = add_columns
    show_columns = [*add_columns, "version", "created_on", "changed_on"]
    label_columns = {
        "year": _l("Assessment year"),
        "year.year": _l("Assessment year"),
        "level": _l("Level"),
        "level.code": _l("Level"),
        "group": _l("Department group"),
        "group.code": _l("Department group"),
        "name": _l("Name"),
        "max_points": _l("Maximum points"),
        "version": _l("Version"),
        "source": _l("Source"),
        "note": _l("Note"),
        "created_on": _l("Created on"),
        "changed_on": _l("Changed on"),
    }
    description_columns = {
        "group": _l("Department sets only: the group of departments this set is for."),
        "max_points": _l("The total the set is built to: 1,000 for most sets."),
        "source": _l(
            "The decision the content comes from, or a note that it is illustrative."
        ),
    }
    formatters_columns = {"max_points": format_points}

    def pre_add(self, item):
        setup.check_index_set(item)

    def pre_update(self, item):
        setup.check_index_set(item)
        super().pre_update(item)


class IndicatorModelView(DtiModelView):
    """The nodes of every index set: pillars, main and component indicators."""

    datamodel = SQLAInterface(Indicator)
    record_label = _l("Indicator")
    list_title = _l("Indicators")
    show_title = _l("Indicator")
    add_title = _l("Add indicator")
    edit_title = _l("Edit indicator")

    list_columns = ["index_set", "code", "name", "kind", "max_points", "field"]
    export_columns = [
        "index_set.name",
        "code",
        "parent.code",
        "kind",
        "name",
        "max_points",
        "field.code",
        "evidence_required",
        "rule_type",
        "rule_params",
        "method_text",
        "evidence_text",
        "data_source",
        "verifying_unit",
    ]
    search_columns = ["index_set", "code", "name", "field", "rule_type"]
    order_columns = ["code", "name", "max_points"]
    base_order = ("position", "asc")
    page_size = 50
    add_columns = [
        "index_set",
        "parent",
        "kind",
        "code",
        "name",
        "position",
        "max_points",
        "field",
        "evidence_required",
        "rule_type",
        "method_text",
        "evidence_text",
        "data_source",
        "verifying_unit",
    ]
    edit_columns = add_columns
    show_columns = [*add_columns, "rule_params"]
    label_columns = {
        "index_set": _l("Index set"),
        "index_set.name": _l("Index set"),
        "parent": _l("Parent"),
        "parent.code": _l("Parent"),
        "kind": _l("Tier"),
        "code": _l("Number"),
        "name": _l("Indicator"),
        "position": _l("Order"),
        "max_points": _l("Maximum points"),
        "field": _l("Field"),
        "field.code": _l("Field"),
        "evidence_required": _l("Evidence required"),
        "rule_type": _l("Scoring rule"),
        "rule_params": _l("Rule parameters"),
        "method_text": _l("Method of scoring"),
        "evidence_text": _l("Evidence"),
        "data_source": _l("Data source"),
        "verifying_unit": _l("Verifying unit"),
    }
    description_columns = {
        "parent": _l(
            "Main indicators sit under a pillar, components under a main one."
        ),
        "code": _l("The number in the official annex, e.g. 1.2."),
        "field": _l(
            "Components only: the field whose appraisers check this indicator."
        ),
        "evidence_required": _l(
            "A scored answer needs either an evidence file or a written explanation."
        ),
        "method_text": _l("The annex's own words on how the points are given."),
    }
    formatters_columns = {
        "kind": _label_of(labels.INDICATOR_KIND),
        "max_points": format_points,
    }
    export_formatters = {"kind": _label_of(labels.INDICATOR_KIND)}
    add_form_extra_fields = {
        "kind": SelectField(
            _l("Tier"), choices=labels.choices(labels.INDICATOR_KIND), coerce=int
        )
    }
    edit_form_extra_fields = add_form_extra_fields
