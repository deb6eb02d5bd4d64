"""CSV export: the rows the filters select, Excel-safe, streamed."""

import json
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from app.extensions import db
from app.models import ActivityLog, Answer
from app.services.csv_export import cell, neutralise
from tests import factories


def test_export_starts_with_bom_and_vietnamese_header(login_as):
    client = login_as("organiser")

    response = client.get("/agencymodelview/csv/")

    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = factories.csv_rows(response)
    assert rows[0][:3] == ["Mã", "Tên", "Cấp"]
    assert len(rows) == 1 + 112


def test_export_holds_every_page_not_just_the_first(login_as):
    client = login_as("organiser")

    rows = factories.csv_rows(
        client.get("/agencymodelview/csv/?page_AgencyModelView=2")
    )

    assert len(rows) == 1 + 112


def test_export_honours_the_search_filters(login_as):
    client = login_as("organiser")

    response = client.get("/agencymodelview/csv/?_flt_2_name=Phường")

    rows = factories.csv_rows(response)
    assert len(rows) > 1
    assert all("Phường" in row[1] for row in rows[1:])


def test_export_honours_the_list_order(login_as):
    client = login_as("organiser")

    response = client.get(
        "/agencymodelview/csv/?_oc_AgencyModelView=name&_od_AgencyModelView=desc"
    )

    names = [row[1] for row in factories.csv_rows(response)[1:]]
    assert names == sorted(names, reverse=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+84 292 3811505", "'+84 292 3811505"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Nguyễn Văn A", "Nguyễn Văn A"),
    ],
)
def test_formula_cells_are_neutralised(value, expected):
    assert neutralise(value) == expected


def test_numbers_are_left_as_numbers():
    assert cell(-5) == "-5"
    assert cell(True) == "1"


def test_formula_in_a_record_is_neutralised_in_the_export(login_as, ctx):
    agency = factories.agency("S02")
    agency.contact_name = "=cmd|' /C calc'!A0"
    db.session.commit()
    client = login_as("organiser")

    response = client.get("/agencymodelview/csv/?_flt_0_code=S02")

    row = factories.csv_rows(response)[1]
    assert "'=cmd|' /C calc'!A0" in row


def test_ten_thousand_rows_are_streamed_in_chunks(login_as, ctx):
    db.session.execute(
        insert(ActivityLog),
        [
            {"action": "bulk.test", "summary": f"Dòng {number}"}
            for number in range(10_000)
        ],
    )
    db.session.commit()
    client = login_as("organiser")

    response = client.get("/activitylogmodelview/csv/?_flt_0_action=bulk.test")

    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) > 5, "the export must be written in pieces, not built whole"
    text = "".join(
        chunk.decode() if isinstance(chunk, bytes) else chunk for chunk in chunks
    )
    assert text.count("\n") == 1 + 10_000


def test_figures_and_points_read_the_same_on_every_database(login_as, ctx):
    answer = db.session.execute(select(Answer).order_by(Answer.id)).scalars().first()
    answer.figures = {"a": 3, "b": 4, "ok": True}
    answer.self_score = Decimal("7.50")
    db.session.commit()
    client = login_as("organiser")

    rows = factories.csv_rows(client.get("/answermodelview/csv/"))

    header = rows[0]
    row = next(row for row in rows[1:] if row[0] == str(answer.id))
    assert json.loads(row[header.index("Số liệu báo cáo")]) == {
        "a": 3,
        "b": 4,
        "ok": True,
    }
    assert row[header.index("Điểm tự chấm")] == "7.5"
