"""Index sets in and out as CSV or XLSX, in the layout of the official annexes.

Columns (header text as the annexes print it; English keys are accepted too):

    STT | Chỉ số/Chỉ số thành phần | Điểm tối đa | Cách xác định và tính điểm |
    Tài liệu kiểm chứng | Nguồn thu thập dữ liệu | Đơn vị phối hợp xác minh số liệu |
    Loại quy tắc | Tham số quy tắc | Lĩnh vực | Bắt buộc kiểm chứng

The number (STT) gives the tree: I, II… pillars; 1, 2… main indicators; 1.1,
1.2… components. An import is all or nothing: every problem is listed with its
row and column, and nothing is written until the whole file is valid.
"""

import csv
import io
import logging
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import (
    AgencyLevel,
    AssessmentYear,
    DepartmentGroup,
    Field,
    IndexSet,
    Indicator,
    IndicatorKind,
    Submission,
)
from . import activity, scoring
from .exceptions import DomainError
from .index_tree import Node, Problem, check_tree, derive_structure

logger = logging.getLogger(__name__)

# Canonical key → (header written on export, other spellings accepted).
COLUMNS = {
    "code": ("STT", ("số thứ tự", "số tt", "code", "number", "no")),
    "name": ("Chỉ số/Chỉ số thành phần", ("chỉ số", "tên chỉ số", "name", "indicator")),
    "max_points": ("Điểm tối đa", ("điểm", "max_points", "maximum points", "points")),
    "method_text": ("Cách xác định và tính điểm", ("method", "method_text")),
    "evidence_text": ("Tài liệu kiểm chứng", ("evidence", "evidence_text")),
    "data_source": ("Nguồn thu thập dữ liệu", ("data_source", "data source")),
    "verifying_unit": (
        "Đơn vị phối hợp xác minh số liệu",
        ("verifying_unit", "verifying unit", "đơn vị xác minh"),
    ),
    "rule_type": ("Loại quy tắc", ("rule_type", "rule")),
    "rule_params": ("Tham số quy tắc", ("rule_params", "parameters", "params")),
    "field": ("Lĩnh vực", ("field", "field_code")),
    "evidence_required": ("Bắt buộc kiểm chứng", ("evidence_required",)),
}
REQUIRED = ("code", "name", "max_points")
MAX_POINTS = Decimal("10000000")

YES = {"có", "co", "x", "yes", "y", "1", "true", "bắt buộc"}
NO = {"không", "khong", "no", "n", "0", "false"}


@dataclass
class ImportResult:
    """What a file holds: its nodes, and every problem found in it."""

    nodes: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    @property
    def blocking(self):
        return [problem for problem in self.problems if problem.blocking]

    @property
    def ok(self):
        return not self.blocking

    @property
    def components(self):
        return [node for node in self.nodes if node.kind == IndicatorKind.COMPONENT]

    @property
    def total(self):
        return sum(
            (node.max_points or Decimal(0))
            for node in self.nodes
            if node.kind == IndicatorKind.PILLAR
        )


def _header_key(text):
    """Return the canonical key of a header cell, or None."""
    clean = " ".join(str(text or "").replace("\ufeff", "").split()).strip().lower()
    for key, (header, others) in COLUMNS.items():
        if clean == header.lower() or clean in others:
            return key
    return None


# --- Reading files -----------------------------------------------------------


def read_table(data, filename):
    """Return the rows of an uploaded CSV or XLSX file as lists of text.

    :raises DomainError: for an empty, oversized, unreadable or wrongly encoded file.
    """
    limit = current_app.config.get("DTI_IMPORT_MAX_BYTES", 5 * 1024 * 1024)
    if not data:
        raise DomainError(_l("The file is empty."))
    if len(data) > limit:
        raise DomainError(
            _l(
                "The file is %(size)s MB; index-set files are limited to %(limit)s MB.",
                size=round(len(data) / 1024 / 1024, 1),
                limit=round(limit / 1024 / 1024, 1),
            )
        )

    if data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        rows = _read_xlsx(data)
    else:
        rows = _read_csv(data)
    # Vietnamese typed with decomposed accents (some input methods) must match
    # headers, rule names and codes written the composed way.
    return [[unicodedata.normalize("NFC", cell) for cell in row] for row in rows]


