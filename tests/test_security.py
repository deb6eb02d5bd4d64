"""The security baseline FAB leaves off: CSRF, login limits, lockout, headers."""

import os
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ActivityLog, Agency, DtiUser
from tests import factories
from tests.conftest import PASSWORD


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def _csrf_token(html):
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


# --- CSRF -----------------------------------------------------------------


def test_get_cannot_delete_a_row(csrf_on, login_as, ctx):
    client = login_as("organiser")
    level_id = factories.agency("S02").level_id

    client.get(f"/agencylevelmodelview/delete/{level_id}")

    assert db.session.get(factories.agency("S02").level.__class__, level_id)


def test_post_without_token_is_refused(csrf_on, client, ctx):
    client.get("/login/")

    response = client.post("/login/", data={"username": "admin", "password": PASSWORD})

    assert response.status_code == 400


def test_form_post_with_token_is_accepted(csrf_on, client, ctx):
    token = _csrf_token(client.get("/login/").get_data(as_text=True))

    response = client.post(
        "/login/",
        data={"username": "admin", "password": PASSWORD, "csrf_token": token},
    )

    assert response.status_code == 302


def test_edit_without_token_changes_nothing(csrf_on, login_as, ctx):
    client = login_as("organiser")
    agency = factories.agency("S02")

    response = client.post(
        f"/agencymodelview/edit/{agency.id}", data={"name": "Đổi tên", "code": "S02"}
    )

    assert response.status_code == 400
    db.session.expire_all()
    assert factories.agency("S02").name == "Sở Nội vụ"


# --- Login rate limit, lockout, password rule -----------------------------


def test_login_rate_limit_answers_429(client, app):
    limit = int(app.config["AUTH_RATE_LIMIT"].split()[0])
    for _attempt in range(limit):
        client.post("/login/", data={"username": "nobody", "password": "x"})

    response = client.post("/login/", data={"username": "nobody", "password": "x"})

    assert response.status_code == 429


def test_account_locks_after_repeated_failures(auth, app, ctx):
    limit = app.config["DTI_LOCKOUT_AFTER"]
    for _attempt in range(limit):
        auth.login("spec_b", "Wrong@Password1")

    user = db.session.execute(select(DtiUser).filter_by(username="spec_b")).scalar()
    db.session.refresh(user)
    assert user.active is False
    response = auth.login("spec_b")
    assert "/login/" in response.headers.get("Location", "")

    actions = db.session.execute(
        select(ActivityLog.action).where(ActivityLog.user_id == user.id)
    ).scalars()
    recorded = list(actions)
    assert recorded.count("login.failed") == limit
    assert "login.locked" in recorded
    assert "login.refused" in recorded


def test_admin_unlocks_a_locked_account(auth, login_as, app, ctx):
    for _attempt in range(app.config["DTI_LOCKOUT_AFTER"]):
        auth.login("spec_b", "Wrong@Password1")
    user = db.session.execute(select(DtiUser).filter_by(username="spec_b")).scalar()
    db.session.refresh(user)
    client = login_as("admin")

    form = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "email": user.email,
        "active": "y",
        "roles": [str(role.id) for role in user.roles],
        "agency": str(user.agency_id),
    }
    response = client.post(f"/users/edit/{user.id}", data=form)

    assert response.status_code == 302
    db.session.refresh(user)
    assert user.active is True
    assert user.fail_login_count == 0
    assert auth.login("spec_b").headers["Location"].endswith("/")


def test_successful_login_is_logged(auth, ctx):
    auth.login("spec_a")

    count = db.session.execute(
        select(func.count()).where(
            ActivityLog.action == "login.succeeded", ActivityLog.username == "spec_a"
        )
    ).scalar()
    assert count == 1


@pytest.mark.parametrize(
    "password",
    ["short@A1", "alllowercase@123", "NoDigitsHere@@", "NoSpecial1234Ab"],
)
def test_weak_password_is_refused_on_the_user_form(login_as, password):
    client = login_as("admin")

    response = client.post(
        "/users/add",
        data={
            "first_name": "A",
            "last_name": "B",
            "username": "weak",
            "email": "weak@dti.invalid",
            "active": "y",
            "roles": ["1"],
            "password": password,
            "conf_password": password,
        },
    )

    assert response.status_code == 200
    assert "ít nhất 10 ký tự" in response.get_data(as_text=True)


# --- Page size, headers, cookies ----------------------------------------------


def test_page_size_is_capped(login_as, app):
    client = login_as("organiser")

    html = client.get("/agencymodelview/list/?psize_AgencyModelView=100000").get_data(
        as_text=True
    )

    rows = factories.show_ids(html, "agencymodelview")
    assert len(rows) == app.config["DTI_LIST_MAX_PAGE_SIZE"]


@pytest.mark.parametrize(
    "query", ["psize_AgencyModelView=abc", "page_AgencyModelView=-1"]
)
def test_bad_paging_argument_gets_a_clear_400(login_as, query):
    client = login_as("organiser")

    response = client.get(f"/agencymodelview/list/?{query}")

    assert response.status_code == 400
    assert "không hợp lệ" in response.get_data(as_text=True)


def test_pages_carry_security_headers(client):
    response = client.get("/login/")

    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "nonce-" in headers["Content-Security-Policy"]


def test_session_cookie_is_httponly_and_samesite(auth):
    response = auth.login("spec_a")

    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_permissions_are_not_written_when_the_app_starts(app, tmp_path):
    from app import create_app
    from app.models import Agency as _Agency  # noqa: F401
    from tests.conftest import make_config

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        before = db.session.execute(
            select(func.count()).select_from(app.appbuilder.sm.permissionview_model)
        ).scalar()

    create_app(make_config(url, tmp_path))

    with app.app_context():
        after = db.session.execute(
            select(func.count()).select_from(app.appbuilder.sm.permissionview_model)
        ).scalar()
    assert before == after


@pytest.mark.committed
def test_rate_limit_is_shared_through_redis(app, tmp_path):
    """Two app processes (two gunicorn workers) count login attempts together."""
    from app import create_app
    from tests.conftest import make_config

    redis_url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    settings = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": redis_url}
    first = create_app(make_config(url, tmp_path, **settings))
    second = create_app(make_config(url, tmp_path, **settings))
    first.appbuilder.sm.limiter.reset()
    limit = int(first.config["AUTH_RATE_LIMIT"].split()[0])

    statuses = []
    for attempt in range(limit + 1):
        application = first if attempt % 2 else second
        response = application.test_client().post(
            "/login/", data={"username": "ratelimit-probe", "password": "x"}
        )
        statuses.append(response.status_code)

    first.appbuilder.sm.limiter.reset()
    with first.app_context():
        db.session.execute(
            ActivityLog.__table__.delete().where(
                ActivityLog.summary.contains("ratelimit-probe")
            )
        )
        db.session.commit()
        db.engine.dispose()
    with second.app_context():
        db.engine.dispose()
    assert statuses[:limit] == [302] * limit
    assert statuses[-1] == 429


def test_agency_model_is_scoped_for_unknown_users(ctx):
    from app.services import permissions

    assert permissions.row_scope(Agency, None) is not None
