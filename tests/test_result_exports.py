"""Result exports, checked cell by cell against hand-computed values.

The fixture scores a few components of three department dossiers:

    S02 (group G2)  1.1  self 30    round 1 15    round 2 30  final 30
                    1.2  self 22.5  round 1 15    round 2 15  final 15
                    2.1  self 30    round 1 30                final 30
                    → self 82.5, round 1 60, final 75 of 1000: 0.0750, Tốt
    S06 (group G1)  1.1  self 20    round 1 10    round 2 10  final 10
                    2.2  self 12.5  round 1 12.5              final 12.5
                    → self 32.5, round 1 22.5, final 22.5: 0.0225, Khá
                      (pillar I, worth 700: 22.5 / 700 = 0.0321)
    S11 (group G1)  1.1  self 20    round 1 10                final 10
                    2.2  self 25    round 1 12.5              final 12.5
                    → self 45, round 1 22.5, final 22.5: tied with S06
"""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, event
from sqlalchemy.engine import Engine

from app.extensions import db
from app.models import AppraisalNote, Band, SubmissionStatus, Verdict
from app.services import answers, result_exports, results
from tests import factories

RANKING_HEADER = [
    "Phạm vi xếp hạng",
    "Mã trụ cột hoặc tổng",
    "Thứ hạng",
    "Mã đơn vị",
    "Tên đơn vị",
    "Điểm tự đánh giá",
    "Điểm thẩm định vòng 1",
    "Điểm chính thức",
    "Điểm tối đa",
    "Chỉ số DTI",
    "Xếp loại",
]

SCORE_HEADER = [
    "Mã đơn vị",
    "Tên đơn vị",
    "Cấp",
    "Mã chỉ số",
    "Tên chỉ số",
    "Điểm tối đa",
    "Loại quy tắc",
    "Số liệu",
    "Điểm tự chấm",
    "Giải trình",
    "Điểm thẩm định vòng 1",
    "Kết luận vòng 1",
    "Ý kiến thẩm định vòng 1",
    "Giải trình của đơn vị",
    "Điểm thẩm định vòng 2",
    "Ý kiến thẩm định vòng 2",
    "Điểm chính thức",
]

GAP_HEADER = [
    "Mã đơn vị",
    "Tên đơn vị",
    "Mã chỉ số",
    "Tên chỉ số",
    "Điểm tự chấm",
    "Điểm chính thức",
    "Số điểm bị trừ",
    "Ý kiến thẩm định vòng 1",
    "Giải trình của đơn vị",
    "Ý kiến thẩm định vòng 2",
]

S02 = ("S02", "Sở Nội vụ")
S06 = ("S06", "Sở Công Thương")
S11 = ("S11", "Sở Thông tin và Truyền thông")
DEPARTMENT = "Sở, ban, ngành"


def _answer(submission, code):
    return next(item for item in submission.answers if item.indicator.code == code)


def _score(submission, code, figures, scores, explanation=None):
    """Set an answer's figures and its self, round-1, round-2 and final scores."""
    answer = _answer(submission, code)
    answer.figures = figures
    answer.explanation = explanation
    own, first, second, final = (
        None if value is None else Decimal(value) for value in scores
    )
    answer.self_score, answer.round1_score = own, first
    answer.round2_score, answer.final_score = second, final
    return answer


def _note(answer, round_, verdict, comment, reply=None):
    db.session.add(
        AppraisalNote(
            answer=answer,
            round=round_,
            verdict=verdict,
            comment=comment,
            reply_text=reply,
        )
    )


def _finalise(submission):
    submission.status = SubmissionStatus.FINALISED
    answers.refresh_totals(submission)


