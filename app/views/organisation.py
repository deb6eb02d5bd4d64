"""Screens over agencies, their levels and department groups."""

from flask import g
from flask_appbuilder.models.sqla.filters import FilterEqualFunction
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from ..models import Agency, AgencyLevel, DepartmentGroup
from .base import DtiModelView

AGENCY_LABELS = {
    "code": _l("Code"),
    "name": _l("Name"),
    "level": _l("Level"),
    "level.name": _l("Level"),
    "group": _l("Department group"),
    "group.code": _l("Department group"),
    "parent": _l("District"),
    "parent.name": _l("District"),
    "active": _l("Active"),
    "contact_name": _l("Focal contact"),
    "contact_position": _l("Position"),
    "contact_mobile": _l("Mobile"),
    "contact_landline": _l("Landline"),
    "contact_email": _l("E-mail"),
    "created_on": _l("Created on"),
    "changed_on": _l("Changed on"),
}

CONTACT_COLUMNS = [
    "contact_name",
    "contact_position",
    "contact_mobile",
    "contact_landline",
    "contact_email",
]


class AgencyModelView(DtiModelView):
    """Every agency taking part, with its level, group, district and contact."""

    datamodel = SQLAInterface(Agency)
    record_label = _l("Agency")
    list_title = _l("Agencies")
    show_title = _l("Agency")
    add_title = _l("Add agency")
    edit_title = _l("Edit agency")

    list_columns = [
        "code",
        "name",
        "level",
        "group",
        "parent",
        "contact_name",
        "active",
    ]
    export_columns = [
        "code",
        "name",
        "level.name",
        "group.code",
        "parent.name",
        "active",
        *CONTACT_COLUMNS,
    ]
    search_columns = ["code", "name", "level", "group", "parent", "active"]
    order_columns = ["code", "name", "level", "group", "parent"]
    base_order = ("code", "asc")
    add_columns = [
        "code",
        "name",
        "level",
        "group",
        "parent",
        "active",
        *CONTACT_COLUMNS,
    ]
    edit_columns = add_columns
    show_fieldsets = [
        (
            _l("Agency"),
            {"fields": ["code", "name", "level", "group", "parent", "active"]},
        ),
        (_l("Focal contact"), {"fields": CONTACT_COLUMNS}),
        (_l("Record"), {"fields": ["created_on", "changed_on"], "expanded": False}),
    ]
    label_columns = AGENCY_LABELS
    description_columns = {
        "code": _l(
            "Official administrative code for districts and communes; a local code "
            "(S01…) for departments."
        ),
        "level": _l("Decides which index set the agency answers."),
        "group": _l(
            "Departments only: the group of the department index set the agency is "
            "assessed in."
        ),
        "parent": _l("Communes only: the district that runs the commune's round."),
        "active": _l("Inactive agencies take no part in new rounds."),
        "contact_name": _l(
            "The focal contact the organiser's letter asks each agency for."
        ),
    }


class MyAgencyView(DtiModelView):
    """An agency's own record, where its staff keep the focal contact up to date."""

    datamodel = SQLAInterface(Agency)
    route_base = "/myagency"
    record_label = _l("Agency")
    list_title = _l("My agency")
    show_title = _l("My agency")
    edit_title = _l("Edit focal contact")
    base_permissions = ["can_list", "can_show", "can_edit", "can_csv"]
    # Strictly the user's own agency, even for roles that read more agencies.
    base_filters = [["id", FilterEqualFunction, lambda: g.user.agency_id]]

    list_columns = ["code", "name", "level", "contact_name", "contact_mobile"]
    export_columns = ["code", "name", "level.name", *CONTACT_COLUMNS]
    search_columns = ["code", "name"]
    show_columns = ["code", "name", "level", "group", "parent", *CONTACT_COLUMNS]
    edit_columns = CONTACT_COLUMNS
    label_columns = AGENCY_LABELS
    description_columns = AgencyModelView.description_columns


class AgencyLevelModelView(DtiModelView):
    """The tiers of government that have their own index set."""

    datamodel = SQLAInterface(AgencyLevel)
    record_label = _l("Level")
    list_title = _l("Agency levels")
    show_title = _l("Agency level")
    add_title = _l("Add agency level")
    edit_title = _l("Edit agency level")
    list_columns = ["rank", "code", "name"]
    search_columns = ["code", "name"]
    base_order = ("rank", "asc")
    add_columns = ["code", "name", "rank", "description"]
    edit_columns = add_columns
    label_columns = {
        "code": _l("Code"),
        "name": _l("Name"),
        "rank": _l("Order"),
        "description": _l("Description"),
    }
    description_columns = {
        "code": _l("A short, stable code used in files and imports, e.g. district."),
        "rank": _l("Position from the top of the administration down."),
    }


class DepartmentGroupModelView(DtiModelView):
    """The groups the department index set splits departments into."""

    datamodel = SQLAInterface(DepartmentGroup)
    record_label = _l("Department group")
    list_title = _l("Department groups")
    show_title = _l("Department group")
    add_title = _l("Add department group")
    edit_title = _l("Edit department group")
    list_columns = ["code", "name"]
    search_columns = ["code", "name"]
    base_order = ("code", "asc")
    add_columns = ["code", "name", "description"]
    edit_columns = add_columns
    label_columns = {
        "code": _l("Code"),
        "name": _l("Name"),
        "description": _l("Description"),
    }
