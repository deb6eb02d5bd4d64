"""Every screen of the console, registered in one place so the menu reads here."""

from flask_babel import lazy_gettext as _l

from .appraisal import AppraisalView, ExplanationView
from .assessment import (
    AnswerModelView,
    AppraisalNoteModelView,
    EvidenceModelView,
    SubmissionModelView,
)
from .audit import ActivityLogModelView
from .campaign import CampaignView
from .indexes import (
    AssessmentYearModelView,
    FieldModelView,
    IndexSetModelView,
    IndicatorModelView,
    PhaseExtensionModelView,
    PhaseModelView,
)
from .notify import InboxView, MailOutboxModelView
from .organisation import (
    AgencyLevelModelView,
    AgencyModelView,
    DepartmentGroupModelView,
    MyAgencyView,
)
from .results import BandModelView, PublicationModelView, RankingView, ResultsView
from .selfassessment import SelfAssessmentView

ORGANISATION = ("Organisation", _l("Organisation"), "fa-sitemap")
INDEXES = ("Index sets", _l("Index sets"), "fa-list-ol")
ASSESSMENT = ("Assessment", _l("Assessment"), "fa-clipboard-check")
APPRAISAL = ("Appraisal", _l("Appraisal"), "fa-gavel")
CAMPAIGN = ("Campaign", _l("Campaign"), "fa-flag")
RESULTS = ("Results", _l("Results"), "fa-trophy")
RECORDS = ("Records", _l("Records"), "fa-history")


# (view, menu name, label, icon, category): the menu name is also the name of
# the menu_access permission, so it stays in English and stable.
MENU = [
    (
        SelfAssessmentView,
        "Self-assessment",
        _l("Self-assessment"),
        "fa-edit",
        ASSESSMENT,
    ),
    (InboxView, "Inbox", _l("Inbox"), "fa-inbox", ASSESSMENT),
    (
        SubmissionModelView,
        "Submissions",
        _l("Submissions"),
        "fa-folder-open",
        ASSESSMENT,
    ),
    (AnswerModelView, "Answers", _l("Answers"), "fa-check-square", ASSESSMENT),
    (EvidenceModelView, "Evidence", _l("Evidence"), "fa-file-pdf", ASSESSMENT),
    (AppraisalView, "Appraisal board", _l("Appraisal board"), "fa-gavel", APPRAISAL),
    (
        AppraisalNoteModelView,
        "Appraisal notes",
        _l("Appraisal notes"),
        "fa-comments",
        APPRAISAL,
    ),
    (CampaignView, "Campaign board", _l("Campaign board"), "fa-flag", CAMPAIGN),
    (PhaseModelView, "Phase calendar", _l("Phase calendar"), "fa-clock", CAMPAIGN),
    (
        PhaseExtensionModelView,
        "Extensions",
        _l("Extensions"),
        "fa-hourglass-half",
        CAMPAIGN,
    ),
    (RankingView, "Rankings", _l("Rankings"), "fa-trophy", RESULTS),
    (BandModelView, "Bands", _l("Classification bands"), "fa-layer-group", RESULTS),
    (PublicationModelView, "Publications", _l("Publications"), "fa-bullhorn", RESULTS),
    (
        AssessmentYearModelView,
        "Assessment years",
        _l("Assessment years"),
        "fa-calendar",
        INDEXES,
    ),
    (FieldModelView, "Fields", _l("Fields"), "fa-tags", INDEXES),
    (IndexSetModelView, "Index set list", _l("Index sets"), "fa-sitemap", INDEXES),
    (IndicatorModelView, "Indicators", _l("Indicators"), "fa-list", INDEXES),
    (MyAgencyView, "My agency", _l("My agency"), "fa-id-card", ORGANISATION),
    (AgencyModelView, "Agencies", _l("Agencies"), "fa-building", ORGANISATION),
    (
        AgencyLevelModelView,
        "Agency levels",
        _l("Agency levels"),
        "fa-layer-group",
        ORGANISATION,
    ),
    (
        DepartmentGroupModelView,
        "Department groups",
        _l("Department groups"),
        "fa-object-group",
        ORGANISATION,
    ),
    (ActivityLogModelView, "Activity log", _l("Activity log"), "fa-history", RECORDS),
    (MailOutboxModelView, "Mail outbox", _l("Mail outbox"), "fa-envelope", RECORDS),
]


# Menu links to custom pages: (menu name, label, endpoint, icon, category, the
# permission the page needs); a role sees the link when it holds that permission.
LINKS = [
    (
        "Public results",
        _l("Published results"),
        "ResultsView.index",
        "fa-globe",
        RESULTS,
        None,
    ),
    (
        "Import index set",
        _l("Import an index set"),
        "IndexSetModelView.import_set",
        "fa-file-import",
        INDEXES,
        ("can_import_set", "IndexSetModelView"),
    ),
    (
        "Compare years",
        _l("Compare years"),
        "AssessmentYearModelView.compare",
        "fa-code-compare",
        INDEXES,
        ("can_compare", "AssessmentYearModelView"),
    ),
]


def register_views(appbuilder):
    """Add every console screen to FAB, in menu order."""
    for view, name, label, icon, (category, category_label, category_icon) in MENU:
        appbuilder.add_view(
            view,
            name,
            label=label,
            icon=icon,
            category=category,
            category_label=category_label,
            category_icon=category_icon,
        )
    # Reached from notices and the self-assessment page, not from the menu.
    appbuilder.add_view_no_menu(ExplanationView)
    appbuilder.add_view_no_menu(ResultsView)
    for name, label, endpoint, icon, (category, category_label, _icon), _need in LINKS:
        appbuilder.add_link(
            name,
            href=endpoint,
            label=label,
            icon=icon,
            category=category,
            category_label=category_label,
        )


def menu_names(view):
    """Return the menu item and category names a view is reached through."""
    for entry, name, _label, _icon, (category, _cl, _ci) in MENU:
        if entry is view:
            return [name, category]
    return []


def view_class_by_name(name):
    """Return the registered view class called `name`.

    :raises KeyError: for a name no menu entry has, so a typo in a role table
        fails loudly instead of creating an orphan permission.
    """
    for entry, *_rest in MENU:
        if entry.__name__ == name:
            return entry
    for extra in (ExplanationView, ResultsView):
        if name == extra.__name__:
            return extra
    raise KeyError(f"no registered view is called {name}")