@pytest.fixture
def year(ctx):
    """Score S02, S06 and S11 as the module docstring says; recompute."""
    s02 = factories.submission_of("S02")
    s06 = factories.submission_of("S06")
    s11 = factories.submission_of("S11")
    year = s02.year

    answer = _score(
        s02, "1.1", {"choice": "Người đứng đầu cơ quan"}, ("30", "15", "30", "30")
    )
    _note(
        answer,
        1,
        Verdict.ADJUST,
        "Chưa có quyết định thành lập.",
        "Đã bổ sung Quyết định 12/QĐ-SNV.",
    )
    _note(answer, 2, Verdict.AGREE, "Chấp nhận giải trình.")
    answer = _score(
        s02,
        "1.2",
        {"a": 3, "b": 4},
        ("22.5", "15", "15", "15"),
        explanation="Theo báo cáo quý IV",
    )
    _note(answer, 1, Verdict.ADJUST, "=1+2", "+ thêm minh chứng")
    _note(answer, 2, Verdict.ADJUST, "Giữ nguyên điểm vòng 1.")
    answer = _score(
        s02, "2.1", {"choice": "Ban hành trong quý I"}, ("30", "30", None, "30")
    )
    _note(answer, 1, Verdict.AGREE, "Đạt.")

    answer = _score(
        s06, "1.1", {"choice": "Cấp phó của người đứng đầu"}, ("20", "10", "10", "10")
    )
    _note(answer, 1, Verdict.ADJUST, "Thiếu văn bản phân công.", "Văn bản số 12/SCT.")
    _note(answer, 2, Verdict.ADJUST, "Không đủ căn cứ.")
    _score(s06, "2.2", {"a": 1, "b": 2}, ("12.5", "12.5", None, "12.5"))

    answer = _score(
        s11, "1.1", {"choice": "Người đứng đầu cơ quan"}, ("20", "10", None, "10")
    )
    _note(answer, 1, Verdict.ADJUST, "Chưa có quyết định.")
    answer = _score(s11, "2.2", {"a": 4, "b": 4}, ("25", "12.5", None, "12.5"))
    _note(answer, 1, Verdict.ADJUST, "Tỷ lệ chưa đúng.", "Đã rà soát lại.")

    # Thresholds of this test only, low enough for the few points scored.
    db.session.execute(delete(Band).where(Band.year_id == year.id))
    db.session.add(Band(year=year, name="Tốt", min_value=Decimal("0.05")))
    db.session.add(Band(year=year, name="Khá", min_value=Decimal("0.02")))
    for submission in (s02, s06, s11):
        _finalise(submission)
    results.recompute(year)
    return year


def _csv(rows):
    """Return the CSV text of rows, and its rows read back with the BOM removed."""
    text = "".join(result_exports.csv_chunks(rows))
    assert text.startswith("\ufeff")
    return text, list(csv.reader(io.StringIO(text[1:])))


def _xlsx_matches_csv(data, expected):
    """Check an XLSX against CSV rows: bold frozen header, the same cells."""
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert len(rows) == len(expected)
    for got_row, want_row in zip(rows, expected, strict=True):
        assert len(got_row) == len(want_row)
        for got, want in zip(got_row, want_row, strict=True):
            if isinstance(got, int | float):
                assert Decimal(str(got)) == Decimal(want)
            else:
                assert (got or "") == want


# --- Rankings -------------------------------------------------------------------


def _ranking_expected():
    s06 = [*S06, "32.50", "22.50", "22.50"]
    s11 = [*S11, "45", "22.50", "22.50"]
    s02 = [*S02, "82.50", "60", "75", "1000", "0.0750", "Tốt"]
    # Group 1's pillar I is worth 700 of the 1000: 22.5 / 700 = 0.0321.
    return [
        RANKING_HEADER,
        ["department:G1", "TOTAL", "1", *s06, "1000", "0.0225", "Khá"],
        ["department:G1", "TOTAL", "1", *s11, "1000", "0.0225", "Khá"],
        ["department:G1", "I", "1", *s06, "700", "0.0321", "Khá"],
        ["department:G1", "I", "1", *s11, "700", "0.0321", "Khá"],
        ["department:G2", "TOTAL", "1", *s02],
        ["department:G2", "I", "1", *s02],
    ]


