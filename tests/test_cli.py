"""The `flask dti` commands answer in plain words and change nothing on error."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import DtiUser


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def _user(username):
    return db.session.execute(select(DtiUser).filter_by(username=username)).scalar()


def test_create_user_with_agency_and_fields(runner, ctx):
    result = runner.invoke(
        args=[
            "dti",
            "create-user",
            "--username",
            "tham.dinh",
            "--password",
            "Good@Password9",
            "--role",
            "Appraiser",
            "--agency",
            "S11",
            "--field",
            "NT",
        ]
    )

    assert result.exit_code == 0, result.output
    user = _user("tham.dinh")
    assert user.agency.code == "S11"
    assert [field.code for field in user.fields] == ["NT"]
    assert [role.name for role in user.roles] == ["Appraiser"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--role", "Boss", "--agency", "S02"], "Vai trò Boss không tồn tại"),
        (["--role", "Specialist"], "phải có tham số --agency"),
        (["--role", "Specialist", "--agency", "XX9"], "Đơn vị XX9 không tồn tại"),
        (
            ["--role", "District organiser", "--agency", "S02"],
            "không phải là đơn vị cấp huyện",
        ),
        (
            ["--role", "Appraiser", "--agency", "S02", "--field", "NT"],
            "do đơn vị khác thẩm định",
        ),
        (
            ["--role", "Appraiser", "--agency", "S11", "--field", "ZZ"],
            "Lĩnh vực ZZ không có",
        ),
    ],
)
def test_create_user_refusals(runner, ctx, arguments, message):
    result = runner.invoke(
        args=[
            "dti",
            "create-user",
            "--username",
            "new.user",
            "--password",
            "Good@Password9",
            *arguments,
        ],
    )

    assert result.exit_code == 1
    assert message in result.output
    assert _user("new.user") is None


def test_create_user_refuses_a_weak_password(runner, ctx):
    result = runner.invoke(
        args=[
            "dti",
            "create-user",
            "--username",
            "weak.user",
            "--password",
            "abc",
            "--role",
            "Viewer",
        ]
    )

    assert result.exit_code == 1
    assert _user("weak.user") is None


def test_create_user_refuses_a_taken_username(runner, ctx):
    result = runner.invoke(
        args=[
            "dti",
            "create-user",
            "--username",
            "spec_a",
            "--password",
            "Good@Password9",
            "--role",
            "Viewer",
        ]
    )

    assert result.exit_code == 1
    assert "đã tồn tại" in result.output


def test_init_roles_reports_no_change_on_a_synced_database(runner, ctx):
    result = runner.invoke(args=["dti", "init-roles"])

    assert result.exit_code == 0
    assert "Specialist: +0 -0" in result.output
