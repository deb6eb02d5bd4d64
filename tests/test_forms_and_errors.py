"""Forms keep what was typed on refusal; edits are logged; errors look right."""

from datetime import datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ActivityLog, Agency, Phase, PhaseKind
from tests import factories
from tests.conftest import flashes


def _agency_form(agency, **changes):
    form = {
        "code": agency.code,
        "name": agency.name,
        "level": str(agency.level_id),
        "group": str(agency.group_id or ""),
        "parent": str(agency.parent_id or ""),
        "active": "y",
        "contact_name": agency.contact_name or "",
        "contact_position": "",
        "contact_mobile": "",
        "contact_landline": "",
        "contact_email": "",
    }
    form.update(changes)
    return form


def test_editing_an_agency_logs_old_and_new_values(login_as, ctx):
    agency = factories.agency("S02")
    client = login_as("organiser")

    response = client.post(
        f"/agencymodelview/edit/{agency.id}",
        data=_agency_form(agency, contact_name="Nguyễn Thị Lan"),
    )

    assert response.status_code == 302
    entry = db.session.execute(
        select(ActivityLog).where(ActivityLog.action == "agency.updated")
    ).scalar_one()
    assert entry.changes["contact_name"] == {"old": None, "new": "Nguyễn Thị Lan"}
    assert entry.username == "organiser"
    assert entry.agency_id == agency.id


def test_duplicate_code_is_refused_and_the_form_keeps_the_input(login_as, ctx):
    agency = factories.agency("S02")
    client = login_as("organiser")

    response = client.post(
        "/agencymodelview/add",
        data=_agency_form(agency, name="Sở Thử nghiệm", contact_name="Trần Văn B"),
    )

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Sở Thử nghiệm" in html
    assert "Trần Văn B" in html
    count = db.session.execute(
        select(db.func.count()).select_from(Agency).where(Agency.code == "S02")
    ).scalar()
    assert count == 1


def test_specialist_updates_the_focal_contact_of_its_agency(login_as, ctx):
    agency = factories.agency("S02")
    client = login_as("spec_a")

    response = client.post(
        f"/myagency/edit/{agency.id}",
        data={
            "contact_name": "Lê Văn C",
            "contact_position": "Chuyên viên",
            "contact_mobile": "0912345678",
            "contact_landline": "02923811505",
            "contact_email": "lvc@cantho.gov.vn",
        },
    )

    assert response.status_code == 302
    db.session.refresh(agency)
    assert agency.contact_name == "Lê Văn C"
    assert agency.name == "Sở Nội vụ"


def _phase_form(year_id, opens, closes):
    return {
        "year": str(year_id),
        "kind": str(int(PhaseKind.CONTACT)),
        "district": str(factories.agency("917").id),
        "opens_at": opens,
        "closes_at": closes,
        "note": "",
    }


def test_phase_dates_are_typed_as_dd_mm_yyyy(login_as, ctx):
    year = factories.submission_of("S02").year
    client = login_as("organiser")

    response = client.post(
        "/phasemodelview/add",
        data=_phase_form(year.id, "15/03/2026 08:00", "20/03/2026"),
    )

    assert response.status_code == 302
    phase = db.session.execute(
        select(Phase).where(Phase.district_id == factories.agency("917").id)
    ).scalar_one()
    assert phase.opens_at == datetime(2026, 3, 15, 8, 0)
    assert phase.closes_at == datetime(2026, 3, 20, 0, 0)


@pytest.mark.parametrize(
    ("opens", "closes", "message"),
    [
        ("20/03/2026", "15/03/2026", "phải sau thời điểm bắt đầu"),
        ("2026-03-15", "20/03/2026", "dd/mm/yyyy"),
    ],
)
def test_bad_phase_dates_are_refused_with_the_input_kept(
    login_as, ctx, opens, closes, message
):
    year = factories.submission_of("S02").year
    client = login_as("organiser")

    response = client.post(
        "/phasemodelview/add", data=_phase_form(year.id, opens, closes)
    )

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    assert opens in html
    district = factories.agency("917").id
    assert (
        db.session.execute(select(Phase).where(Phase.district_id == district)).first()
        is None
    )


def test_dates_are_shown_as_dd_mm_yyyy(login_as):
    client = login_as("organiser")

    html = client.get("/assessmentyearmodelview/list/").get_data(as_text=True)

    assert "01/01/2022" in html
    assert "2022-01-01" not in html


def test_missing_record_gets_the_console_404_page(login_as):
    client = login_as("organiser")

    response = client.get("/agencymodelview/show/999999")

    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "không tồn tại" in html
    assert 'class="navbar' in html


def test_server_error_page_rolls_the_session_back(app, login_as, ctx, monkeypatch):
    def boom():
        agency = factories.agency("S02")
        agency.name = "Không được lưu"
        db.session.flush()
        raise RuntimeError("boom")

    client = login_as("organiser")
    monkeypatch.setitem(app.view_functions, "HomeView.index", boom)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    response = client.get("/")

    assert response.status_code == 500
    assert "Đã xảy ra lỗi" in response.get_data(as_text=True)
    db.session.expire_all()
    assert factories.agency("S02").name == "Sở Nội vụ"


def test_refused_delete_keeps_the_row_and_says_why(login_as, ctx):
    level = factories.agency("S02").level
    client = login_as("organiser")

    response = client.post(
        f"/agencylevelmodelview/delete/{level.id}", follow_redirects=True
    )

    assert response.status_code == 200
    assert flashes(response)
    db.session.expire_all()
    assert db.session.get(type(level), level.id) is not None
