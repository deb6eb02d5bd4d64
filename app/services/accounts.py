"""Provisioning accounts: role, agency and fields checked before anything is saved."""

import logging
import os

from flask import current_app
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Agency, AssessmentYear, Field
from . import activity
from .exceptions import DomainError
from .permissions import Role

logger = logging.getLogger(__name__)

# Shown by `make run` on a development machine; never accepted in production.
DEFAULT_DEMO_PASSWORD = "DtiCanTho@2023"

# Roles that make no sense without the agency the account acts for.
AGENCY_BOUND = {Role.SPECIALIST, Role.APPROVER, Role.APPRAISER, Role.DISTRICT_ORGANISER}


def demo_password():
    """Return the demo accounts' password.

    :raises DomainError: in production without DTI_DEMO_PASSWORD, so a known
        default never guards a real server.
    """
    configured = current_app.config.get("DTI_DEMO_PASSWORD")
    if configured:
        return configured

    production = current_app.config.get("DTI_ENV") == "production"
    debug = os.environ.get("FLASK_DEBUG", "").lower() in {"1", "true"}
    if production and not debug:
        raise DomainError(
            _l(
                "Set DTI_DEMO_PASSWORD: the default demo password is refused "
                "in production."
            )
        )
    return DEFAULT_DEMO_PASSWORD


def check_password(password):
    """Apply the console's password rule outside a form (CLI, seeding)."""
    validator = current_app.config["FAB_PASSWORD_COMPLEXITY_VALIDATOR"]
    try:
        validator(password)
    except PasswordComplexityValidationError as error:
        raise DomainError(str(error)) from error


def _year(year):
    statement = select(AssessmentYear)
    if year is not None:
        statement = statement.where(AssessmentYear.year == year)
    found = db.session.execute(statement.order_by(AssessmentYear.year.desc())).scalars()
    found = found.first()
    if found is None:
        raise DomainError(_l("Assessment year %(year)s does not exist.", year=year))
    return found


def create_user(
    username,
    password,
    role_name,
    agency_code=None,
    field_codes=(),
    year=None,
    first_name="",
    last_name="",
    email="",
):
    """Create an account after checking every part of it; return the user."""
    sm = current_app.appbuilder.sm
    if sm.find_user(username=username) is not None:
        raise DomainError(_l("Account %(username)s already exists.", username=username))

    role = sm.find_role(role_name)
    if role is None:
        names = ", ".join(str(name) for name in Role)
        raise DomainError(
            _l(
                "Role %(role)s does not exist. Roles: %(names)s.",
                role=role_name,
                names=names,
            )
        )
    check_password(password)

    agency = None
    if agency_code:
        agency = db.session.execute(
            select(Agency).where(Agency.code == agency_code)
        ).scalar()
        if agency is None:
            raise DomainError(_l("Agency %(code)s does not exist.", code=agency_code))
    elif role_name in {str(name) for name in AGENCY_BOUND}:
        raise DomainError(_l("A %(role)s account needs --agency.", role=role_name))

    if role_name == Role.DISTRICT_ORGANISER and agency.level.code != "district":
        raise DomainError(_l("%(agency)s is not a district.", agency=agency.name))

    fields = []
    if field_codes:
        assessment_year = _year(year)
        for code in field_codes:
            field = db.session.execute(
                select(Field).where(
                    Field.year_id == assessment_year.id, Field.code == code
                )
            ).scalar()
            if field is None:
                raise DomainError(
                    _l(
                        "Field %(code)s does not exist in %(year)s.",
                        code=code,
                        year=assessment_year.year,
                    )
                )
            if agency is None or field.appraiser_agency_id != agency.id:
                raise DomainError(
                    _l(
                        "Field %(code)s is appraised by another agency.",
                        code=code,
                    )
                )
            fields.append(field)

    user = sm.add_user(
        username=username,
        first_name=first_name or username,
        last_name=last_name or "-",
        email=email or f"{username}@dti.invalid",
        role=role,
        password=password,
    )
    if not user:
        raise DomainError(
            _l("Account %(username)s could not be created.", username=username)
        )

    user = db.session.get(sm.user_model, user.id)
    user.agency = agency
    user.fields = fields
    activity.record(
        "user.created",
        _l(
            "Account %(username)s created with role %(role)s.",
            username=username,
            role=role_name,
        ),
        target=user,
        agency_id=agency.id if agency else None,
    )
    db.session.commit()
    logger.info("user %s created with role %s", user.id, role_name)
    return user
