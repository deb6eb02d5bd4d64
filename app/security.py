"""FAB's security manager, extended with what DTI Console needs.

Adds: users linked to an agency, account lockout after repeated failed logins,
login events in the activity log, a Vietnamese password rule, and permission
checks cached per request (FAB otherwise runs one query per menu item and button).
"""

import logging
import re

from flask import current_app, g, has_request_context
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import UserDBModelView
from flask_babel import lazy_gettext as _l

from .extensions import db
from .models import DtiUser
from .services import activity

logger = logging.getLogger(__name__)

_PASSWORD_RULES = (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]")


def check_password_complexity(password):
    """Refuse a password shorter than 10 or missing a class of characters."""
    password = password or ""
    if len(password) >= 10 and all(
        re.search(rule, password) for rule in _PASSWORD_RULES
    ):
        return
    raise PasswordComplexityValidationError(
        str(
            _l(
                "The password must be at least 10 characters long and contain an "
                "upper-case letter, a lower-case letter, a digit and a special "
                "character."
            )
        )
    )


class DtiUserDBModelView(UserDBModelView):
    """FAB's user screen with the agency and fields of each account."""

    list_columns = ["username", "first_name", "last_name", "agency", "roles", "active"]
    search_columns = [
        "username",
        "first_name",
        "last_name",
        "email",
        "agency",
        "active",
    ]
    add_columns = UserDBModelView.add_columns + ["agency", "fields"]
    edit_columns = UserDBModelView.edit_columns + ["agency", "fields"]
    show_fieldsets = [
        (
            _l("User info"),
            {"fields": ["username", "active", "roles", "agency", "fields"]},
        ),
        (_l("Personal Info"), {"fields": ["first_name", "last_name", "email"]}),
        (
            _l("Audit Info"),
            {
                "fields": [
                    "last_login",
                    "login_count",
                    "fail_login_count",
                    "created_on",
                    "changed_on",
                ],
                "expanded": False,
            },
        ),
    ]
    label_columns = {
        **UserDBModelView.label_columns,
        "agency": _l("Agency"),
        "fields": _l("Fields appraised"),
    }
    description_columns = {
        **UserDBModelView.description_columns,
        "agency": _l(
            "The agency this account acts for. Specialists, unit approvers, "
            "appraisers and district organisers see only their agency's records."
        ),
        "fields": _l(
            "For appraiser accounts: the fields whose indicators they appraise."
        ),
        "active": _l(
            "Untick to block the account. Ticking it again unlocks an account "
            "locked after repeated failed logins."
        ),
    }
    base_order = ("username", "asc")

    def _edit(self, pk):
        # Filling the roles field loads relations; without this the autoflush
        # would clear the change history pre_update logs.
        with db.session.no_autoflush:
            return super()._edit(pk)

    def pre_update(self, item):
        """Reset the failure count when an administrator unlocks an account."""
        super().pre_update(item)
        changes = activity.changes_of(item)
        if changes.get("active", {}).get("new") is True:
            item.fail_login_count = 0
            activity.record(
                "user.unlocked",
                _l("Account %(username)s unlocked.", username=item.username),
                target=item,
                agency_id=item.agency_id,
            )
        if changes:
            activity.record(
                "user.updated",
                _l("Account %(username)s updated.", username=item.username),
                target=item,
                agency_id=item.agency_id,
                changes=changes,
            )

    def post_add(self, item):
        activity.record(
            "user.created",
            _l("Account %(username)s created.", username=item.username),
            target=item,
            agency_id=item.agency_id,
        )
        self.datamodel.session.commit()


class DtiSecurityManager(SecurityManager):
    """The security manager FAB builds, set through FAB_SECURITY_MANAGER_CLASS."""

    user_model = DtiUser
    userdbmodelview = DtiUserDBModelView
    # FAB's user statistics chart loads Google Charts from the internet.
    userstatschartview = None

    def __init__(self, appbuilder):
        super().__init__(appbuilder)
        current_app.config.setdefault(
            "FAB_PASSWORD_COMPLEXITY_VALIDATOR", check_password_complexity
        )

    # --- Login events and lockout ---

    def auth_user_db(self, username, password):
        """Authenticate, recording a failure for unknown or blocked accounts too."""
        user = super().auth_user_db(username, password)
        if user is None and username:
            known = self.find_user(username=username)
            if known is None:
                activity.record(
                    "login.failed",
                    _l(
                        "Failed login for unknown account %(username)s.",
                        username=username,
                    ),
                )
                self.session.commit()
            elif not known.active:
                activity.record(
                    "login.refused",
                    _l(
                        "Login refused: account %(username)s is locked or inactive.",
                        username=known.username,
                    ),
                    target=known,
                    agency_id=known.agency_id,
                    user=known,
                )
                self.session.commit()
        return user

    def update_user_auth_stat(self, user, success=True):
        """Count the attempt, lock the account after too many failures, log it."""
        if success:
            activity.record(
                "login.succeeded",
                _l("%(username)s logged in.", username=user.username),
                target=user,
                agency_id=user.agency_id,
                user=user,
            )
            super().update_user_auth_stat(user, success)
            return

        failures = (user.fail_login_count or 0) + 1
        activity.record(
            "login.failed",
            _l(
                "Failed login for %(username)s (attempt %(count)s).",
                username=user.username,
                count=failures,
            ),
            target=user,
            agency_id=user.agency_id,
            user=user,
        )
        limit = current_app.config.get("DTI_LOCKOUT_AFTER", 5)
        if limit and failures >= limit and user.active:
            user.active = False
            activity.record(
                "login.locked",
                _l(
                    "Account %(username)s locked after %(count)s failed logins.",
                    username=user.username,
                    count=failures,
                ),
                target=user,
                agency_id=user.agency_id,
                user=user,
            )
            logger.warning(
                "account %s locked after %s failed logins; an admin must reactivate it",
                user.id,
                failures,
            )
        super().update_user_auth_stat(user, success)

    # --- Permission checks, cached per request ---

    def _permission_set(self, user):
        """Return the user's (permission, view) pairs, computed once per request."""
        if not has_request_context():
            return self.get_user_permissions(user)

        cache = g.setdefault("_dti_permissions", {})
        key = getattr(user, "id", None)
        if key not in cache:
            cache[key] = self.get_user_permissions(user)
        return cache[key]

    def _has_view_access(self, user, permission_name, view_name):
        return (permission_name, view_name) in self._permission_set(user)

    def _get_user_permission_view_menus(self, user, permission_name, view_menus_name):
        if user is None:
            return super()._get_user_permission_view_menus(
                user, permission_name, view_menus_name
            )
        granted = {
            view for perm, view in self._permission_set(user) if perm == permission_name
        }
        if view_menus_name is None:
            return granted
        return granted & set(view_menus_name)
