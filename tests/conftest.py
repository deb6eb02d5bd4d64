"""Shared fixtures: one migrated, seeded database per run; a rolled-back
transaction per test; a client and a login helper.

Set TEST_DATABASE_URL=postgresql://… to run the same suite on PostgreSQL.
"""

import os
import re
import socket
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, text

from app import create_app
from app.extensions import db
from app.services import accounts, answers, roles, seeding
from config import Config

PASSWORD = "Test@Password1"


def database_url(tmp_path_factory, name="dti"):
    """Return the test database URL: PostgreSQL if asked, else a SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp(name) / 'test.db'}"


def reset_database(url):
    """Empty a PostgreSQL test database completely (SQLite files start empty)."""
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def make_config(url, instance_dir, **overrides):
    """Return a config class for tests on the given database."""

    class TestConfig(Config):
        TESTING = True
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = {}
        DTI_INSTANCE_DIR = str(instance_dir)
        DTI_EVIDENCE_ROOT = str(instance_dir / "evidence")
        WTF_CSRF_ENABLED = False
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = "memory://"
        DTI_DEMO_PASSWORD = PASSWORD
        MAIL_SERVER = ""
        SERVER_NAME = "localhost"

    for key, value in overrides.items():
        setattr(TestConfig, key, value)
    return TestConfig


# Accounts every test can log in as: username → (role, agency code, fields).
USERS = {
    "admin": ("Admin", None, ()),
    "organiser": ("Organiser", "S11", ()),
    "viewer": ("Viewer", None, ()),
    "spec_a": ("Specialist", "S02", ()),
    "appr_a": ("Unit approver", "S02", ()),
    "spec_b": ("Specialist", "S06", ()),
    "appr_b": ("Unit approver", "S06", ()),
    "spec_district": ("Specialist", "916", ()),
    "spec_commune": ("Specialist", "31117", ()),
    "appr_commune": ("Unit approver", "31117", ()),
    "appraiser_district": ("Appraiser", "916", ()),
    "spec_other_commune": ("Specialist", "31150", ()),
    "district_org": ("District organiser", "916", ()),
    "appraiser_nt": ("Appraiser", "S11", ("NT", "HT", "AT")),
    "appraiser_nl": ("Appraiser", "S02", ("NL",)),
}

# Agencies whose dossier for the current round the base data opens.
OPENED = ("S02", "S06", "916", "917", "31117", "31120", "31150", "S11")


def build_base_data(app):
    """Migrate, create roles, load the reference data, users and a few dossiers."""
    with app.app_context():
        upgrade()
        roles.sync_permissions()
        roles.sync_roles()
        seeding.load_reference()
        year = seeding._one(seeding.AssessmentYear, year=seeding.current_round_year())
        for username, (role, agency, fields) in USERS.items():
            accounts.create_user(
                username=username,
                password=PASSWORD,
                role_name=role,
                agency_code=agency,
                field_codes=fields,
                year=year.year,
            )
        for code in OPENED:
            agency = seeding._one(seeding.Agency, code=code)
            answers.open_submission(agency, year)
        db.session.commit()
        db.session.remove()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """The console on a migrated and seeded test database."""
    url = database_url(tmp_path_factory)
    reset_database(url)
    instance = tmp_path_factory.mktemp("instance")
    application = create_app(make_config(url, instance))
    build_base_data(application)
    _transactional_sqlite(application)
    yield application
    with application.app_context():
        db.engine.dispose()


def _transactional_sqlite(application):
    """Let pysqlite honour SAVEPOINT so each test can be rolled back."""
    with application.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite":
            return
        # Connections opened so far (by the migrations) lack the recipe below.
        engine.dispose()

        @event.listens_for(engine, "connect")
        def _no_pysqlite_transactions(dbapi_connection, _record):
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(connection):
            connection.exec_driver_sql("BEGIN")


@pytest.fixture(autouse=True)
def _rollback(request, app):
    """Run each test inside a transaction that is rolled back afterwards.

    Commits in the code under test become savepoints. Tests marked `committed`
    get the real database and must clean up after themselves.
    """
    if "committed" in request.keywords:
        yield
        return

    with app.app_context():
        engines = db.engines
        engine = engines[None]
        connection = engine.connect()
        transaction = connection.begin()
        factory = db.session.session_factory
        db.session.remove()
        # Flask-SQLAlchemy picks the bind from db.engines; hand it the open
        # connection so every session of the test joins its transaction.
        engines[None] = connection
        factory.kw["join_transaction_mode"] = "create_savepoint"
        try:
            yield
        finally:
            db.session.remove()
            engines[None] = engine
            factory.kw.pop("join_transaction_mode", None)
            transaction.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    """Start every test with empty login counters."""
    app.appbuilder.sm.limiter.reset()


@pytest.fixture
def clock_at(monkeypatch):
    """Freeze the console's clock at a moment: clock_at(datetime(...))."""
    from app.services import clock

    def _at(moment):
        monkeypatch.setattr(clock, "now", lambda: moment)

    return _at


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ctx(app):
    """An app context for tests that call services directly."""
    with app.test_request_context():
        yield


class Auth:
    """Log a test client in and out as one of the USERS."""

    def __init__(self, client):
        self.client = client

    def login(self, username, password=PASSWORD):
        data = {"username": username, "password": password}
        if self.client.application.config["WTF_CSRF_ENABLED"]:
            page = self.client.get("/login/").get_data(as_text=True)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
            data["csrf_token"] = token.group(1)
        return self.client.post("/login/", data=data, follow_redirects=False)

    def logout(self):
        return self.client.get("/logout/")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def login_as(client, auth):
    """Return a function that logs the client in as a named test user."""

    def _login(username):
        auth.logout()
        response = auth.login(username)
        assert response.status_code == 302, f"login of {username} failed"
        return client

    return _login


def flashes(response):
    """Return the flash messages rendered in a page."""
    html = response.get_data(as_text=True)
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>|&times;", "", message)).strip()
        for message in re.findall(
            r'<div class="alert[^"]*"[^>]*>(.*?)</div>', html, re.S
        )
    ]


# --- Mail: a real SMTP server for the notification tests ----------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Collector:
    """An SMTP handler that keeps what it receives and refuses chosen addresses."""

    def __init__(self):
        self.envelopes = []
        self.refused = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self):
        """Return (recipients, parsed message) for every mail received."""
        with self.lock:
            return [
                (
                    envelope.rcpt_tos,
                    message_from_bytes(envelope.content, policy=policy.default),
                )
                for envelope in self.envelopes
            ]


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 that collects the mails it is sent."""
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def mail_on(app, monkeypatch, smtp_server):
    """Point the console's mail at the test SMTP server; return its handler."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp_server.port)
    monkeypatch.setitem(app.config, "DTI_BASE_URL", "https://dti.cantho.gov.vn")
    return smtp_server.handler
