"""Index sets in and out as CSV or XLSX: problems by row and column, round trips."""

import csv
import io
import time
from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale
from openpyxl import Workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    ActivityLog,
    AgencyLevel,
    AssessmentYear,
    DepartmentGroup,
    Field,
    IndexSet,
    Indicator,
    IndicatorKind,
)
from app.services import index_io, scoring
from app.services.exceptions import DomainError
from app.services.seeding import current_round_year

HEADER = [
    "STT",
    "Chỉ số/Chỉ số thành phần",
    "Điểm tối đa",
    "Loại quy tắc",
    "Tham số quy tắc",
    "Lĩnh vực",
    "Bắt buộc kiểm chứng",
]
# Row 1 is the header, so the pillar is on row 2 and component 2.1 on row 7.
ROWS = [
    ["I", "Chính quyền số", "60", "", "", "", ""],
    ["1", "Nhận thức số", "40", "", "", "", ""],
    [
        "1.1",
        "Người đứng đầu là Trưởng ban Chỉ đạo",
        "20",
        "choice",
        "Chủ tịch=20; Phó Chủ tịch=10; Chưa có=0",
        "NT",
        "có",
    ],
    ["1.2", "Cuộc họp do Chủ tịch chủ trì", "20", "ratio", "", "NT", "có"],
    ["2", "Thể chế số", "20", "", "", "", ""],
    ["2.1", "Văn bản ban hành", "20", "count", "4=20; 3=15; 2=10; 1=5", "TC", "không"],
]
COLUMN = {name: position for position, name in enumerate(HEADER)}


def table(changes=(), rows=ROWS, header=HEADER):
    """Return the sample rows with (file row, column name, text) changes applied."""
    body = [list(row) for row in rows]
    for file_row, column, text in changes:
        body[file_row - 2][COLUMN[column]] = text
    return [list(header), *body]


def csv_bytes(rows, delimiter=",", bom=False):
    """Return rows as the bytes of a UTF-8 CSV file."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode()


def xlsx_bytes(rows):
    """Return rows as an XLSX workbook; cells that read as numbers become numbers."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(
            [_number_or_text(cell, position) for position, cell in enumerate(row)]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _number_or_text(cell, position):
    """Return a cell as Excel would hold it once typed: numbers except in STT."""
    if position == COLUMN["STT"] or not cell:
        return cell
    try:
        return float(cell) if "." in cell else int(cell)
    except ValueError:
        return cell


def year_of(number):
    """Return the assessment year with this number."""
    return db.session.execute(
        select(AssessmentYear).where(AssessmentYear.year == number)
    ).scalar_one()


def set_of(year_number, level_code, group_code=None):
    """Return the index set at these coordinates, or None."""
    return index_io.find_set(*index_io.find_target(year_number, level_code, group_code))


def counts():
    """Return how many index sets, indicators and log rows the database holds."""
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (IndexSet, Indicator, ActivityLog)
    )


def tree_of(index_set):
    """Return everything an index set says, indicator by indicator."""
    return [
        (
            indicator.position,
            indicator.kind,
            indicator.code,
            indicator.name,
            Decimal(str(indicator.max_points)),
            indicator.parent.code if indicator.parent else None,
            indicator.rule_type,
            indicator.rule_params,
            indicator.field.code if indicator.field else None,
            indicator.evidence_required,
            indicator.method_text,
            indicator.evidence_text,
            indicator.data_source,
            indicator.verifying_unit,
        )
        for indicator in index_set.indicators
    ]


def problems_of(result):
    """Return the problems of a result as (row, column, message, blocking)."""
    return [
        (problem.row, problem.column, problem.message, problem.blocking)
        for problem in result.problems
    ]


def has_problem(result, row, column, fragment):
    """Tell whether a result lists a problem at this row and column."""
    return any(
        problem.row == row and problem.column == column and fragment in problem.message
        for problem in result.problems
    )


def import_english(data, filename="bo-chi-so.csv", year=2030, level="commune", **kw):
    """Import a file with messages in English."""
    with force_locale("en"):
        return index_io.import_index_set(data, filename, year, level, **kw)


def refusal(data, filename="bo-chi-so.csv", **kw):
    """Return the English message of the DomainError an import raises."""
    with pytest.raises(DomainError) as caught:
        import_english(data, filename, **kw)
    with force_locale("en"):
        return str(caught.value.message)


