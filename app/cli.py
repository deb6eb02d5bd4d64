"""The `flask dti …` commands: roles, demo data, accounts and the yearly tasks."""

import json
import logging

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from .extensions import db
from .models import AssessmentYear
from .services import (
    accounts,
    index_io,
    reminders,
    results,
    roles,
    scoring,
    seeding,
    years,
)
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


@dti.command("rank")
@click.option("--year", type=int, required=True, help="The year assessed, e.g. 2022.")
def rank(year):
    """Recompute a year's roll-up and rankings in one set-based pass."""
    chosen = db.session.execute(
        select(AssessmentYear).where(AssessmentYear.year == year)
    ).scalar()
    if chosen is None:
        _fail(f"Year {year} does not exist.")
    with click.progressbar(length=len(results.STEPS), label="Ranking") as bar:
        counts = results.recompute(chosen, progress=lambda _step: bar.update(1))
    click.echo(f"{counts['rollup']} roll-up rows, {counts['ranking']} ranks.")


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


@dti.command("new-year")
@click.argument("year", type=int)
@click.option("--from", "source_year", type=int, required=True, help="Year to copy.")
@click.option("--name", help="Name of the new year; the old one with the new year.")
def new_year(year, source_year, name):
    """Copy a year's index sets, fields, appraisers and calendar into a new draft."""
    source = db.session.execute(
        select(AssessmentYear).where(AssessmentYear.year == source_year)
    ).scalar()
    if source is None:
        _fail(f"Year {source_year} does not exist.")
    try:
        target = years.clone_year(source, year, name)
    except DomainError as error:
        _fail(error)
    sets = len(years.sets_by_target(target))
    click.echo(
        f"Year {target.year} created as a draft from {source_year}: {sets} index sets."
    )


