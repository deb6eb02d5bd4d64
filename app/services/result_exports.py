"""A year's results out as CSV or XLSX: rankings, the score matrix, the gaps.

Each `*_rows` function yields a header of Vietnamese column names and then
plain values, read in batches by one set-based query; `csv_chunks`,
`csv_response` and `xlsx_bytes` write any of them. Text is neutralised on the
way out so a spreadsheet never runs a note as a formula.
"""

import csv
import io
import logging
import re
import unicodedata
from decimal import Decimal
from urllib.parse import quote

from flask import Response, stream_with_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from .. import labels
from ..extensions import db
from ..models import (
    TOTAL,
    Agency,
    AgencyLevel,
    Answer,
    AppraisalNote,
    Indicator,
    Ranking,
    ScoreRollup,
    Submission,
)
from . import scoring
from .csv_export import BATCH_ROWS, BOM, FLUSH_BYTES, cell, neutralise

logger = logging.getLogger(__name__)

RANKING_COLUMNS = (
    _l("Ranking scope"),
    _l("Node code"),
    _l("Rank"),
    _l("Agency code"),
    _l("Agency name"),
    _l("Self-assessed points"),
    _l("Round-1 points"),
    _l("Final points"),
    _l("Maximum points"),
    _l("DTI value"),
    _l("Band"),
)

SCORE_COLUMNS = (
    _l("Agency code"),
    _l("Agency name"),
    _l("Level"),
    _l("Indicator code"),
    _l("Indicator name"),
    _l("Maximum points"),
    _l("Rule type"),
    _l("Figures"),
    _l("Self score"),
    _l("Explanation"),
    _l("Round-1 score"),
    _l("Round-1 verdict"),
    _l("Round-1 note"),
    _l("Agency's reply"),
    _l("Round-2 score"),
    _l("Round-2 note"),
    _l("Final score"),
)

GAP_COLUMNS = (
    _l("Agency code"),
    _l("Agency name"),
    _l("Indicator code"),
    _l("Indicator name"),
    _l("Self score"),
    _l("Final score"),
    _l("Points cut"),
    _l("Round-1 note"),
    _l("Agency's reply"),
    _l("Round-2 note"),
)

# Excel refuses these in a sheet name, and names longer than 31 characters.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _header(columns):
    return [str(column) for column in columns]


def _stream(statement):
    """Yield the rows of a statement in batches, without loading ORM objects."""
    return db.session.execute(statement.execution_options(yield_per=BATCH_ROWS))


def _notes():
    """Return the round-1 and round-2 notes as aliases to outer-join an answer."""
    return aliased(AppraisalNote, name="note_1"), aliased(AppraisalNote, name="note_2")


def _on_round(note, round_):
    return (note.answer_id == Answer.id) & (note.round == round_)


# --- Rows ---------------------------------------------------------------------


def ranking_rows(year, scope=None, level=None):
    """Yield the header, then a year's rankings: all scopes, one, or one level.

    Rows go by scope (departments, districts, communes), the total before the
    pillars, then rank; self and round-1 points come from the same roll-up node.
    """
    yield _header(RANKING_COLUMNS)

    kind = case(
        (Ranking.scope.like("department%"), 0),
        (Ranking.scope.like("district%"), 1),
        (Ranking.scope.like("commune%"), 2),
        else_=3,
    )
    # Pillars keep the order of the index set, not of their Roman numerals.
    position = func.min(Indicator.position).over(
        partition_by=(Ranking.scope, Ranking.node_code)
    )
    statement = (
        select(
            Ranking.scope,
            Ranking.node_code,
            Ranking.rank,
            Agency.code,
            Agency.name,
            ScoreRollup.self_points,
            ScoreRollup.round1_points,
            Ranking.points,
            Ranking.max_points,
            Ranking.value,
            Ranking.band,
        )
        .join(Agency, Agency.id == Ranking.agency_id)
        .outerjoin(
            ScoreRollup,
            (ScoreRollup.submission_id == Ranking.submission_id)
            & (ScoreRollup.node_code == Ranking.node_code),
        )
        .outerjoin(Indicator, Indicator.id == ScoreRollup.node_id)
        .where(Ranking.year_id == year.id)
        .order_by(
            kind,
            Ranking.scope,
            case((Ranking.node_code == TOTAL, 0), else_=1),
            position,
            Ranking.node_code,
            Ranking.rank,
            Agency.code,
        )
    )
    if scope is not None:
        statement = statement.where(Ranking.scope == scope)
    if level is not None:
        statement = statement.where(
            (Ranking.scope == level) | Ranking.scope.like(f"{level}:%")
        )
    for row in _stream(statement):
        yield list(row)