@pytest.fixture
def year_2030(ctx):
    """A new assessment year with the fields of 2022, and no index sets yet."""
    source = year_of(2022)
    year = AssessmentYear(
        year=2030,
        name="DTI năm 2030",
        data_start=date(2030, 1, 1),
        data_end=date(2030, 12, 31),
        copied_from=source,
    )
    db.session.add(year)
    fields = db.session.execute(select(Field).where(Field.year_id == source.id))
    for field in fields.scalars():
        db.session.add(Field(year=year, code=field.code, name=field.name))
    db.session.flush()
    return year


# --- Reading files ---------------------------------------------------------------


def test_a_valid_file_is_imported_as_a_tree(year_2030):
    result = import_english(csv_bytes(table()))

    assert result.ok
    assert problems_of(result) == []
    index_set = set_of(2030, "commune")
    assert [(item.code, item.kind) for item in index_set.indicators] == [
        ("I", IndicatorKind.PILLAR),
        ("1", IndicatorKind.MAIN),
        ("1.1", IndicatorKind.COMPONENT),
        ("1.2", IndicatorKind.COMPONENT),
        ("2", IndicatorKind.MAIN),
        ("2.1", IndicatorKind.COMPONENT),
    ]
    by_code = {item.code: item for item in index_set.indicators}
    assert by_code["1.1"].parent.code == "1"
    assert by_code["2"].parent.code == "I"
    assert by_code["1.1"].rule_params == {
        "options": [["Chủ tịch", 20.0], ["Phó Chủ tịch", 10.0], ["Chưa có", 0.0]]
    }
    assert by_code["2.1"].rule_params == {
        "thresholds": [[4, 20.0], [3, 15.0], [2, 10.0], [1, 5.0]]
    }
    assert by_code["2.1"].field.year == year_2030
    assert by_code["2.1"].evidence_required is False
    assert Decimal(str(index_set.max_points)) == 60
    assert index_set.name == "DTI năm 2030 – Xã, phường, thị trấn"
    assert index_set.source == "Imported from bo-chi-so.csv"


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (csv_bytes(table(), bom=True), "comma with BOM"),
        (csv_bytes(table()), "comma without BOM"),
        (csv_bytes(table(), delimiter=";"), "semicolon"),
        (csv_bytes(table(), delimiter=";", bom=True), "semicolon with BOM"),
        (csv_bytes(table(), delimiter="\t"), "tab"),
        (csv_bytes(table()).replace(b"\r\n", b"\n"), "Unix line ends"),
    ],
)
def test_csv_files_parse_with_or_without_bom_and_with_any_usual_delimiter(
    year_2030, data, label
):
    result = import_english(data, dry_run=True)

    assert result.ok, label
    assert [node.code for node in result.nodes] == [row[0] for row in ROWS]
    assert result.nodes[2].name == "Người đứng đầu là Trưởng ban Chỉ đạo"


def test_semicolon_file_keeps_commas_inside_unquoted_cells(year_2030):
    text = "\n".join(
        [
            ";".join(HEADER),
            "I;Chính quyền số;20;;;;",
            "1;Nhận thức số;20;;;;",
            "1.1;Họp, tuyên truyền, phổ biến;20;yes_no;;NT;có",
        ]
    )

    result = import_english(text.encode(), dry_run=True)

    assert result.ok
    assert result.nodes[2].name == "Họp, tuyên truyền, phổ biến"


def test_xlsx_file_parses_and_keeps_numbers_like_1_10_as_text(year_2030):
    components = [
        [f"1.{number}", f"Thành phần {number}", "2.5", "yes_no", "", "NT", "có"]
        for number in range(1, 11)
    ]
    rows = [
        ["BỘ CHỈ SỐ ĐÁNH GIÁ CHUYỂN ĐỔI SỐ CẤP XÃ"],
        [],
        HEADER,
        ["I", "Chính quyền số", "25", "", "", "", ""],
        ["1", "Nhận thức số", "25", "", "", "", ""],
        *components,
    ]

    result = import_english(xlsx_bytes(rows), "bo-chi-so.xlsx")

    assert result.ok, problems_of(result)
    codes = [item.code for item in set_of(2030, "commune").indicators]
    assert codes[-2:] == ["1.9", "1.10"]
    assert result.nodes[-1].max_points == Decimal("2.5")
    assert result.nodes[-1].row == 15


