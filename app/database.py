"""Engine-level settings that differ between SQLite and PostgreSQL."""

from sqlalchemy import event

from .extensions import db


def _sqlite_foreign_keys(dbapi_connection, _record):
    """Make SQLite enforce foreign keys, as PostgreSQL always does."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# A list page joins its model, the relations it shows and its filters' subqueries:
# ten or more tables. Past eight PostgreSQL keeps the written join order, which
# made it join 1.25 M answers to every relation before filtering to one agency.
JOIN_COLLAPSE_LIMIT = 16


def _postgresql_planner(dbapi_connection, _record):
    """Let PostgreSQL reorder the joins of a list page, and never JIT-compile.

    JIT pays off for hour-long analytics; on the ranking recompute it spent
    0.5 s compiling a query that then ran for 1.5 s.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute(f"SET join_collapse_limit = {JOIN_COLLAPSE_LIMIT}")
    cursor.execute(f"SET from_collapse_limit = {JOIN_COLLAPSE_LIMIT}")
    cursor.execute("SET jit = off")
    cursor.close()
    dbapi_connection.commit()


def init_app(app):
    """Register the engine events for the app's database."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_foreign_keys)
        elif engine.dialect.name == "postgresql":
            event.listen(engine, "connect", _postgresql_planner)
