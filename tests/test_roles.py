"""Each role reaches exactly the screens it needs, and its menu shows them."""

import pytest

from app.extensions import db
from app.services import roles
from app.services.permissions import Role

# (user, url, expected status): 200 reachable, 403 refused by FAB's permissions.
ACCESS = [
    # The organiser's staff run the round and set everything up.
    ("organiser", "/agencymodelview/list/", 200),
    ("organiser", "/agencymodelview/add", 200),
    ("organiser", "/indexsetmodelview/add", 200),
    ("organiser", "/phasemodelview/add", 200),
    ("organiser", "/submissionmodelview/list/", 200),
    ("organiser", "/activitylogmodelview/list/", 200),
    ("organiser", "/users/list/", 403),
    # A specialist works on its own agency's dossier.
    ("spec_a", "/myagency/list/", 200),
    ("spec_a", "/submissionmodelview/list/", 200),
    ("spec_a", "/answermodelview/list/", 200),
    ("spec_a", "/evidencemodelview/list/", 200),
    ("spec_a", "/indicatormodelview/list/", 200),
    ("spec_a", "/agencymodelview/list/", 403),
    ("spec_a", "/agencymodelview/add", 403),
    ("spec_a", "/submissionmodelview/add", 403),
    ("spec_a", "/indexsetmodelview/add", 403),
    ("spec_a", "/phasemodelview/add", 403),
    ("spec_a", "/appraisalnotemodelview/add", 403),
    ("spec_a", "/users/list/", 403),
    # The unit approver reads its agency's dossier.
    ("appr_a", "/submissionmodelview/list/", 200),
    ("appr_a", "/myagency/list/", 200),
    ("appr_a", "/answermodelview/edit/1", 403),
    ("appr_a", "/evidencemodelview/list/", 200),
    # Appraisers read dossiers and write notes.
    ("appraiser_nt", "/appraisal/", 200),
    ("appraiser_nt", "/appraisalnotemodelview/add", 403),
    ("spec_a", "/appraisal/", 403),
    ("viewer", "/campaign/", 200),
    ("district_org", "/campaign/", 200),
    ("spec_a", "/campaign/", 403),
    ("spec_a", "/inbox/list/", 200),
    ("appraiser_nt", "/answermodelview/list/", 200),
    ("appraiser_nt", "/submissionmodelview/add", 403),
    ("appraiser_nt", "/agencymodelview/edit/1", 403),
    # A district organiser keeps its communes' calendar and contacts.
    ("district_org", "/phasemodelview/add", 200),
    ("district_org", "/agencymodelview/list/", 200),
    ("district_org", "/agencymodelview/add", 403),
    ("district_org", "/indexsetmodelview/add", 403),
    # A viewer reads everything and changes nothing.
    ("viewer", "/agencymodelview/list/", 200),
    ("viewer", "/submissionmodelview/list/", 200),
    ("viewer", "/activitylogmodelview/list/", 200),
    ("viewer", "/agencymodelview/add", 403),
    ("viewer", "/agencymodelview/edit/1", 403),
    ("viewer", "/submissionmodelview/add", 403),
    # Admin manages accounts.
    ("admin", "/users/list/", 200),
    ("admin", "/users/add", 200),
    ("admin", "/roles/list/", 200),
]


@pytest.mark.parametrize(("username", "url", "status"), ACCESS)
def test_role_reaches_only_its_screens(login_as, username, url, status):
    client = login_as(username)

    response = client.get(url)

    assert response.status_code == status


def test_anonymous_user_is_sent_to_login(client):
    response = client.get("/submissionmodelview/list/")

    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]


# Menu entries are checked by their link, which does not depend on the language.
MENUS = [
    ("spec_a", ["/myagency/list/", "/submissionmodelview/list/"], ["/users/list/"]),
    (
        "organiser",
        ["/agencymodelview/list/", "/indexsetmodelview/list/"],
        ["/users/list/", "/myagency/list/"],
    ),
    ("viewer", ["/agencymodelview/list/"], ["/myagency/list/", "/users/list/"]),
    ("admin", ["/users/list/", "/agencymodelview/list/"], []),
]


@pytest.mark.parametrize(("username", "present", "absent"), MENUS)
def test_menu_shows_the_role_its_screens(login_as, username, present, absent):
    client = login_as(username)

    html = client.get("/").get_data(as_text=True)

    for link in present:
        assert f'href="{link}"' in html
    for link in absent:
        assert f'href="{link}"' not in html


def test_menu_is_in_vietnamese_by_default(login_as):
    client = login_as("organiser")

    html = client.get("/").get_data(as_text=True)

    assert 'lang="vi"' in html
    assert "Đơn vị" in html
    assert "Đăng xuất" in html


def test_english_can_be_chosen(login_as):
    client = login_as("organiser")

    client.get("/lang/en")
    html = client.get("/").get_data(as_text=True)

    assert 'lang="en"' in html
    assert "Organisation" in html


def test_init_roles_twice_changes_nothing(app):
    with app.app_context():
        roles.sync_permissions()
        report = roles.sync_roles()
        db.session.remove()

    assert all(change == (0, 0) for change in report.values())
    assert set(report) == {"Admin", *(str(role) for role in Role if role != Role.ADMIN)}


def test_each_role_holds_exactly_its_listed_permissions(app):
    with app.app_context():
        sm = app.appbuilder.sm
        for role_name in roles.ROLE_PERMISSIONS:
            role = sm.find_role(str(role_name))
            held = {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}
            assert held == roles.permission_pairs(role_name), role_name
        db.session.remove()