def test_xlsx_is_recognised_by_its_content_whatever_its_name(year_2030):
    result = import_english(xlsx_bytes(table()), "bo-chi-so.csv", dry_run=True)

    assert result.ok
    assert len(result.nodes) == len(ROWS)


def test_header_may_follow_title_rows_and_rows_keep_their_file_numbers(year_2030):
    rows = [
        ["PHỤ LỤC II"],
        ["(Kèm theo Quyết định số 2088/QĐ-UBND ngày 14/7/2022)"],
        [""],
        *table([(7, "Lĩnh vực", "ZZ")]),
    ]

    result = import_english(csv_bytes(rows), dry_run=True)

    assert has_problem(result, 10, "Lĩnh vực", "Field ZZ of component 2.1")


def test_english_header_keys_are_accepted(year_2030):
    header = [
        "code",
        "name",
        "max_points",
        "rule_type",
        "rule_params",
        "field",
        "evidence_required",
    ]

    result = import_english(csv_bytes(table(header=header)))

    assert result.ok
    assert set_of(2030, "commune").indicators[2].rule_type == "choice"


def test_vietnamese_rule_names_are_accepted(year_2030):
    result = import_english(
        csv_bytes(table([(5, "Loại quy tắc", "Tỷ lệ"), (7, "Loại quy tắc", "Ngưỡng")]))
    )

    assert result.ok
    assert [node.rule_type for node in result.components] == [
        "choice",
        "ratio",
        "count",
    ]


def test_empty_rule_and_field_are_reported_without_blocking(year_2030):
    result = import_english(
        csv_bytes(table([(5, "Loại quy tắc", ""), (5, "Lĩnh vực", "")]))
    )

    assert result.ok
    assert problems_of(result) == [
        (5, "Loại quy tắc", "Component 1.2 has no scoring rule yet.", False),
        (5, "Lĩnh vực", "Component 1.2 has no field yet.", False),
    ]
    written = set_of(2030, "commune").indicators[3]
    assert (written.code, written.rule_type, written.field) == ("1.2", None, None)


@pytest.mark.parametrize(
    ("flag", "expected"),
    [("có", True), ("Không", False), ("x", True), ("0", False), ("", True)],
)
def test_evidence_flag_is_read_from_common_spellings(year_2030, flag, expected):
    result = import_english(
        csv_bytes(table([(5, "Bắt buộc kiểm chứng", flag)])), dry_run=True
    )

    assert result.nodes[3].evidence_required is expected


def test_not_scored_component_needs_no_evidence_unless_told(year_2030):
    changes = [
        (4, "Điểm tối đa", "0"),
        (4, "Loại quy tắc", "not_scored"),
        (4, "Tham số quy tắc", ""),
        (4, "Bắt buộc kiểm chứng", ""),
        (5, "Điểm tối đa", "40"),
    ]

    result = import_english(csv_bytes(table(changes)), dry_run=True)

    assert result.ok, problems_of(result)
    assert result.nodes[2].evidence_required is False


def test_dry_run_checks_but_writes_nothing(year_2030):
    before = counts()

    result = import_english(csv_bytes(table()), dry_run=True)

    assert result.ok
    assert counts() == before
    assert set_of(2030, "commune") is None


# --- Problems listed by row and column, nothing written -----------------------------


