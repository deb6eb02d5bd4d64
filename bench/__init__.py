"""Benchmarks of the console on a synthetic national data set.

`python -m bench.generate` builds the data set, `python -m bench.run` measures
the console against baselines run side by side in the same process. Both read
the database from --database-url, else DATABASE_URL, else instance/bench.db.
"""

import logging
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from config import BASE_DIR, Config

logger = logging.getLogger(__name__)

DEFAULT_DATABASE = BASE_DIR / "instance" / "bench.db"
DEV_DATABASE = BASE_DIR / "instance" / "dti.db"

# Every benchmark account shares this password (hashed once by the generator).
PASSWORD = "Bench@Password1"
ADMIN = "bench.admin"

# Agency codes and names, and the word that marks the data as synthetic.
CODE_PREFIX = "SYN"
SYNTHETIC = "synthetic"

# Databases the benchmark must never write: the test suite's and the dev one.
_PROTECTED_NAMES = {"test"}


def database_url(explicit=None):
    """Return the benchmark database URL: argument, DATABASE_URL, or bench.db."""
    url = explicit or os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{DEFAULT_DATABASE}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    return url


def refuse_protected(url):
    """Stop when the URL names the test database or the development database.

    :raises SystemExit: with the reason, before anything is written.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "").resolve()
        if path == DEV_DATABASE.resolve():
            raise SystemExit(f"{url} is the development database; use bench.db.")
        return
    if parsed.database in _PROTECTED_NAMES:
        raise SystemExit(
            f"{url} is the test suite's database; use e.g. "
            "postgresql://postgres@127.0.0.1:5432/bench."
        )


def describe(url):
    """Return the URL without its password, for printing."""
    return make_url(url).render_as_string(hide_password=True)


def make_config(url, **overrides):
    """Return a config class for the console on the benchmark database."""

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = {}
        # The benchmark client posts forms without a token and logs in often.
        WTF_CSRF_ENABLED = False
        RATELIMIT_ENABLED = False
        MAIL_SERVER = ""
        FAB_UPDATE_PERMS = False
        FAB_CREATE_DB = False

    for key, value in overrides.items():
        setattr(BenchConfig, key, value)
    return BenchConfig


def quiet_logs():
    """Keep the console's INFO lines (one per export, per login) off the table."""
    logging.getLogger("app").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # FAB warns about the login redirect of every benchmark client.
    logging.getLogger("flask_appbuilder").setLevel(logging.ERROR)
