"""An agency's staff see, change and export only their own agency's records.

Every scoped view is tried the same ways: the list, a record of another agency
asked for by URL (show, edit, delete), and the CSV export.
"""

import pytest

from app.extensions import db
from app.models import SubmissionStatus
from tests import factories

# (route, how to find the record of an agency code)
SCOPED = {
    "submissionmodelview": lambda code: factories.submission_of(code),
    "answermodelview": lambda code: factories.submission_of(code).answers[0],
    "evidencemodelview": lambda code: factories.evidence_for(
        factories.submission_of(code)
    ),
    "appraisalnotemodelview": lambda code: factories.note_for(
        factories.submission_of(code).answers[0]
    ),
    "activitylogmodelview": lambda code: factories.log_for(code),
    "myagency": lambda code: factories.agency(code),
}


@pytest.fixture
def records(app, ctx):
    """One record per scoped view for agency A (S02) and agency B (S06)."""
    made = {}
    for route, build in SCOPED.items():
        made[route] = {code: build(code) for code in ("S02", "S06")}
    ids = {
        route: {code: item.id for code, item in pair.items()}
        for route, pair in made.items()
    }
    db.session.commit()
    return ids


@pytest.mark.parametrize("username", ["spec_a", "appr_a"])
@pytest.mark.parametrize("route", sorted(SCOPED))
def test_list_shows_only_own_agency(login_as, records, username, route):
    client = login_as(username)

    html = client.get(f"/{route}/list/?psize_x=100").get_data(as_text=True)

    ids = factories.show_ids(html, route)
    assert records[route]["S02"] in ids
    assert records[route]["S06"] not in ids


@pytest.mark.parametrize("username", ["spec_a", "appr_a"])
@pytest.mark.parametrize("route", sorted(SCOPED))
def test_other_agency_record_by_url_is_not_found(login_as, records, username, route):
    client = login_as(username)
    other = records[route]["S06"]

    response = client.get(f"/{route}/show/{other}")

    assert response.status_code == 404
    assert client.get(f"/{route}/show/{records[route]['S02']}").status_code == 200


EDITABLE = ["answermodelview", "evidencemodelview", "myagency"]


@pytest.mark.parametrize("route", EDITABLE)
def test_specialist_cannot_edit_other_agency_record(login_as, records, route):
    client = login_as("spec_a")
    other = records[route]["S06"]

    assert client.get(f"/{route}/edit/{other}").status_code == 404
    assert client.post(f"/{route}/edit/{other}", data={}).status_code == 404


def test_specialist_cannot_delete_other_agency_evidence(login_as, records, app):
    client = login_as("spec_a")
    other = records["evidencemodelview"]["S06"]

    response = client.post(f"/evidencemodelview/delete/{other}")

    assert response.status_code == 404
    from app.models import Evidence

    assert db.session.get(Evidence, other) is not None


def test_specialist_deletes_own_draft_evidence(login_as, records):
    client = login_as("spec_a")
    own = records["evidencemodelview"]["S02"]

    response = client.post(f"/evidencemodelview/delete/{own}")

    assert response.status_code == 302
    from app.models import Evidence

    assert db.session.get(Evidence, own) is None


@pytest.mark.parametrize("username", ["spec_a", "appr_a"])
@pytest.mark.parametrize("route", sorted(SCOPED))
def test_export_leaves_other_agencies_out(login_as, records, username, route):
    client = login_as(username)

    response = client.get(f"/{route}/csv/")

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    rows = factories.csv_rows(response)
    assert len(rows) >= 2
    names = {"S02": "Sở Nội vụ", "S06": "Sở Công Thương"}
    if route in {"submissionmodelview", "answermodelview", "myagency"}:
        assert names["S02"] in body
        assert names["S06"] not in body


def test_district_organiser_sees_its_communes_only(login_as, ctx):
    db.session.commit()
    client = login_as("district_org")

    html = client.get("/submissionmodelview/list/").get_data(as_text=True)

    ids = factories.show_ids(html, "submissionmodelview")
    own_commune = factories.submission_of("31117").id
    other_district = factories.submission_of("917").id
    assert own_commune in ids
    assert factories.submission_of("916").id in ids
    assert other_district not in ids
    assert client.get(f"/submissionmodelview/show/{other_district}").status_code == 404


def test_appraiser_sees_approved_dossiers_but_not_its_own_agency(login_as, ctx):
    approved = factories.submission_of("S06")
    own = factories.submission_of("S11")
    draft = factories.submission_of("S02")
    factories.set_status(approved, SubmissionStatus.APPROVED)
    factories.set_status(own, SubmissionStatus.APPROVED)
    db.session.commit()
    client = login_as("appraiser_nt")

    html = client.get("/submissionmodelview/list/").get_data(as_text=True)

    ids = factories.show_ids(html, "submissionmodelview")
    assert approved.id in ids
    assert own.id not in ids
    assert draft.id not in ids


def test_specialist_relation_dropdowns_offer_own_records_only(login_as, records):
    client = login_as("spec_a")
    evidence = records["evidencemodelview"]["S02"]

    html = client.get(f"/evidencemodelview/edit/{evidence}").get_data(as_text=True)

    own_answer = records["answermodelview"]["S02"]
    other_answer = records["answermodelview"]["S06"]
    assert f'value="{own_answer}"' in html
    assert f'value="{other_answer}"' not in html