@pytest.mark.parametrize(
    ("changes", "row", "column", "expected"),
    [
        (
            [(5, "STT", "1.1")],
            5,
            "STT",
            "Number 1.1 is used twice (first on row 4).",
        ),
        (
            [(7, "STT", "3.1")],
            7,
            "STT",
            "Component 3.1 has no main indicator 3.",
        ),
        (
            [(7, "STT", "2.1.1")],
            7,
            "STT",
            "Number 2.1.1 is not a pillar (I, II…), a main indicator (1, 2…)",
        ),
        (
            [(3, "Điểm tối đa", "50")],
            3,
            "Điểm tối đa",
            "The rows under 1 add up to 40.00 points, not 50.00.",
        ),
        (
            [(2, "Điểm tối đa", "70")],
            2,
            "Điểm tối đa",
            "The rows under I add up to 60.00 points, not 70.00.",
        ),
        (
            [(5, "Loại quy tắc", "điểm thưởng")],
            5,
            "Loại quy tắc",
            "Unknown scoring rule “điểm thưởng”. Known rules: yes_no, choice",
        ),
        (
            [(4, "Tham số quy tắc", "Chủ tịch=15; Phó Chủ tịch=10")],
            4,
            "Tham số quy tắc",
            "Component 1.1: The best option must be worth the maximum, 20.00 points.",
        ),
        (
            [(4, "Tham số quy tắc", "Chủ tịch=20")],
            4,
            "Tham số quy tắc",
            "Component 1.1: A choice needs at least two options.",
        ),
        (
            [(7, "Tham số quy tắc", "1=5; 4=20")],
            7,
            "Tham số quy tắc",
            "List the count thresholds from the highest down.",
        ),
        (
            [(7, "Tham số quy tắc", "bốn=20")],
            7,
            "Tham số quy tắc",
            "The threshold bốn is not a whole number.",
        ),
        (
            [(5, "Tham số quy tắc", "a=1")],
            5,
            "Tham số quy tắc",
            "Rule ratio takes no parameters.",
        ),
        (
            [(4, "Tham số quy tắc", "Chủ tịch 20")],
            4,
            "Tham số quy tắc",
            "Write each option as label=points",
        ),
        (
            [(5, "Điểm tối đa", "-20")],
            5,
            "Điểm tối đa",
            "Row 1.2 has negative points.",
        ),
        (
            [(5, "Điểm tối đa", "hai mươi")],
            5,
            "Điểm tối đa",
            "“hai mươi” is not a number of points.",
        ),
        ([(5, "Điểm tối đa", "NaN")], 5, "Điểm tối đa", "“NaN” is not a number"),
        (
            [(5, "Điểm tối đa", "Infinity")],
            5,
            "Điểm tối đa",
            "“Infinity” is not a number",
        ),
        (
            [(5, "Điểm tối đa", "1e30")],
            5,
            "Điểm tối đa",
            "“1e30” points must be below 10,000,000 with at most two decimals.",
        ),
        (
            [(5, "Điểm tối đa", "10.005")],
            5,
            "Điểm tối đa",
            "“10.005” points must be below 10,000,000",
        ),
        ([(5, "Điểm tối đa", "")], 5, "Điểm tối đa", "Row 1.2 has no maximum points."),
        (
            [(5, "Lĩnh vực", "ZZ")],
            5,
            "Lĩnh vực",
            "Field ZZ of component 1.2 does not exist in this year.",
        ),
        (
            [(5, "Chỉ số/Chỉ số thành phần", "")],
            5,
            "Chỉ số/Chỉ số thành phần",
            "Row 1.2 has no name.",
        ),
        (
            [(5, "Bắt buộc kiểm chứng", "tuỳ")],
            5,
            "Bắt buộc kiểm chứng",
            "Write “có” or “không”, not “tuỳ”.",
        ),
        (
            [(3, "Loại quy tắc", "yes_no")],
            3,
            "Loại quy tắc",
            "Only components carry a scoring rule and a field (row 1).",
        ),
        (
            [(5, "Điểm tối đa", "0")],
            5,
            "Tham số quy tắc",
            "A scored indicator must be worth more than 0 points",
        ),
    ],
)
def test_file_problems_are_listed_by_row_and_column_and_nothing_is_written(
    year_2030, changes, row, column, expected
):
    before = counts()

    result = import_english(csv_bytes(table(changes)))

    assert not result.ok
    assert has_problem(result, row, column, expected), problems_of(result)
    assert counts() == before
    assert set_of(2030, "commune") is None


def test_main_indicator_before_any_pillar_is_reported_once(year_2030):
    rows = [
        ["1", "Nhận thức số", "20", "", "", "", ""],
        ["1.1", "Trưởng ban", "20", "yes_no", "", "NT", "có"],
        ["I", "Chính quyền số", "20", "", "", "", ""],
        ["2", "Thể chế số", "20", "", "", "", ""],
        ["2.1", "Kế hoạch", "20", "yes_no", "", "TC", "có"],
    ]

    result = import_english(csv_bytes(table(rows=rows)))

    assert problems_of(result) == [
        (2, "STT", "Main indicator 1 comes before any pillar.", True)
    ]
    assert set_of(2030, "commune") is None