def test_ranking_csv_has_the_bom_header_and_tied_ranks(year):
    text, rows = _csv(result_exports.ranking_rows(year))

    assert text.startswith("\ufeffPhạm vi xếp hạng,")
    assert rows == _ranking_expected()


def test_ranking_rows_of_one_scope(year):
    _text, rows = _csv(result_exports.ranking_rows(year, "department:G2"))

    assert rows == [_ranking_expected()[0], *_ranking_expected()[5:]]


def test_ranking_rows_of_one_level(year):
    _text, departments = _csv(result_exports.ranking_rows(year, level="department"))
    _text, districts = _csv(result_exports.ranking_rows(year, level="district"))

    assert departments == _ranking_expected()
    assert districts == [RANKING_HEADER]


def test_ranking_xlsx_has_the_same_cells_as_the_csv(year):
    data = result_exports.xlsx_bytes(result_exports.ranking_rows(year), "ranking")

    _xlsx_matches_csv(data, _ranking_expected())


# --- Score matrix ---------------------------------------------------------------


def _blank_row(agency, indicator):
    return [
        *agency,
        DEPARTMENT,
        indicator.code,
        indicator.name,
        format(indicator.max_points.normalize(), "f"),
        indicator.rule_type or "",
        *[""] * 10,
    ]


def _expected_scores(code, filled):
    """Every component of an agency's dossier in order, filled ones as given."""
    submission = factories.submission_of(code)
    agency = (submission.agency.code, submission.agency.name)
    ordered = sorted(submission.answers, key=lambda item: item.indicator.position)
    return [
        filled.get(item.indicator.code) or _blank_row(agency, item.indicator)
        for item in ordered
    ]


def _scored(agency, code, filled):
    """Return a filled score row: the indicator's columns, then `filled`."""
    submission = factories.submission_of(agency[0])
    indicator = _answer(submission, code).indicator
    maximum = format(indicator.max_points.normalize(), "f")
    return [*agency, DEPARTMENT, code, indicator.name, maximum, *filled]


def _s02_scores():
    return _expected_scores(
        "S02",
        {
            "1.1": _scored(
                S02,
                "1.1",
                [
                    "choice",
                    "choice = Người đứng đầu cơ quan",
                    "30",
                    "",
                    "15",
                    "Điều chỉnh",
                    "Chưa có quyết định thành lập.",
                    "Đã bổ sung Quyết định 12/QĐ-SNV.",
                    "30",
                    "Chấp nhận giải trình.",
                    "30",
                ],
            ),
            "1.2": _scored(
                S02,
                "1.2",
                [
                    "ratio",
                    "a = 3; b = 4",
                    "22.50",
                    "Theo báo cáo quý IV",
                    "15",
                    "Điều chỉnh",
                    "'=1+2",
                    "'+ thêm minh chứng",
                    "15",
                    "Giữ nguyên điểm vòng 1.",
                    "15",
                ],
            ),
            "2.1": _scored(
                S02,
                "2.1",
                [
                    "choice",
                    "choice = Ban hành trong quý I",
                    "30",
                    "",
                    "30",
                    "Đồng ý",
                    "Đạt.",
                    "",
                    "",
                    "",
                    "30",
                ],
            ),
        },
    )


def _s06_scores():
    return _expected_scores(
        "S06",
        {
            "1.1": _scored(
                S06,
                "1.1",
                [
                    "choice",
                    "choice = Cấp phó của người đứng đầu",
                    "20",
                    "",
                    "10",
                    "Điều chỉnh",
                    "Thiếu văn bản phân công.",
                    "Văn bản số 12/SCT.",
                    "10",
                    "Không đủ căn cứ.",
                    "10",
                ],
            ),
            "2.2": _scored(
                S06,
                "2.2",
                ["ratio", "a = 1; b = 2", "12.50", "", "12.50", "", "", "", "", ""]
                + ["12.50"],
            ),
        },
    )


