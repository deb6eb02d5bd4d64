"""Engine-level settings that differ between SQLite and PostgreSQL."""

from sqlalchemy import event

from .extensions import db


def _sqlite_foreign_keys(dbapi_connection, _record):
    """Make SQLite enforce foreign keys, as PostgreSQL always does."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def init_app(app):
    """Register the engine events for the app's database."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_foreign_keys)
