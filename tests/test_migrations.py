"""Migrations build every table, FAB's included, and come down again."""

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from app import create_app
from app.extensions import db
from tests.conftest import make_config

pytestmark = pytest.mark.committed


@pytest.fixture
def fresh_url(tmp_path):
    """A database nobody has touched: a new SQLite file or PostgreSQL database."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return

    name = "dti_migrations_test"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    yield base.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def _tables(app):
    with app.app_context():
        names = set(inspect(db.engine).get_table_names())
    return names - {"alembic_version"}


def test_upgrade_builds_every_table_fab_ones_included(fresh_url, tmp_path):
    app = create_app(make_config(fresh_url, tmp_path))
    with app.app_context():
        upgrade()

    tables = _tables(app)
    assert tables == set(db.metadata.tables)
    assert {"ab_user", "ab_role", "ab_permission_view", "agency", "answer"} <= tables

    with app.app_context():
        db.engine.dispose()


def test_models_and_migrations_agree(fresh_url, tmp_path):
    app = create_app(make_config(fresh_url, tmp_path))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()

    assert differences == [], "a model change has no migration: run flask db migrate"


def test_downgrade_to_base_removes_every_table_and_upgrade_restores_them(
    fresh_url, tmp_path
):
    app = create_app(make_config(fresh_url, tmp_path))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert _tables(app) == set()

        upgrade()
        assert _tables(app) == set(db.metadata.tables)
        db.engine.dispose()