def test_score_rows_of_one_agency_cell_by_cell(year):
    s02 = factories.agency("S02")
    s06 = factories.agency("S06")

    _text, first = _csv(result_exports.score_rows(year, s02.id))
    _text, second = _csv(result_exports.score_rows(year, s06.id))

    assert first == [SCORE_HEADER, *_s02_scores()]
    assert second == [SCORE_HEADER, *_s06_scores()]
    assert len(first) == 1 + 29


def test_score_rows_cover_every_answer_of_the_year_by_agency_code(year):
    _text, rows = _csv(result_exports.score_rows(year))

    codes = [row[0] for row in rows[1:]]
    assert codes == sorted(codes)
    expected = {code: len(factories.submission_of(code).answers) for code in set(codes)}
    assert set(codes) >= {"S02", "S06", "S11", "916", "31117"}
    assert all(codes.count(code) == count for code, count in expected.items())
    s02 = [row for row in rows if row[0] == "S02"]
    s06 = [row for row in rows if row[0] == "S06"]
    assert s02 == _s02_scores()
    assert s06 == _s06_scores()


def test_score_and_gap_rows_are_one_query_each(year):
    statements = []

    def _count(*_args):
        statements.append(1)

    db.session.flush()
    event.listen(Engine, "before_cursor_execute", _count)
    try:
        scores = list(result_exports.score_rows(year))
        gaps = list(result_exports.gap_rows(year))
    finally:
        event.remove(Engine, "before_cursor_execute", _count)

    assert len(scores) > 100
    assert len(gaps) == 5
    assert len(statements) == 2


def test_score_xlsx_has_the_same_cells_as_the_csv(year):
    s02 = factories.agency("S02")

    data = result_exports.xlsx_bytes(result_exports.score_rows(year, s02.id), "Điểm")

    _xlsx_matches_csv(data, [SCORE_HEADER, *_s02_scores()])
    assert load_workbook(io.BytesIO(data)).active.title == "Điểm"


# --- Gaps -----------------------------------------------------------------------


def _gap_expected():
    def name(agency, code):
        return _answer(factories.submission_of(agency), code).indicator.name

    return [
        GAP_HEADER,
        [*S11, "2.2", name("S11", "2.2"), "25", "12.50", "12.50"]
        + ["Tỷ lệ chưa đúng.", "Đã rà soát lại.", ""],
        [*S06, "1.1", name("S06", "1.1"), "20", "10", "10"]
        + ["Thiếu văn bản phân công.", "Văn bản số 12/SCT.", "Không đủ căn cứ."],
        [*S11, "1.1", name("S11", "1.1"), "20", "10", "10"]
        + ["Chưa có quyết định.", "", ""],
        [*S02, "1.2", name("S02", "1.2"), "22.50", "15", "7.50"]
        + ["'=1+2", "'+ thêm minh chứng", "Giữ nguyên điểm vòng 1."],
    ]


def test_gap_rows_largest_cut_first_then_agency_code(year):
    _text, rows = _csv(result_exports.gap_rows(year))

    assert rows == _gap_expected()


def test_gap_xlsx_neutralises_formulas_like_the_csv(year):
    data = result_exports.xlsx_bytes(result_exports.gap_rows(year), "gap")

    _xlsx_matches_csv(data, _gap_expected())
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet["H5"].data_type == "s"
    assert sheet["H5"].value == "'=1+2"


# --- Writers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("figures", "text"),
    [
        (None, ""),
        ({}, ""),
        ({"a": 3, "b": 4}, "a = 3; b = 4"),
        ({"a": 2.0, "b": 2.5}, "a = 2; b = 2.5"),
        ({"value": True}, "value = Có"),
        (
            {"parts": ["Có chuyên mục", "Có tin, bài"]},
            "parts = Có chuyên mục, Có tin, bài",
        ),
    ],
)
def test_figures_text(ctx, figures, text):
    assert result_exports.figures_text(figures) == text


