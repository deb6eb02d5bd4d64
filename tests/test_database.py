"""The session settings the console gives each database connection."""

import pytest
from sqlalchemy import text

from app.extensions import db


def _setting(name):
    return db.session.execute(text(f"SHOW {name}")).scalar()


def test_each_connection_gets_the_consoles_settings(ctx):
    dialect = db.session.get_bind().dialect.name

    if dialect == "postgresql":
        assert _setting("join_collapse_limit") == "16"
        assert _setting("from_collapse_limit") == "16"
        assert _setting("jit") == "off"
    else:
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


@pytest.mark.committed
def test_settings_survive_a_rolled_back_transaction(app):
    """The pool rolls back a returned connection; the settings must outlive that."""
    with app.app_context():
        engine = db.engine
        engine.dispose()
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            connection.rollback()
            if engine.dialect.name == "postgresql":
                limit = connection.execute(text("SHOW join_collapse_limit"))
                assert limit.scalar() == "16"
            else:
                keys = connection.execute(text("PRAGMA foreign_keys"))
                assert keys.scalar() == 1