def _read_csv(data):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DomainError(
            _l(
                "The file is not in UTF-8 (byte %(position)s). In Excel, save it as "
                "“CSV UTF-8 (Comma delimited)”.",
                position=error.start + 1,
            )
        ) from error
    if "\x00" in text:
        raise DomainError(_l("The file is not a text CSV file."))

    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    # Only the delimiter is guessed: the sniffer drops doubled quotes ("") when
    # the sample happens to hold none, and every spreadsheet writes them.
    reader = csv.reader(
        io.StringIO(text),
        delimiter=dialect.delimiter,
        skipinitialspace=dialect.skipinitialspace,
        strict=True,
    )
    rows = []
    line = 1
    try:
        for row in reader:
            rows.append(row)
            line = reader.line_num + 1
    except csv.Error as error:
        raise DomainError(
            _l(
                "The CSV file is malformed at line %(line)s: %(error)s.",
                line=line,
                error=str(error),
            )
        ) from error
    return rows


def _read_xlsx(data):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise DomainError(_l("The XLSX file cannot be read.")) from error

    sheet = workbook.worksheets[0]
    rows = []
    for values in sheet.iter_rows(values_only=True):
        rows.append([_xlsx_text(value) for value in values])
    workbook.close()
    return rows


def _xlsx_text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- Parsing -------------------------------------------------------------------


def parse_table(rows, field_codes=None, set_max=None):
    """Turn table rows into checked nodes; the header may follow title rows."""
    result = ImportResult()
    header_index, columns = _find_header(rows)
    if header_index is None:
        missing = ", ".join(COLUMNS[key][0] for key in REQUIRED)
        result.problems.append(
            Problem(
                1,
                None,
                str(
                    _l(
                        "No header row found: the file needs the columns %(columns)s.",
                        columns=missing,
                    )
                ),
            )
        )
        return result

    for offset, row in enumerate(rows[header_index + 1 :], start=header_index + 2):
        cells = {
            key: (row[index] if index < len(row) else "")
            for key, index in columns.items()
        }
        if not any(str(value).strip() for value in cells.values()):
            continue
        node, problems = _node_from_cells(offset, cells)
        result.problems.extend(problems)
        if node is not None:
            result.nodes.append(node)

    result.problems.extend(derive_structure(result.nodes))
    result.nodes = [node for node in result.nodes if node.kind is not None]
    if set_max is None:
        set_max = result.total
    result.problems.extend(check_tree(result.nodes, set_max, field_codes))
    result.problems.sort(key=lambda problem: (problem.row or 0, problem.column or ""))
    return result


def _find_header(rows):
    """Return (index, {key: column}) of the first row naming the required columns."""
    for index, row in enumerate(rows[:20]):
        columns = {}
        for position, cell in enumerate(row):
            key = _header_key(cell)
            if key and key not in columns:
                columns[key] = position
        if all(key in columns for key in REQUIRED):
            return index, columns
    return None, {}