def test_csv_response_streams_with_bom_and_attachment_name(year):
    response = result_exports.csv_response(
        result_exports.ranking_rows(year), "dti-2025-ranking"
    )

    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="dti-2025-ranking.csv"'
    )
    text = response.get_data(as_text=True)
    assert text == _csv(result_exports.ranking_rows(year))[0]
    assert list(csv.reader(io.StringIO(text[1:]))) == _ranking_expected()


def test_csv_response_names_a_vietnamese_file_safely(ctx):
    response = result_exports.csv_response(iter([["Mã"]]), 'xếp hạng "2025"')

    assert response.headers["Content-Disposition"] == (
        'attachment; filename="xep-hang-2025.csv"; '
        "filename*=UTF-8''x%E1%BA%BFp%20h%E1%BA%A1ng%20%222025%22.csv"
    )


def test_sheet_names_are_ones_excel_accepts():
    assert result_exports.sheet_name("Xếp hạng [2025]: sở/ngành") == (
        "Xếp hạng -2025-- sở-ngành"
    )
    assert result_exports.sheet_name("") == "DTI"
    assert len(result_exports.sheet_name("x" * 40)) == 31


# --- Commands -------------------------------------------------------------------


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def _sheet_values(data):
    sheet = load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_export_ranking_command_prints_the_same_csv(runner, year):
    expected = _csv(result_exports.ranking_rows(year))[0]

    result = runner.invoke(args=["dti", "export-ranking", "--year", str(year.year)])

    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.decode("utf-8") == expected


def test_export_ranking_command_filters_by_level(runner, year):
    result = runner.invoke(
        args=["dti", "export-ranking", "--year", str(year.year), "--level", "district"]
    )

    assert result.exit_code == 0, result.output
    assert list(csv.reader(io.StringIO(result.output[1:]))) == [RANKING_HEADER]


def test_export_ranking_command_writes_xlsx(runner, year, tmp_path):
    path = tmp_path / "ranking.xlsx"

    result = runner.invoke(
        args=[
            "dti",
            "export-ranking",
            "--year",
            str(year.year),
            "--xlsx",
            "-o",
            str(path),
        ]
    )

    assert result.exit_code == 0, result.output
    expected = result_exports.xlsx_bytes(result_exports.ranking_rows(year), "x")
    assert _sheet_values(path.read_bytes()) == _sheet_values(expected)
    _xlsx_matches_csv(path.read_bytes(), _ranking_expected())


def test_export_scores_command_writes_the_same_csv_file(runner, year, tmp_path):
    path = tmp_path / "scores.csv"

    result = runner.invoke(
        args=["dti", "export-scores", "--year", str(year.year), "-o", str(path)]
    )

    assert result.exit_code == 0, result.output
    expected = _csv(result_exports.score_rows(year))[0]
    assert path.read_bytes().decode("utf-8") == expected


def test_export_scores_command_gap_report(runner, year):
    result = runner.invoke(
        args=["dti", "export-scores", "--year", str(year.year), "--gap"]
    )

    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.decode("utf-8") == _csv(result_exports.gap_rows(year))[0]
    assert list(csv.reader(io.StringIO(result.output[1:]))) == _gap_expected()


@pytest.mark.parametrize("command", ["export-ranking", "export-scores"])
def test_export_commands_refuse_an_unknown_year(runner, ctx, command):
    result = runner.invoke(args=["dti", command, "--year", "1999"])

    assert result.exit_code == 1
    assert "Year 1999 does not exist." in result.output


@pytest.mark.parametrize("command", ["export-ranking", "export-scores"])
def test_export_commands_need_a_file_for_xlsx(runner, ctx, command):
    result = runner.invoke(args=["dti", command, "--year", "2025", "--xlsx"])

    assert result.exit_code == 1
    assert "--xlsx needs --output FILE." in result.output