def test_pillars_must_add_up_to_the_set_total(ctx):
    with force_locale("en"):
        result = index_io.parse_table(table(), {"NT", "TC"}, set_max=1000)

    assert problems_of(result) == [
        (
            None,
            "Điểm tối đa",
            "The pillars add up to 60.00 points, not the set's 1000.00.",
            True,
        )
    ]


def test_problems_read_in_vietnamese_by_default(year_2030):
    result = index_io.import_index_set(
        csv_bytes(table([(5, "Điểm tối đa", "1e30")])), "a.csv", 2030, "commune"
    )

    assert "phải nhỏ hơn 10.000.000" in " ".join(p.message for p in result.problems)


def test_file_without_header_is_reported_on_row_one(year_2030):
    result = import_english(csv_bytes(ROWS))

    assert problems_of(result) == [
        (
            1,
            None,
            "No header row found: the file needs the columns STT, "
            "Chỉ số/Chỉ số thành phần, Điểm tối đa.",
            True,
        )
    ]
    assert set_of(2030, "commune") is None


def test_file_with_another_delimiter_is_reported_as_without_header(year_2030):
    result = import_english(csv_bytes(table(), delimiter="|"))

    assert [(p.row, p.column) for p in result.problems] == [(1, None)]
    assert "No header row found" in result.problems[0].message


def test_header_without_rows_is_reported(year_2030):
    result = import_english(csv_bytes([HEADER]))

    assert problems_of(result) == [(None, None, "The index set has no rows.", True)]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "The file is empty."),
        (
            "STT,Chi\u0309 sô\u0301,Điê\u0309m tô\u0301i đa\n".encode("cp1258"),
            "The file is not in UTF-8 (byte 8). In Excel, save it as",
        ),
        (
            "STT,Tên,Điểm\nI,Café,20\n".encode("latin-1", "replace"),
            "The file is not in UTF-8",
        ),
        ("STT,Chỉ số".encode("utf-16"), "The file is not in UTF-8 (byte 1)"),
        (b"STT,\x00,x\n", "The file is not a text CSV file."),
        (
            csv_bytes(table()) + b'3,"T\xc3\xaan,20\n3.1,x,20\n',
            "The CSV file is malformed at line 8: unexpected end of data.",
        ),
        (
            csv_bytes(table()) + b'3,"T\xc3\xaan" x,20\n',
            "The CSV file is malformed at line 8",
        ),
        (b"PK\x03\x04 not really a workbook", "The XLSX file cannot be read."),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(year_2030, data, expected):
    before = counts()

    assert expected in refusal(data)
    assert counts() == before


def test_a_50_mb_file_is_refused_by_its_size_before_it_is_read(year_2030):
    data = b"x" * (50 * 1024 * 1024)
    started = time.perf_counter()

    message = refusal(data)

    assert message == "The file is 50.0 MB; index-set files are limited to 5.0 MB."
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ({"year": 1999}, "Assessment year 1999 does not exist."),
        ({"level": "province"}, "Agency level province does not exist."),
        ({"level": "department", "group_code": "G9"}, "group G9 does not exist."),
    ],
)
def test_unknown_targets_are_refused(year_2030, target, expected):
    assert expected in refusal(csv_bytes(table()), **target)


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_set_answered_by_submissions_cannot_be_replaced(ctx, dry_run):
    year = current_round_year()
    before = tree_of(set_of(year, "commune"))

    message = refusal(csv_bytes(table()), year=year, dry_run=dry_run)

    assert "is already answered by submissions and cannot be replaced" in message
    assert tree_of(set_of(year, "commune")) == before


def test_a_set_without_submissions_is_replaced_by_a_valid_file(ctx):
    index_set = set_of(2022, "commune")
    name = index_set.name

    result = import_english(csv_bytes(table()), year=2022)

    assert result.ok
    assert [item.code for item in index_set.indicators] == [row[0] for row in ROWS]
    assert index_set.name == name
    assert Decimal(str(index_set.max_points)) == 60
    logged = db.session.execute(
        select(ActivityLog).where(ActivityLog.action == "index_set.imported")
    ).scalar_one()
    assert logged.target_id == index_set.id
    assert "3" in logged.summary and "60" in logged.summary


def test_a_failed_import_leaves_the_old_set_untouched(ctx):
    before = tree_of(set_of(2022, "commune"))

    result = import_english(csv_bytes(table([(5, "Điểm tối đa", "NaN")])), year=2022)

    assert not result.ok
    assert tree_of(set_of(2022, "commune")) == before