@dti.command("export-index-set")
@click.option("--year", type=int, required=True)
@click.option("--level", required=True, help="Level code: department, district…")
@click.option("--group", help="Department group code (G1, G2, G3).")
@click.option("--xlsx", "as_xlsx", is_flag=True, help="Write XLSX instead of CSV.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="File to write.")
def export_index_set(year, level, group, as_xlsx, output):
    """Write an index set in the annex layout (CSV to stdout by default)."""
    try:
        index_set = index_io.find_set(*index_io.find_target(year, level, group))
    except DomainError as error:
        _fail(error)
    if index_set is None:
        _fail(f"No index set for {year} / {level} / {group or '-'}.")

    if as_xlsx:
        if not output:
            _fail("--xlsx needs --output FILE.")
        with open(output, "wb") as handle:
            handle.write(index_io.export_xlsx(index_set))
        return
    text = index_io.export_csv(index_set)
    if output:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    else:
        click.echo(text, nl=False)


@dti.command("import-index-set")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--year", type=int, required=True)
@click.option("--level", required=True)
@click.option("--group")
@click.option("--name", help="Name of the set (default: year and level).")
@click.option("--source", help="The decision the set comes from.")
@click.option("--dry-run", is_flag=True, help="Check the file only; write nothing.")
def import_index_set(path, year, level, group, name, source, dry_run):
    """Load an index set from CSV or XLSX: all or nothing, problems per row."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        result = index_io.import_index_set(
            data, path, year, level, group, name=name, source=source, dry_run=dry_run
        )
    except DomainError as error:
        _fail(error)

    for problem in result.problems:
        where = f"row {problem.row}" if problem.row else "file"
        column = f", {problem.column}" if problem.column else ""
        kind = "error" if problem.blocking else "note"
        click.echo(f"{kind}: {where}{column}: {problem.message}", err=True)
    if not result.ok:
        _fail(f"{len(result.blocking)} problems; nothing was imported.")
    verb = "would import" if dry_run else "imported"
    click.echo(
        f"{verb} {len(result.nodes)} rows, {len(result.components)} components, "
        f"{scoring.points(result.total)} points."
    )


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


@dti.command("inspect-evidence")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
def inspect_evidence(path):
    """Check a PDF as an upload would and print the verdict as JSON."""
    from .services.pdfcheck import inspect_pdf

    with open(path, "rb") as handle:
        data = handle.read()
    try:
        result = inspect_pdf(data, current_app.config["DTI_EVIDENCE_MAX_PAGES"])
    except DomainError as error:
        _fail(error)

    keys = ("ok", "message", "kind", "pages", "size", "sha256", "signatures")
    shown = {key: result.get(key) for key in keys}
    shown["message"] = str(result["message"]) if result["message"] else None
    click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
    if not result["ok"]:
        raise click.exceptions.Exit(1)


@dti.command("send-mail")
@click.option(
    "--limit", type=click.IntRange(min=1), default=100, help="Most mails to send."
)
def send_mail(limit):
    """Send queued mails and retry failed ones, e.g. from a cron job."""
    from .services.notify import deliver

    sent, failed = deliver(limit=limit)
    click.echo(f"sent {sent}, failed {failed}")


@dti.command("remind")
@click.option("--year", type=int, help="Year of the round; the running one by default.")
def remind(year):
    """Remind agencies and appraisers with work left in the open phase."""
    chosen = None
    if year is not None:
        chosen = db.session.execute(
            select(AssessmentYear).where(AssessmentYear.year == year)
        ).scalar()
        if chosen is None:
            _fail(f"Year {year} does not exist.")
    sent = reminders.remind(chosen)
    click.echo(f"{sent} reminders sent.")


# --- Result exports ---------------------------------------------------------------

RESULT_LEVELS = ("department", "district", "commune")


def _assessment_year(number):
    """Return the AssessmentYear of a year number, or fail with a clear message."""
    chosen = db.session.execute(
        select(AssessmentYear).where(AssessmentYear.year == number)
    ).scalar()
    if chosen is None:
        _fail(f"Year {number} does not exist.")
    return chosen


def _write_result_rows(rows, sheet_title, as_xlsx, output):
    """Write export rows as XLSX to a file, or as CSV to a file or stdout."""
    from .services import result_exports

    if as_xlsx:
        with open(output, "wb") as handle:
            handle.write(result_exports.xlsx_bytes(rows, sheet_title))
        return
    chunks = result_exports.csv_chunks(rows)
    if output:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.writelines(chunks)
    else:
        for chunk in chunks:
            click.echo(chunk, nl=False)


@dti.command("export-ranking")
@click.option("--year", type=int, required=True, help="The year assessed, e.g. 2022.")
@click.option(
    "--level", type=click.Choice(RESULT_LEVELS), help="Only the scopes of one level."
)
@click.option("--xlsx", "as_xlsx", is_flag=True, help="Write XLSX instead of CSV.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="File to write.")
def export_ranking(year, level, as_xlsx, output):
    """Write a year's rankings, all scopes or one level (CSV to stdout by default)."""
    from .services import result_exports

    if as_xlsx and not output:
        _fail("--xlsx needs --output FILE.")
    chosen = _assessment_year(year)
    rows = result_exports.ranking_rows(chosen, level=level)
    _write_result_rows(rows, f"Xep hang {year}", as_xlsx, output)


@dti.command("export-scores")
@click.option("--year", type=int, required=True, help="The year assessed, e.g. 2022.")
@click.option("--gap", is_flag=True, help="Only components scored below self-score.")
@click.option("--xlsx", "as_xlsx", is_flag=True, help="Write XLSX instead of CSV.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="File to write.")
def export_scores(year, gap, as_xlsx, output):
    """Write a year's score matrix, or its gap report (CSV to stdout by default)."""
    from .services import result_exports

    if as_xlsx and not output:
        _fail("--xlsx needs --output FILE.")
    chosen = _assessment_year(year)
    if gap:
        rows, title = result_exports.gap_rows(chosen), f"Diem bi tru {year}"
    else:
        rows, title = result_exports.score_rows(chosen), f"Bang diem {year}"
    _write_result_rows(rows, title, as_xlsx, output)


def init_app(app):
    """Register the command group on the app."""
    app.cli.add_command(dti)