def _finite_decimal(text):
    """Return text as a finite Decimal, or None if it is not one."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _node_from_cells(row, cells):
    problems = []
    code = str(cells.get("code", "")).strip().rstrip(".")
    node = Node(row=row, code=code, name=str(cells.get("name", "")).strip())
    for key in ("method_text", "evidence_text", "data_source", "verifying_unit"):
        setattr(node, key, str(cells.get(key, "") or "").strip())

    raw_points = str(cells.get("max_points", "")).strip().replace(",", ".")
    value = _finite_decimal(raw_points)
    node.max_points = None
    if raw_points and value is None:
        problems.append(
            Problem(
                row,
                COLUMNS["max_points"][0],
                str(_l("“%(value)s” is not a number of points.", value=raw_points)),
            )
        )
    elif raw_points and (abs(value) >= MAX_POINTS or value != round(value, 2)):
        # The database keeps points as NUMERIC(9, 2).
        problems.append(
            Problem(
                row,
                COLUMNS["max_points"][0],
                str(
                    _l(
                        "“%(value)s” points must be below 10,000,000 "
                        "with at most two decimals.",
                        value=raw_points,
                    )
                ),
            )
        )
    elif raw_points:
        node.max_points = value

    raw_rule = str(cells.get("rule_type", "") or "").strip()
    if raw_rule:
        rule_type = scoring.normalise_rule_type(raw_rule)
        if rule_type is None:
            problems.append(
                Problem(
                    row,
                    COLUMNS["rule_type"][0],
                    str(
                        _l(
                            "Unknown scoring rule “%(rule)s”. Known rules: %(known)s.",
                            rule=raw_rule,
                            known=", ".join(scoring.RULE_TYPES),
                        )
                    ),
                )
            )
        else:
            node.rule_type = rule_type
            try:
                node.rule_params = scoring.parse_params(
                    rule_type, cells.get("rule_params", "")
                )
            except scoring.RuleError as error:
                problems.append(
                    Problem(row, COLUMNS["rule_params"][0], str(error.message))
                )

    node.field_code = str(cells.get("field", "") or "").strip() or None
    flag = str(cells.get("evidence_required", "") or "").strip().lower()
    if flag == "":
        # Unsaid: evidence is needed for whatever earns points.
        node.evidence_required = node.rule_type != "not_scored"
    elif flag in YES:
        node.evidence_required = True
    elif flag in NO:
        node.evidence_required = False
    else:
        problems.append(
            Problem(
                row,
                COLUMNS["evidence_required"][0],
                str(_l("Write “có” or “không”, not “%(value)s”.", value=flag)),
            )
        )
    return node, problems


# --- Writing to the database -------------------------------------------------------


def find_target(year_number, level_code, group_code=None):
    """Return (year, level, group) for a set's coordinates, or raise DomainError."""
    year = db.session.execute(
        select(AssessmentYear).where(AssessmentYear.year == year_number)
    ).scalar()
    if year is None:
        raise DomainError(
            _l("Assessment year %(year)s does not exist.", year=year_number)
        )
    level = db.session.execute(
        select(AgencyLevel).where(AgencyLevel.code == level_code)
    ).scalar()
    if level is None:
        raise DomainError(
            _l("Agency level %(level)s does not exist.", level=level_code)
        )
    group = None
    if group_code:
        group = db.session.execute(
            select(DepartmentGroup).where(DepartmentGroup.code == group_code)
        ).scalar()
        if group is None:
            raise DomainError(
                _l("Department group %(group)s does not exist.", group=group_code)
            )
    return year, level, group


def find_set(year, level, group):
    """Return the set for these coordinates, or None."""
    statement = select(IndexSet).where(
        IndexSet.year_id == year.id, IndexSet.level_id == level.id
    )
    if group is None:
        statement = statement.where(IndexSet.group_id.is_(None))
    else:
        statement = statement.where(IndexSet.group_id == group.id)
    return db.session.execute(statement).scalar()


def field_codes_of(year):
    """Return {code: Field} of a year."""
    fields = db.session.execute(select(Field).where(Field.year_id == year.id)).scalars()
    return {item.code: item for item in fields}


