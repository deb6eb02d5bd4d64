"""Settings for DTI Console, read from the environment with safe defaults.

Nothing here holds a real secret: `SECRET_KEY` comes from the environment or is
generated once into `instance/secret_key`, which is never committed.
"""

import os
import secrets
from pathlib import Path

from flask_appbuilder.const import AUTH_DB

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("DTI_INSTANCE_DIR", BASE_DIR / "instance"))


def _flag(name, default=False):
    """Read a yes/no environment variable."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key():
    """Return SECRET_KEY from the environment, or one generated into instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]

    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        # Written once; every worker and every later start reads the same key.
        tmp = key_file.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32))
        os.chmod(tmp, 0o600)
        os.replace(tmp, key_file)
    return key_file.read_text().strip()


def _database_url():
    """Return the database URL, defaulting to SQLite under instance/."""
    url = os.environ.get("DATABASE_URL")
    if url:
        # Heroku-style URLs name the dialect "postgres", SQLAlchemy wants "postgresql".
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        return url

    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'dti.db'}"


class Config:
    """Production-safe defaults; tests and development override a few keys."""

    DTI_ENV = os.environ.get("DTI_ENV", "development")
    DTI_INSTANCE_DIR = str(INSTANCE_DIR)
    SECRET_KEY = _secret_key()
    # How many proxies (load balancers) sit in front; 0 when serving directly.
    DTI_PROXY_COUNT = int(os.environ.get("DTI_PROXY_COUNT", "0"))

    # --- Database ---
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # --- Flask-AppBuilder ---
    APP_NAME = "DTI Cần Thơ"
    APP_THEME = ""  # the default theme is fully vendored; bootswatch ones fetch fonts
    AUTH_TYPE = AUTH_DB
    AUTH_ROLE_ADMIN = "Admin"
    AUTH_ROLE_PUBLIC = "Public"
    FAB_SECURITY_MANAGER_CLASS = "app.security.DtiSecurityManager"
    FAB_INDEX_VIEW = "app.views.home.HomeView"
    FAB_BASE_TEMPLATE = "dti/baselayout.html"
    # Migrations own the schema and `flask dti init-roles` syncs permissions once,
    # so gunicorn workers never race to create the same rows on start-up.
    FAB_CREATE_DB = False
    FAB_UPDATE_PERMS = _flag("FAB_UPDATE_PERMS", False)
    FAB_ADD_SECURITY_API = False
    FAB_API_SWAGGER_UI = False

    # --- Login security ---
    AUTH_RATE_LIMITED = True
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "10 per minute")
    RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", True)
    REDIS_URL = os.environ.get("REDIS_URL", "")
    # Without Redis each worker counts alone, so the limit is per worker.
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    DTI_LOCKOUT_AFTER = int(os.environ.get("DTI_LOCKOUT_AFTER", "5"))
    # The validator itself is wired by app.security (it is a callable).
    FAB_PASSWORD_COMPLEXITY_ENABLED = True

    # --- Forms, cookies, headers ---
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # a long self-assessment session must not expire
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("DTI_HTTPS", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = _flag("DTI_HTTPS", False)

    # --- Language ---
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_FOLDER = "translations"
    LANGUAGES = {
        "vi": {"flag": "vn", "name": "Tiếng Việt"},
        "en": {"flag": "gb", "name": "English"},
    }

    # --- Lists and exports ---
    DTI_LIST_MAX_PAGE_SIZE = int(os.environ.get("DTI_LIST_MAX_PAGE_SIZE", "100"))

    # --- Evidence files ---
    DTI_EVIDENCE_ROOT = os.environ.get(
        "DTI_EVIDENCE_ROOT", str(INSTANCE_DIR / "evidence")
    )
    DTI_EVIDENCE_MAX_BYTES = int(
        os.environ.get("DTI_EVIDENCE_MAX_BYTES", str(20 * 1024 * 1024))
    )
    DTI_EVIDENCE_MAX_PAGES = int(os.environ.get("DTI_EVIDENCE_MAX_PAGES", "5000"))
    # The request may carry a few form fields besides the file.
    MAX_CONTENT_LENGTH = DTI_EVIDENCE_MAX_BYTES + 1024 * 1024

    # --- Mail (off while MAIL_SERVER is unset) ---
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _flag("MAIL_USE_TLS", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "dti-console@localhost")
    # Where the console is reached from outside, so links in mails are absolute.
    DTI_BASE_URL = os.environ.get("DTI_BASE_URL", "").rstrip("/")

    # --- Demo data ---
    DTI_DEMO_PASSWORD = os.environ.get("DTI_DEMO_PASSWORD", "")