def score_rows(year, agency_id=None):
    """Yield the header, then one row per answer of every dossier of the year."""
    yield _header(SCORE_COLUMNS)

    first, second = _notes()
    statement = (
        select(
            Agency.code,
            Agency.name,
            AgencyLevel.name,
            Indicator.code,
            Indicator.name,
            Indicator.max_points,
            Indicator.rule_type,
            Answer.figures,
            Answer.self_score,
            Answer.explanation,
            Answer.round1_score,
            first.verdict,
            first.comment,
            first.reply_text,
            Answer.round2_score,
            second.comment,
            Answer.final_score,
        )
        .select_from(Answer)
        .join(Submission, Submission.id == Answer.submission_id)
        .join(Agency, Agency.id == Submission.agency_id)
        .join(AgencyLevel, AgencyLevel.id == Agency.level_id)
        .join(Indicator, Indicator.id == Answer.indicator_id)
        .outerjoin(first, _on_round(first, 1))
        .outerjoin(second, _on_round(second, 2))
        .where(Submission.year_id == year.id)
        .order_by(Agency.code, Indicator.position, Indicator.code)
    )
    if agency_id is not None:
        statement = statement.where(Submission.agency_id == agency_id)
    for row in _stream(statement):
        values = list(row)
        values[7] = figures_text(values[7])
        values[11] = labels.label(labels.VERDICT, values[11])
        yield values


def gap_rows(year):
    """Yield the header, then every component scored below the agency's own score.

    The largest cut comes first; equal cuts go by agency code.
    """
    yield _header(GAP_COLUMNS)

    first, second = _notes()
    statement = (
        select(
            Agency.code,
            Agency.name,
            Indicator.code,
            Indicator.name,
            Answer.self_score,
            Answer.final_score,
            first.comment,
            first.reply_text,
            second.comment,
        )
        .select_from(Answer)
        .join(Submission, Submission.id == Answer.submission_id)
        .join(Agency, Agency.id == Submission.agency_id)
        .join(Indicator, Indicator.id == Answer.indicator_id)
        .outerjoin(first, _on_round(first, 1))
        .outerjoin(second, _on_round(second, 2))
        .where(Submission.year_id == year.id)
        .where(Answer.final_score < Answer.self_score)
        .order_by(
            (Answer.self_score - Answer.final_score).desc(),
            Agency.code,
            Indicator.position,
        )
    )
    for row in _stream(statement):
        code, name, indicator, title, own, final, note_1, reply, note_2 = row
        cut = scoring.points(own - final)
        yield [code, name, indicator, title, own, final, cut, note_1, reply, note_2]


def figures_text(figures):
    """Write an answer's figures as "a = 3; b = 4"."""
    if not figures:
        return ""
    if not isinstance(figures, dict):
        return str(figures)
    return "; ".join(f"{key} = {_figure(value)}" for key, value in figures.items())


def _figure(value):
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    if isinstance(value, list):
        return ", ".join(_figure(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


# --- Writers ------------------------------------------------------------------


def csv_chunks(rows):
    """Yield CSV text for Excel: the BOM, then the rows in chunks of about 64 KB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    count = 0
    for row in rows:
        writer.writerow([cell(value) for value in row])
        count += 1
        if buffer.tell() >= FLUSH_BYTES:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
    logger.info("exported %s CSV rows of results", max(count - 1, 0))


def csv_response(rows, filename):
    """Return a streamed CSV download of rows (the header first)."""
    if not filename.lower().endswith(".csv"):
        filename += ".csv"
    return Response(
        stream_with_context(csv_chunks(rows)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
        },
    )


def content_disposition(filename):
    """Return an attachment header with an ASCII name and, if needed, the UTF-8 one."""
    plain = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    plain = re.sub(r"[^A-Za-z0-9._-]+", "-", plain)
    plain = re.sub(r"-*\.-*", ".", plain).strip("-.") or "export"
    if plain == filename:
        return f'attachment; filename="{plain}"'
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename)}"


def xlsx_bytes(rows, sheet_title):
    """Return rows as XLSX bytes with a bold, frozen header row.

    The workbook is written row by row (write-only mode), so a large export
    does not hold every cell in memory.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_name(sheet_title))
    sheet.freeze_panes = "A2"
    rows = iter(rows)
    header = next(rows, [])
    for number, name in enumerate(header, start=1):
        width = min(max(len(name) + 4, 12), 60)
        sheet.column_dimensions[get_column_letter(number)].width = width

    bold = Font(bold=True)
    titles = []
    for name in header:
        title = WriteOnlyCell(sheet, value=neutralise(name))
        title.font = bold
        titles.append(title)
    sheet.append(titles)
    for row in rows:
        sheet.append([_xlsx_value(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sheet_name(title):
    """Return a sheet name Excel accepts."""
    name = _SHEET_FORBIDDEN.sub("-", str(title or "")).strip("'")[:31]
    return name or "DTI"


def _xlsx_value(value):
    """Keep numbers as numbers; write everything else as the CSV does."""
    if isinstance(value, bool):
        return cell(value)
    if value is None or isinstance(value, int | float | Decimal):
        return value
    return cell(value)