def import_index_set(
    data,
    filename,
    year_number,
    level_code,
    group_code=None,
    name=None,
    source=None,
    dry_run=False,
):
    """Check a file and, unless dry_run or it has problems, write it as the set.

    Returns the ImportResult; the set is replaced only when the result is ok.
    :raises DomainError: when the target is unknown or the set is in use.
    """
    year, level, group = find_target(year_number, level_code, group_code)
    fields = field_codes_of(year)
    result = parse_table(read_table(data, filename), set(fields))
    index_set = find_set(year, level, group)
    if index_set is not None:
        check_replaceable(index_set)
    if dry_run or not result.ok:
        return result

    if index_set is None:
        index_set = IndexSet(year=year, level=level, group=group)
        db.session.add(index_set)
    index_set.name = name or index_set.name or _default_name(year, level, group)
    if source is not None:
        index_set.source = source
    elif not index_set.source:
        index_set.source = str(_l("Imported from %(file)s", file=filename))
    index_set.max_points = result.total
    write_nodes(index_set, result.nodes, fields)
    activity.record(
        "index_set.imported",
        _l(
            "Index set %(name)s imported from %(file)s: %(count)s components, "
            "%(total)s points.",
            name=index_set.name,
            file=filename,
            count=len(result.components),
            total=scoring.points(result.total),
        ),
        target=index_set,
    )
    db.session.commit()
    logger.info("index set %s imported from %s", index_set.id, filename)
    return result


def _default_name(year, level, group):
    suffix = f" – {group.code}" if group else ""
    return f"{year.name} – {level.name}{suffix}"


def check_replaceable(index_set):
    """Refuse to replace a set that dossiers already answer."""
    used = db.session.execute(
        select(Submission.id).where(Submission.index_set_id == index_set.id)
    ).first()
    if used is not None:
        raise DomainError(
            _l(
                "Index set %(name)s is already answered by submissions and cannot be "
                "replaced by an import.",
                name=index_set.name,
            )
        )


def write_nodes(index_set, nodes, fields):
    """Replace the indicators of a set by the given nodes, in order."""
    for indicator in list(index_set.indicators):
        index_set.indicators.remove(indicator)
    db.session.flush()

    by_code = {}
    for position, node in enumerate(nodes, start=1):
        indicator = Indicator(
            kind=int(node.kind),
            code=node.code,
            name=node.name,
            position=position,
            max_points=node.max_points,
            parent=by_code.get(node.parent_code),
            field=fields.get(node.field_code) if node.field_code else None,
            evidence_required=node.evidence_required,
            rule_type=node.rule_type,
            rule_params=node.rule_params or None,
            method_text=node.method_text or None,
            evidence_text=node.evidence_text or None,
            data_source=node.data_source or None,
            verifying_unit=node.verifying_unit or None,
        )
        index_set.indicators.append(indicator)
        by_code[node.code] = indicator
    db.session.flush()


# --- Export ----------------------------------------------------------------


def export_rows(index_set):
    """Return the header and rows of a set, as `parse_table` reads them back."""
    header = [COLUMNS[key][0] for key in COLUMNS]
    rows = [header]
    for indicator in index_set.indicators:
        is_component = indicator.kind == IndicatorKind.COMPONENT
        rows.append(
            [
                indicator.code,
                indicator.name,
                _points_text(indicator.max_points),
                indicator.method_text or "",
                indicator.evidence_text or "",
                indicator.data_source or "",
                indicator.verifying_unit or "",
                indicator.rule_type or "",
                scoring.format_params(indicator.rule_type, indicator.rule_params),
                indicator.field.code if indicator.field else "",
                ("có" if indicator.evidence_required else "không")
                if is_component
                else "",
            ]
        )
    return rows


def _points_text(value):
    number = Decimal(str(value))
    if number == number.to_integral():
        return str(int(number))
    return format(number.normalize(), "f")


def export_csv(index_set):
    """Return the set as CSV text with a BOM (Excel reads Vietnamese correctly)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer).writerows(export_rows(index_set))
    return buffer.getvalue()


def export_xlsx(index_set):
    """Return the set as XLSX bytes with a frozen header row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Bo chi so"
    for row in export_rows(index_set):
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    # The numbers must stay text, or Excel turns 1.10 into 1.1.
    for (cell,) in sheet.iter_rows(min_row=2, max_col=1):
        cell.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
