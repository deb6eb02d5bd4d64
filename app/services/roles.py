"""The console's roles and exactly which FAB permissions each one holds.

`sync_roles` makes the database match this table: it adds what is missing and
removes what is not listed, so running it twice changes nothing.
"""

import logging

from flask import current_app

from .permissions import Role

logger = logging.getLogger(__name__)

READ = ("can_list", "can_show", "can_csv")
EDIT = (*READ, "can_edit")
WRITE = (*READ, "can_add", "can_edit", "can_delete")

# What every signed-in account needs: its own profile and password.
SELF_SERVICE = [
    ("can_userinfo", "DtiUserDBModelView"),
    ("resetmypassword", "DtiUserDBModelView"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
    ("can_this_form_get", "UserInfoEditView"),
    ("can_this_form_post", "UserInfoEditView"),
]

# Reference data every role may read.
SETUP_VIEWS = (
    "AssessmentYearModelView",
    "PhaseModelView",
    "FieldModelView",
    "IndexSetModelView",
    "IndicatorModelView",
    "AgencyLevelModelView",
    "DepartmentGroupModelView",
)

# What readers of the set-up may do besides listing it.
SETUP_EXTRAS = {
    "IndexSetModelView": (*READ, "can_export"),
    "AssessmentYearModelView": (*READ, "can_compare"),
}
SETUP_READ = {**dict.fromkeys(SETUP_VIEWS, READ), **SETUP_EXTRAS}

# The self-assessment screen: reading it, and each step of the workflow.
SELF_READ = ("can_page", "can_download")
SELF_SPECIALIST = (
    "can_index",
    *SELF_READ,
    "can_save",
    "can_submit",
    "can_upload",
    "can_remove_evidence",
)
SELF_APPROVER = ("can_index", *SELF_READ, "can_approve", "can_send_back")
SELF_ORGANISER = (
    "can_index",
    *SELF_READ,
    "can_save",
    "can_send_back",
    "can_upload",
    "can_remove_evidence",
)

# Every role reads its own inbox.
INBOX = {"InboxView": ("can_list", "can_show", "mark_read")}
RANKING_ALL = ("can_index", "can_recompute", "can_export", "can_publish", "can_agency")
APPRAISAL_ALL = (
    "can_board",
    "can_answer",
    "can_summary",
    "can_finalise",
    "can_reopen",
    "can_close_explanation",
)

ROLE_PERMISSIONS = {
    # The Department of Information and Communications' staff run the round.
    Role.ORGANISER: {
        "AgencyModelView": WRITE,
        "AgencyLevelModelView": WRITE,
        "DepartmentGroupModelView": WRITE,
        "AssessmentYearModelView": (
            *WRITE,
            "open_round",
            "copy_year",
            "can_new_year",
            "can_compare",
        ),
        "PhaseModelView": (*WRITE, "can_move"),
        "PhaseExtensionModelView": WRITE,
        "FieldModelView": WRITE,
        "IndexSetModelView": (
            *WRITE,
            "can_export",
            "can_import_set",
            "can_new_version",
            "can_close_version",
        ),
        "IndicatorModelView": WRITE,
        "SubmissionModelView": WRITE,
        "AnswerModelView": EDIT,
        "EvidenceModelView": (*READ, "can_edit", "can_delete"),
        "AppraisalNoteModelView": READ,
        "ActivityLogModelView": READ,
        "SelfAssessmentView": SELF_ORGANISER,
        "AppraisalView": APPRAISAL_ALL,
        "ExplanationView": ("can_page",),
        "CampaignView": ("can_board",),
        "MailOutboxModelView": ("can_list", "can_show", "can_csv", "retry"),
        "RankingView": RANKING_ALL,
        "BandModelView": WRITE,
        "PublicationModelView": READ,
        **INBOX,
    },
    # An agency's specialist enters figures and evidence.
    Role.SPECIALIST: {
        **SETUP_READ,
        "MyAgencyView": EDIT,
        "SelfAssessmentView": SELF_SPECIALIST,
        "ExplanationView": ("can_page", "can_reply", "can_add_evidence"),
        "PhaseExtensionModelView": READ,
        **INBOX,
        "SubmissionModelView": READ,
        "AnswerModelView": EDIT,
        "EvidenceModelView": (*READ, "can_edit", "can_delete"),
        "AppraisalNoteModelView": READ,
        "ActivityLogModelView": READ,
    },
    # An agency's leader signs its self-assessment off.
    Role.APPROVER: {
        **SETUP_READ,
        "MyAgencyView": READ,
        "SelfAssessmentView": SELF_APPROVER,
        "ExplanationView": ("can_page", "can_sign_off"),
        "PhaseExtensionModelView": READ,
        **INBOX,
        "SubmissionModelView": READ,
        "AnswerModelView": READ,
        "EvidenceModelView": READ,
        "AppraisalNoteModelView": READ,
        "ActivityLogModelView": READ,
    },
    # Appraisers of a field give verdicts on its indicators for every agency.
    Role.APPRAISER: {
        **SETUP_READ,
        "AgencyModelView": READ,
        "SelfAssessmentView": SELF_READ,
        "SubmissionModelView": READ,
        "AnswerModelView": READ,
        "EvidenceModelView": READ,
        "AppraisalNoteModelView": READ,
        "ActivityLogModelView": READ,
        "AppraisalView": ("can_board", "can_answer", "can_summary"),
        "ExplanationView": ("can_page",),
        **INBOX,
    },
    # A district runs the whole round for its own communes.
    Role.DISTRICT_ORGANISER: {
        **SETUP_READ,
        "PhaseModelView": (*WRITE, "can_move"),
        "PhaseExtensionModelView": (*READ, "can_add", "can_edit"),
        "AgencyModelView": EDIT,
        "MyAgencyView": EDIT,
        "SelfAssessmentView": SELF_READ,
        "SubmissionModelView": READ,
        "AnswerModelView": READ,
        "EvidenceModelView": READ,
        "AppraisalNoteModelView": READ,
        "ActivityLogModelView": READ,
        "AppraisalView": (
            "can_summary",
            "can_finalise",
            "can_reopen",
            "can_close_explanation",
        ),
        "ExplanationView": ("can_page",),
        "CampaignView": ("can_board",),
        "RankingView": RANKING_ALL,
        "BandModelView": READ,
        "PublicationModelView": READ,
        **INBOX,
    },
    # Read-only access to everything, e.g. for the city's leadership or auditors.
    Role.VIEWER: {
        **SETUP_READ,
        "AgencyModelView": READ,
        "SelfAssessmentView": SELF_READ,
        "SubmissionModelView": READ,
        "AnswerModelView": READ,
        "EvidenceModelView": READ,
        "AppraisalNoteModelView": READ,
        "ActivityLogModelView": READ,
        "PhaseExtensionModelView": READ,
        "AppraisalView": ("can_summary",),
        "ExplanationView": ("can_page",),
        "CampaignView": ("can_board",),
        "RankingView": ("can_index", "can_export", "can_agency"),
        "BandModelView": READ,
        "PublicationModelView": READ,
        **INBOX,
    },
}


def permission_pairs(role):
    """Return the (permission, view) pairs a role holds, menus included."""
    from ..views import LINKS, menu_names, view_class_by_name

    pairs = set(SELF_SERVICE)
    for view_name, permission_names in ROLE_PERMISSIONS[role].items():
        offered = view_class_by_name(view_name).base_permissions
        for permission_name in permission_names:
            if permission_name not in offered:
                raise ValueError(f"{view_name} offers no {permission_name} ({role})")
            pairs.add((permission_name, view_name))
        if {"can_list", "can_index"} & set(permission_names):
            for menu in menu_names(view_class_by_name(view_name)):
                pairs.add(("menu_access", menu))
    for name, _label, _endpoint, _icon, (category, *_rest), needed in LINKS:
        # A link that needs nothing (the public results) is in every menu.
        if needed is None or needed in pairs:
            pairs.update({("menu_access", name), ("menu_access", category)})
    return pairs


def sync_permissions():
    """Create the permission rows of every registered view and menu."""
    appbuilder = current_app.appbuilder
    # FAB hands each new permission to Admin and fails silently if it is missing.
    appbuilder.sm.add_role(appbuilder.sm.auth_role_admin)
    appbuilder.sm.add_role(appbuilder.sm.auth_role_public)
    _prune_stale_permissions(appbuilder)
    appbuilder.add_permissions(update_perms=True)


def _prune_stale_permissions(appbuilder):
    """Drop permissions a view no longer offers (a renamed action, say).

    FAB refuses to delete them while a role holds them, so they are taken
    from every role first.
    """
    sm = appbuilder.sm
    for baseview in appbuilder.baseviews:
        offered = set(baseview.base_permissions or [])
        view_menu = sm.find_view_menu(baseview.class_permission_name)
        if view_menu is None or not offered:
            continue
        for permission_view in sm.find_permissions_view_menu(view_menu):
            if permission_view.permission.name in offered:
                continue
            for role in sm.get_all_roles():
                if permission_view in role.permissions:
                    role.permissions.remove(permission_view)
            sm.session.delete(permission_view)
            logger.info(
                "stale permission %s on %s removed",
                permission_view.permission.name,
                view_menu.name,
            )
    sm.session.commit()


def sync_roles():
    """Make every console role hold exactly its listed permissions.

    Returns {role name: (added, removed)} for the CLI to report.
    """
    sm = current_app.appbuilder.sm
    report = {}

    public = sm.add_role(sm.auth_role_public)
    for role_name in ROLE_PERMISSIONS:
        role = sm.add_role(str(role_name))
        wanted = []
        for permission_name, view_name in sorted(permission_pairs(role_name)):
            permission_view = sm.add_permission_view_menu(permission_name, view_name)
            if permission_view is None:
                raise RuntimeError(f"cannot create {permission_name} on {view_name}")
            wanted.append(permission_view)

        before = set(role.permissions)
        role.permissions = wanted
        report[role.name] = (len(set(wanted) - before), len(before - set(wanted)))

    # Anonymous visitors see only the link to the published results.
    from ..views import LINKS

    public_pairs = [
        ("menu_access", menu)
        for name, _label, _endpoint, _icon, (category, *_rest), needed in LINKS
        if needed is None
        for menu in (name, category)
    ]
    public.permissions = [
        sm.add_permission_view_menu(permission, view)
        for permission, view in public_pairs
    ]

    # Admin holds every permission, the ones created just above included.
    admin = sm.add_role(sm.auth_role_admin)
    every = set(sm.session.query(sm.permissionview_model).all())
    before = set(admin.permissions)
    admin.permissions = list(every)
    report[admin.name] = (len(every - before), len(before - every))

    sm.session.commit()
    for name, (added, removed) in report.items():
        if added or removed:
            logger.info(
                "role %s: %s permissions added, %s removed", name, added, removed
            )
    return report