# --- Export then import ----------------------------------------------------------

SEEDED = [
    ("department", "G1"),
    ("department", "G2"),
    ("department", "G3"),
    ("district", None),
    ("commune", None),
]


@pytest.mark.parametrize(("level", "group"), SEEDED)
def test_export_then_import_gives_back_the_same_set_exactly(year_2030, level, group):
    original = set_of(2022, level, group)

    result = import_english(
        index_io.export_csv(original).encode("utf-8"),
        "export.csv",
        level=level,
        group_code=group,
        name=original.name,
        source=original.source,
    )

    assert result.ok, problems_of(result)
    copy = set_of(2030, level, group)
    assert tree_of(copy) == tree_of(original)
    assert (copy.name, copy.source) == (original.name, original.source)
    assert Decimal(str(copy.max_points)) == Decimal(str(original.max_points))
    assert {item.field.year_id for item in copy.indicators if item.field} == {
        year_2030.id
    }


def test_export_then_import_into_another_level_gives_back_the_same_tree(year_2030):
    original = set_of(2022, "department", "G1")

    result = import_english(
        index_io.export_csv(original).encode("utf-8"), level="district"
    )

    assert result.ok
    assert tree_of(set_of(2030, "district")) == tree_of(original)


def test_xlsx_export_then_import_gives_back_the_same_set(year_2030):
    original = set_of(2022, "department", "G1")

    result = import_english(
        index_io.export_xlsx(original),
        "export.xlsx",
        level="department",
        group_code="G1",
    )

    assert result.ok
    assert tree_of(set_of(2030, "department", "G1")) == tree_of(original)


def test_quotes_commas_and_line_breaks_late_in_the_file_survive_a_round_trip(
    year_2030,
):
    original = set_of(2022, "department", "G1")
    last = original.indicators[-1]
    last.name = 'Tỷ lệ hồ sơ "một cửa", trực tuyến toàn trình'
    last.method_text = 'a = số hồ sơ "đúng hạn";\nb = tổng số hồ sơ'
    db.session.flush()
    data = index_io.export_csv(original).encode("utf-8")
    assert b'""' not in data[:4096]

    result = import_english(data, level="department", group_code="G1")

    assert result.ok, problems_of(result)
    assert tree_of(set_of(2030, "department", "G1")) == tree_of(original)


def test_export_writes_the_annex_header_and_evidence_flags_of_components(ctx):
    rows = index_io.export_rows(set_of(2022, "commune"))

    assert rows[0] == [index_io.COLUMNS[key][0] for key in index_io.COLUMNS]
    kinds = {
        indicator.code: indicator.kind
        for indicator in set_of(2022, "commune").indicators
    }
    for row in rows[1:]:
        if kinds[row[0]] == IndicatorKind.COMPONENT:
            assert row[-1] in ("có", "không")
        else:
            assert row[-1] == "" and row[7] == ""


def test_export_csv_starts_with_a_bom_for_excel(ctx):
    assert index_io.export_csv(set_of(2022, "commune")).startswith("\ufeffSTT,")


def test_targets_are_found_by_their_codes(ctx):
    year, level, group = index_io.find_target(2022, "department", "G2")

    assert (year.year, level.code, group.code) == (2022, "department", "G2")
    assert isinstance(level, AgencyLevel) and isinstance(group, DepartmentGroup)
    assert set(index_io.field_codes_of(year)) == {
        "NT",
        "TC",
        "HT",
        "NL",
        "AT",
        "CQ",
        "KT",
        "XH",
    }


def test_decomposed_vietnamese_headers_are_recognised(ctx):
    import unicodedata

    text = (
        "STT,Chỉ số/Chỉ số thành phần,Điểm tối đa\nI,Trụ cột,10\n1,Chính,10\n1.1,A,10\n"
    )
    decomposed = unicodedata.normalize("NFD", text).encode("utf-8")

    result = index_io.parse_table(index_io.read_table(decomposed, "nfd.csv"))

    assert [node.code for node in result.nodes] == ["I", "1", "1.1"]


def test_rule_parameters_accept_a_decimal_comma():
    params = scoring.parse_params("choice", "Trưởng=7,5; Phó=0")

    assert params == {"options": [["Trưởng", 7.5], ["Phó", 0.0]]}
