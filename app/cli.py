"""The `flask dti …` commands: roles, demo data, accounts and the yearly tasks."""

import json
import logging

import click
from flask import current_app
from flask.cli import AppGroup

from .extensions import db
from .services import accounts, roles, seeding
from .services.exceptions import DomainError

logger = logging.getLogger(__name__)

dti = AppGroup("dti", help="DTI Console administration.")


def _fail(error):
    """Print a refusal in the user's words and exit with status 1."""
    db.session.rollback()
    raise click.ClickException(str(error))


@dti.command("init-roles")
def init_roles():
    """Create every permission once and give each role exactly its own."""
    roles.sync_permissions()
    report = roles.sync_roles()
    for name, (added, removed) in sorted(report.items()):
        click.echo(f"{name}: +{added} -{removed}")


@dti.command("seed")
@click.option("--demo", is_flag=True, help="Also load demo accounts and dossiers.")
@click.option(
    "--if-empty", is_flag=True, help="Do nothing when agencies already exist."
)
def seed(demo, if_empty):
    """Load the Can Tho reference data from seed/ (and the demo data)."""
    if if_empty and seeding.has_data():
        click.echo("Database already seeded; nothing to do.")
        return

    try:
        summary = seeding.load_reference()
        if demo:
            password = accounts.demo_password()
            summary.update(seeding.load_demo(password))
    except DomainError as error:
        _fail(error)
    click.echo(", ".join(f"{count} {name}" for name, count in summary.items()))


@dti.command("demo-accounts")
def demo_accounts():
    """Print the demo accounts and the password they share."""
    rows = seeding.demo_accounts()
    if not rows:
        click.echo("No demo accounts.")
        return

    click.echo(f"Demo accounts (password: {accounts.demo_password()}):")
    width = max(len(row["username"]) for row in rows)
    for row in rows:
        agency = f"  {row['agency']}" if row.get("agency") else ""
        click.echo(f"  {row['username']:<{width}}  {row['role']}{agency}")


@dti.command("create-user")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", "role_name", required=True, help="Role name, e.g. Specialist.")
@click.option("--agency", "agency_code", help="Agency code the account acts for.")
@click.option("--field", "field_codes", multiple=True, help="Field code (appraisers).")
@click.option("--year", type=int, help="Year of the fields; the latest by default.")
@click.option("--first-name", default="")
@click.option("--last-name", default="")
@click.option("--email", default="")
def create_user(
    username,
    password,
    role_name,
    agency_code,
    field_codes,
    year,
    first_name,
    last_name,
    email,
):
    """Provision one account with its role, agency and fields."""
    try:
        user = accounts.create_user(
            username=username,
            password=password,
            role_name=role_name,
            agency_code=agency_code,
            field_codes=field_codes,
            year=year,
            first_name=first_name,
            last_name=last_name,
            email=email,
        )
    except DomainError as error:
        _fail(error)
    click.echo(f"Created user {user.username} (#{user.id}) with role {role_name}.")


@dti.command("config")
def show_config():
    """Print the settings that matter for deployment, without secrets."""
    keys = [
        "DTI_ENV",
        "SQLALCHEMY_DATABASE_URI",
        "RATELIMIT_STORAGE_URI",
        "DTI_EVIDENCE_ROOT",
        "MAIL_SERVER",
    ]
    values = {key: str(current_app.config.get(key)) for key in keys}
    click.echo(json.dumps(values, indent=2))


def init_app(app):
    """Register the command group on the app."""
    app.cli.add_command(dti)
