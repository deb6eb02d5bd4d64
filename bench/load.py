"""Deadline day: specialists save, upload and approvers sign off, all at once.

    python -m bench.load [--database-url URL] [--users 200] [--components 20]
        [--workers 3] [--servers 1|2] [--redis URL] [--timeout 600]

Builds a synthetic data set with bench.generate on a dedicated PostgreSQL
database, starts one or two gunicorn servers over it (one evidence root, one
Redis), measures a bare authenticated page as the baseline, then lets every
specialist log in, save figures and upload a PDF while the unit approvers sign
their dossiers off. It then checks in the database and on disk that everything
sent arrived exactly once, probes the shared login rate limit, prints PASS or
FAIL and writes bench/results/load.json. Everything stays on 127.0.0.1.
"""

import argparse
import hashlib
import html
import http.client
import http.cookies
import json
import logging
import math
import os
import platform
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.services.seeding import demo_pdf
from config import BASE_DIR

from . import PASSWORD, describe
from .servers import HOST, ServerGroup, process_cpu_seconds, server_environment

logger = logging.getLogger(__name__)

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/bench_load"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
RESULTS = BASE_DIR / "bench" / "results" / "load.json"
# The test suite's database, the other benchmarks' one and the server's own.
PROTECTED_DATABASES = {"test", "bench", "postgres", "template0", "template1"}
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

# Every simulated user comes from 127.0.0.1, so the login limit (10 per minute
# per address in production) would refuse all but the first ten logins; the
# load phase raises it, the probe phase checks the real mechanism at a low one.
LOAD_RATE_LIMIT = "10000 per minute"
PROBE_LIMIT = 10
SUBMITTED, APPROVED = 20, 30
BARE_PAGE = "/inbox/list/"
REQUEST_SECONDS = 60
KEPT_ERRORS = 10

_TAG = re.compile(r"<(/?)(form|input|select|option|textarea)\b([^>]*)>", re.I)
_ATTRIBUTE = re.compile(r'([a-zA-Z_:][-\w:.]*)(?:\s*=\s*"([^"]*)")?')
_ALERT = re.compile(
    r'<div class="alert alert-(danger|warning)[^"]*">(.*?)</div>', re.S | re.I
)
_MARKUP = re.compile(r"<[^>]+>")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_FIELD = re.compile(r"^a(\d+)_(\w+)$")


class StepError(Exception):
    """A request or a page that stops one simulated user."""


# --- Measurements -----------------------------------------------------------------


class Recorder:
    """Latencies per request kind and the errors of one phase, across threads."""

    def __init__(self, quiet=False):
        self.quiet = quiet
        self.lock = threading.Lock()
        self.latencies = {}
        self.error_count = 0
        self.errors = []

    def add(self, kind, seconds):
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)

    def error(self, message):
        with self.lock:
            self.error_count += 1
            if len(self.errors) < KEPT_ERRORS:
                self.errors.append(message)
        if not self.quiet:
            logger.warning("%s", message)

    @property
    def requests(self):
        return sum(len(values) for values in self.latencies.values())

    def summary(self):
        """Return count and p50/p95/p99/max in milliseconds for each kind."""
        return {
            kind: latency_summary(values)
            for kind, values in sorted(self.latencies.items())
        }


def percentile(values, share):
    """Return the nearest-rank percentile of a list of numbers."""
    ordered = sorted(values)
    index = max(0, math.ceil(share / 100 * len(ordered)) - 1)
    return ordered[index]


def latency_summary(values):
    """Return count and p50/p95/p99/max of latencies, in milliseconds."""
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p95_ms": round(percentile(values, 95) * 1000, 1),
        "p99_ms": round(percentile(values, 99) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


# --- A small browser ----------------------------------------------------------------


@dataclass
class Response:
    """What a request answered, after any redirects."""

    status: int
    headers: object
    body: bytes
    path: str

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")


def alerts(page):
    """Return the danger and warning messages a page shows, as plain text."""
    return [
        " ".join(html.unescape(_MARKUP.sub(" ", body)).replace("×", " ").split())
        for _category, body in _ALERT.findall(page)
    ]


def multipart(fields, files):
    """Return the body and content type of a multipart/form-data request."""
    boundary = "dti-load-" + secrets.token_hex(12)
    parts = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    for name, filename, data, content_type in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Browser:
    """One user's client: a cookie jar shared by every server, like a browser's.

    Cookies ignore ports, so a session cookie set by one server is sent to the
    other, as it would be behind a load balancer.
    """

    def __init__(self, recorder, deadline, stop):
        self.recorder = recorder
        self.deadline = deadline
        self.stop = stop
        self.cookies = {}

    def _send(self, kind, server, method, path, body, content_type):
        if self.stop.is_set():
            raise StepError("stopped")
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            message = f"--timeout reached before {method} {server.name}{path}"
            self.recorder.error(message)
            raise StepError(message)

        headers = {"Accept": "text/html", "User-Agent": "dti-bench-load"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = content_type
        connection = http.client.HTTPConnection(
            HOST, server.port, timeout=min(REQUEST_SECONDS, remaining)
        )
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
        except (OSError, http.client.HTTPException) as error:
            message = f"{kind} {method} {server.name}{path}: {error!r}"
            self.recorder.error(message)
            raise StepError(message) from error
        finally:
            connection.close()
        self.recorder.add(kind, time.perf_counter() - started)

        for header in answer.headers.get_all("Set-Cookie") or []:
            cookie = http.cookies.SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return Response(answer.status, answer.headers, data, path)

    def request(self, kind, server, method, path, form=None, files=None, follow=True):
        """Send one request (following redirects as GET pages) and check it.

        :raises StepError: on an HTTP status of 400 or more, or a failed request.
        """
        body = content_type = None
        if files is not None:
            body, content_type = multipart(form or [], files)
        elif form is not None:
            body = urlencode(form).encode()
            content_type = "application/x-www-form-urlencoded"

        response = self._send(kind, server, method, path, body, content_type)
        hops = 0
        while follow and response.status in (301, 302, 303) and hops < 5:
            target = urljoin(path, response.headers.get("Location", "/"))
            parts = urlsplit(target)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            response = self._send("page", server, "GET", path, None, None)
            hops += 1

        if response.status >= 400:
            shown = "; ".join(alerts(response.text))[:300]
            message = (
                f"{kind} {method} {server.name}{path}: HTTP {response.status} {shown}"
            )
            self.recorder.error(message)
            raise StepError(message)
        return response


# --- Reading the pages --------------------------------------------------------------


def _attributes(source):
    return {
        name.lower(): html.unescape(value or "")
        for name, value in _ATTRIBUTE.findall(source)
    }


@dataclass
class Component:
    """One component of the self-assessment page and what its rule asks for."""

    answer_id: int
    version: str = ""
    keys: dict = field(default_factory=dict)
    options: list = field(default_factory=list)
    evidence: list = field(default_factory=list)
    maximum: Decimal | None = None
    disabled: bool = False

    @property
    def rule(self):
        keys = self.keys
        if keys.get("value") == "radio":
            return "yes_no"
        if "value" in keys:
            return "relative" if keys["value"] == "number" else "not_scored"
        for rule, key in (("choice", "choice"), ("count", "count"), ("ratio", "a")):
            if key in keys:
                return rule
        if "parts" in keys:
            return "parts"
        if "points" in keys:
            return "manual"
        return None


@dataclass
class Page:
    """The parts of a console page the simulated users act on."""

    csrf: dict = field(default_factory=dict)
    components: dict = field(default_factory=dict)
    actions: list = field(default_factory=list)
    pillars: list = field(default_factory=list)
    evidence_links: dict = field(default_factory=dict)


def parse_page(page):
    """Return the forms, components, pillar tabs and evidence links of a page."""
    parsed = Page()
    form = select = None
    for closing, tag, source in _TAG.findall(page):
        tag = tag.lower()
        if closing:
            if tag == "form":
                form = None
            elif tag == "select":
                select = None
            continue
        attributes = _attributes(source)
        name = attributes.get("name", "")
        if tag == "form":
            form = attributes.get("action", "")
            parsed.actions.append(form)
        elif tag == "select":
            select = name
            _note_field(parsed, name, "select", attributes)
        elif tag == "option" and select:
            _note_option(parsed, select, attributes)
        elif tag in ("input", "textarea"):
            if name.endswith("csrf_token"):
                parsed.csrf[name] = attributes.get("value", "")
            elif name == "answer_ids":
                answer_id = int(attributes["value"])
                parsed.components.setdefault(answer_id, Component(answer_id))
            else:
                kind = attributes.get("type", tag)
                _note_field(parsed, name, kind, attributes)

    for match in re.finditer(r'href="/self-assessment/[0-9]+\?pillar=([^"]+)"', page):
        if match.group(1) not in parsed.pillars:
            parsed.pillars.append(match.group(1))
    link = re.compile(r'href="/self-assessment/evidence/([0-9]+)"[^>]*>([^<]+)</a>')
    for evidence_id, filename in link.findall(page):
        parsed.evidence_links[html.unescape(filename).strip()] = int(evidence_id)
    return parsed


def _component_field(parsed, name):
    match = _FIELD.match(name)
    if match is None:
        return None, None
    answer_id = int(match.group(1))
    component = parsed.components.setdefault(answer_id, Component(answer_id))
    return component, match.group(2)


def _note_field(parsed, name, kind, attributes):
    component, key = _component_field(parsed, name)
    if component is None:
        return
    if "disabled" in attributes:
        component.disabled = True
    if key == "version":
        component.version = attributes.get("value", "")
    elif key in ("value", "choice", "count", "a", "b", "parts", "points"):
        if key == "value" and kind == "text":
            kind = "number" if "placeholder" in attributes else "text"
        component.keys[key] = kind
        if key == "parts":
            component.options.append(attributes.get("value", ""))
        if key == "points":
            numbers = _NUMBER.findall(attributes.get("placeholder", ""))
            if numbers:
                component.maximum = Decimal(numbers[-1].replace(",", "."))


def _note_option(parsed, select, attributes):
    component, key = _component_field(parsed, select)
    if component is None:
        return
    value = attributes.get("value", "")
    if key == "choice" and value:
        component.options.append(value)
    elif key == "evidence" and "selected" in attributes:
        component.evidence.append(value)


def typed_number(text):
    """Return a typed number as the console stores it: int when whole, else float."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        return text
    return int(value) if value == value.to_integral() else float(value)


def answer_for(component, number):
    """Return (form fields, expected figures) of a valid answer for a component.

    Values differ from the generator's, so every save really writes.
    """
    key = f"a{component.answer_id}_"
    rule = component.rule
    if rule == "yes_no":
        return [(key + "value", "1")], {"value": True}
    if rule == "choice":
        choice = component.options[0]
        return [(key + "choice", choice)], {"choice": choice}
    if rule == "count":
        count = 6 + number % 7
        return [(key + "count", str(count))], {"count": count}
    if rule == "ratio":
        total = 61 + number % 40
        part = total // 2 + number % 7
        return (
            [(key + "a", str(part)), (key + "b", str(total))],
            {"a": part, "b": total},
        )
    if rule == "parts":
        fields = [(key + "parts_seen", "1")]
        fields += [(key + "parts", label) for label in component.options]
        return fields, {"parts": list(component.options)}
    if rule == "manual":
        maximum = component.maximum or Decimal(1)
        points = (maximum * Decimal("0.4")).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        return [(key + "points", str(points))], {"points": typed_number(str(points))}
    if rule == "relative":
        value = 7 + number % 5
        return [(key + "value", str(value))], {"value": value}
    if rule == "not_scored":
        return [(key + "value", "7")], {"value": "7"}
    raise StepError(f"answer {component.answer_id}: no input recognised on the page")


# --- The simulated users ------------------------------------------------------------


@dataclass
class Plan:
    """Who one simulated user is, which dossier is theirs and where they work."""

    number: int
    username: str
    user_id: int
    role: str
    submission_id: int
    login_server: object = None
    work_server: object = None
    download_server: object = None


@dataclass
class Outcome:
    """What one simulated user sent, for the verification."""

    plan: Plan
    done: bool = False
    figures: dict = field(default_factory=dict)
    upload: dict | None = None
    approved: bool = False
    seconds: float = 0.0


def log_in(browser, server, username):
    """Log in on a server through its login form.

    :raises StepError: when the console refuses the login.
    """
    form = browser.request("page", server, "GET", "/login/")
    token = parse_page(form.text).csrf.get("csrf_token", "")
    answer = browser.request(
        "login",
        server,
        "POST",
        "/login/",
        form=[("csrf_token", token), ("username", username), ("password", PASSWORD)],
        follow=False,
    )
    location = answer.headers.get("Location", "")
    if answer.status != 302 or "/login" in location:
        shown = "; ".join(alerts(answer.text))[:200]
        message = f"login of {username} on {server.name} refused: {shown}"
        browser.recorder.error(message)
        raise StepError(message)
    browser.request("page", server, "GET", location or "/")


def open_dossier(browser, plan):
    """Open /self-assessment/ and check it lands on the user's own dossier."""
    response = browser.request("page", plan.work_server, "GET", "/self-assessment/")
    expected = f"/self-assessment/{plan.submission_id}"
    if not response.path.startswith(expected):
        message = (
            f"{plan.username} on {plan.work_server.name} landed on {response.path}, "
            f"not {expected} (was the session cookie accepted?)"
        )
        browser.recorder.error(message)
        raise StepError(message)
    return response


def save_pillar(browser, plan, page, components, outcome):
    """Save some components of one pillar page with the whole-page button."""
    token = page.csrf.get("csrf_token", "")
    pillar = components[0][0]
    fields = [("csrf_token", token), ("pillar", pillar)]
    for _pillar, component in components:
        inputs, figures = answer_for(component, plan.number + component.answer_id)
        explanation = (
            f"Số liệu bench.load của {plan.username}, "
            f"thành phần #{component.answer_id}."
        )
        fields += [
            ("answer_ids", str(component.answer_id)),
            (f"a{component.answer_id}_version", component.version),
            *inputs,
            (f"a{component.answer_id}_explanation", explanation),
        ]
        fields += [(f"a{component.answer_id}_evidence", v) for v in component.evidence]
        outcome.figures[component.answer_id] = (figures, explanation)
    path = f"/self-assessment/{plan.submission_id}"
    return browser.request("save", plan.work_server, "POST", path, form=fields)


def run_specialist(browser, plan, components_wanted):
    """Log in, save figures pillar by pillar, upload a PDF and download it back."""
    outcome = Outcome(plan)
    log_in(browser, plan.login_server, plan.username)
    response = open_dossier(browser, plan)
    page = parse_page(response.text)
    pillars = page.pillars or [""]

    chosen = []
    for index, pillar in enumerate(pillars):
        if len(chosen) >= components_wanted:
            break
        if index > 0:
            path = f"/self-assessment/{plan.submission_id}?pillar={pillar}"
            response = browser.request("page", plan.work_server, "GET", path)
            page = parse_page(response.text)
        wanted = components_wanted - len(chosen)
        here = [(pillar, item) for item in page.components.values()][:wanted]
        if any(component.disabled for _pillar, component in here):
            raise StepError(f"{plan.username}: the dossier is read-only")
        if here:
            response = save_pillar(browser, plan, page, here, outcome)
            page = parse_page(response.text)
            chosen += here
    if len(chosen) < components_wanted:
        raise StepError(
            f"{plan.username}: only {len(chosen)} components on the pages, "
            f"{components_wanted} wanted"
        )

    outcome.upload = upload_evidence(browser, plan, page, chosen[0])
    download_evidence(browser, plan, outcome.upload)
    outcome.done = True
    return outcome


def upload_evidence(browser, plan, page, target):
    """Upload a small PDF linked to one component and find its evidence id."""
    pillar, component = target
    filename = f"bench-load-{plan.username}.pdf"
    data = demo_pdf(
        [
            "DTI Console load test (synthetic)",
            f"Account {plan.username}, submission {plan.submission_id}",
            f"Nonce {secrets.token_hex(8)}",
        ]
    )
    token = page.csrf.get("evidence-csrf_token", "")
    fields = [
        ("evidence-csrf_token", token),
        ("pillar", pillar),
        ("evidence-doc_type", "report"),
        ("evidence-doc_number", f"{plan.number}/BC-LOAD"),
        ("evidence-doc_date", date.today().strftime("%d/%m/%Y")),
        ("evidence-issuer", "Đơn vị tổng hợp (synthetic)"),
        ("evidence-summary", "Báo cáo cho phép thử tải (synthetic)."),
        ("evidence-answers", str(component.answer_id)),
    ]
    files = [("evidence-file", filename, data, "application/pdf")]
    path = f"/self-assessment/{plan.submission_id}/evidence"
    response = browser.request(
        "upload", plan.work_server, "POST", path, form=fields, files=files
    )
    evidence_id = parse_page(response.text).evidence_links.get(filename)
    if evidence_id is None:
        shown = "; ".join(alerts(response.text))[:300]
        message = f"upload by {plan.username}: no evidence link on the page. {shown}"
        browser.recorder.error(message)
        raise StepError(message)
    return {
        "evidence_id": evidence_id,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "answer_id": component.answer_id,
        "server": plan.work_server.name,
    }


def download_evidence(browser, plan, upload):
    """Download the uploaded file (through the other server when there are two)."""
    server = plan.download_server
    path = f"/self-assessment/evidence/{upload['evidence_id']}"
    response = browser.request("download", server, "GET", path)
    upload["downloaded_from"] = server.name
    digest = hashlib.sha256(response.body).hexdigest()
    if digest != upload["sha256"]:
        message = (
            f"download of evidence {upload['evidence_id']} from {server.name}: "
            f"sha256 {digest[:12]}… differs from the upload's {upload['sha256'][:12]}…"
        )
        browser.recorder.error(message)
        raise StepError(message)


def run_approver(browser, plan):
    """Log in and approve the agency's submitted dossier."""
    outcome = Outcome(plan)
    log_in(browser, plan.login_server, plan.username)
    response = open_dossier(browser, plan)
    page = parse_page(response.text)
    action = f"/self-assessment/{plan.submission_id}/approve"
    if action not in page.actions:
        message = f"{plan.username}: no approve button on {response.path}"
        browser.recorder.error(message)
        raise StepError(message)
    form = [("csrf_token", page.csrf.get("csrf_token", ""))]
    response = browser.request("approve", plan.work_server, "POST", action, form=form)
    if action in parse_page(response.text).actions:
        shown = "; ".join(alerts(response.text))[:300]
        message = f"{plan.username}: approval not taken: {shown}"
        browser.recorder.error(message)
        raise StepError(message)
    outcome.approved = True
    outcome.done = True
    return outcome


# --- Phases -------------------------------------------------------------------------


def refuse_unsafe(url):
    """Stop unless the URL names a dedicated PostgreSQL database on 127.0.0.1.

    :raises SystemExit: before anything is written.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit(f"{describe(url)}: the load test needs PostgreSQL.")
    if parsed.host not in LOCAL_HOSTS:
        raise SystemExit(f"{describe(url)}: the load test stays on 127.0.0.1.")
    if parsed.database in PROTECTED_DATABASES:
        raise SystemExit(
            f"{describe(url)} is not the load test's own database; use e.g. "
            f"{DEFAULT_DATABASE}."
        )


def ensure_database(url):
    """Create the PostgreSQL database if it is missing."""
    parsed = make_url(url)
    server = create_engine(
        parsed.set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with server.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"),
            {"name": parsed.database},
        ).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
            logger.info("created database %s", parsed.database)
    server.dispose()


def generate(url, users, agencies, indicators, timeout):
    """Run bench.generate in a child process and return how long it took."""
    command = [
        sys.executable,
        "-m",
        "bench.generate",
        "--agencies",
        str(agencies),
        "--indicators",
        str(indicators),
        "--years",
        "1",
        "--accounts",
        str(users),
        "--database-url",
        url,
        "--reset",
    ]
    logger.info("preparing the data: %s", " ".join(command[1:]))
    started = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"bench.generate failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started


def load_plans(engine):
    """Return the benchmark accounts with their dossier of the latest year."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT u.id, u.username, s.id, s.status FROM ab_user u "
                "JOIN submission s ON s.agency_id = u.agency_id "
                "JOIN assessment_year y ON y.id = s.year_id "
                "WHERE (u.username LIKE 'bench.spec.%' "
                "OR u.username LIKE 'bench.appr.%') "
                "AND y.year = (SELECT max(year) FROM assessment_year) "
                "ORDER BY u.username"
            )
        ).all()
    specialists, approvers = [], []
    for user_id, username, submission_id, status in rows:
        if username.startswith("bench.spec."):
            specialists.append((user_id, username, submission_id, status))
        else:
            approvers.append((user_id, username, submission_id, status))
    return specialists, approvers


def assign_servers(plans, servers):
    """Spread users over the servers; with two, a third log in on the other one."""
    count = len(servers)
    for plan in plans:
        home = plan.number % count
        plan.login_server = servers[home]
        crossing = count > 1 and plan.number % 3 == 0
        work = (home + 1) % count if crossing else home
        plan.work_server = servers[work]
        plan.download_server = servers[(work + 1) % count]


def interleave(specialists, approvers):
    """Return one queue with the approvers spread evenly among the specialists."""
    if not approvers:
        return list(specialists)
    step = len(specialists) / len(approvers)
    keyed = [(index, 0, plan) for index, plan in enumerate(specialists)]
    keyed += [((index + 0.5) * step, 1, plan) for index, plan in enumerate(approvers)]
    return [plan for _key, _order, plan in sorted(keyed, key=lambda row: row[:2])]


def measure_bare_page(servers, usernames, total, concurrency, deadline, stop):
    """Measure GETs of a bare authenticated page by logged-in users → requests/s."""
    recorder = Recorder()
    setup = Recorder()
    browsers = []
    for index, username in enumerate(usernames):
        browser = Browser(setup, deadline, stop)
        server = servers[index % len(servers)]
        log_in(browser, server, username)
        # Warm every worker's templates before the clock starts.
        for _ in range(2):
            browser.request("page", server, "GET", BARE_PAGE)
            browser.request("page", server, "GET", "/self-assessment/")
        browsers.append(browser)

    # Fewer users than threads: one thread per logged-in user.
    concurrency = min(concurrency, len(browsers))

    def hammer(index, count):
        browser = browsers[index]
        browser.recorder = recorder
        for number in range(count):
            server = servers[(index + number) % len(servers)]
            try:
                browser.request("bare", server, "GET", BARE_PAGE, follow=False)
            except StepError:
                return

    shares = [
        total // concurrency + (1 if index < total % concurrency else 0)
        for index in range(concurrency)
    ]
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(hammer, range(concurrency), shares))
    seconds = time.perf_counter() - started
    return {
        "path": BARE_PAGE,
        "requests": recorder.requests,
        "seconds": round(seconds, 2),
        "requests_per_second": round(recorder.requests / seconds, 1),
        "latency": latency_summary(recorder.latencies.get("bare", [])),
        "errors": recorder.error_count + setup.error_count,
        "first_errors": recorder.errors + setup.errors,
    }


def _machine_ticks():
    """Return (busy, total) CPU ticks of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def _postgres_seconds(database):
    """Return the CPU time of the PostgreSQL backends serving one database."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            # A backend's title reads "postgres: 15/main: user database host …".
            title = (entry / "cmdline").read_bytes().decode(errors="replace").split()
        except OSError:
            continue
        if database in title:
            total += process_cpu_seconds(int(entry.name))
    return total


def busy_share(seconds=2.0):
    """Return how busy the machine is over a short sample (0 idle, 1 saturated)."""
    busy, total = _machine_ticks()
    time.sleep(seconds)
    later_busy, later_total = _machine_ticks()
    return round((later_busy - busy) / max(1, later_total - total), 2)


def cpu_snapshot(servers, database):
    """Return the CPU seconds used so far by the servers, PostgreSQL and the client."""
    busy, total = _machine_ticks()
    return {
        "servers": sum(server.cpu_seconds() for server in servers),
        "postgresql": _postgres_seconds(database),
        "client": time.process_time(),
        "machine_busy": busy / os.sysconf("SC_CLK_TCK"),
        "machine_total": total / os.sysconf("SC_CLK_TCK"),
    }


def cpu_used(before, after):
    """Return where the CPU time of a phase went, and how busy the machine was.

    `other` is what the machine spent beyond the servers, their PostgreSQL
    backends and the client: the kernel, and any other program running then.
    """
    used = {key: after[key] - before[key] for key in before}
    busy = used.pop("machine_busy")
    total = used.pop("machine_total")
    used["other"] = busy - used["servers"] - used["postgresql"] - used["client"]
    used = {key: round(value, 1) for key, value in used.items()}
    used["machine_busy_share"] = round(busy / total, 2)
    used["other_share"] = round(used["other"] / busy, 2) if busy else 0.0
    return used


def run_load(plans, components, concurrency, deadline, stop, servers, database):
    """Run every simulated user through a bounded thread pool; return the phase."""
    recorder = Recorder()

    def simulate(plan):
        browser = Browser(recorder, deadline, stop)
        started = time.perf_counter()
        try:
            if plan.role == "specialist":
                outcome = run_specialist(browser, plan, components)
            else:
                outcome = run_approver(browser, plan)
        except StepError:
            outcome = Outcome(plan)
        except Exception as error:  # a bug here must not hide the other users
            recorder.error(f"{plan.username}: {error!r}")
            outcome = Outcome(plan)
        outcome.seconds = time.perf_counter() - started
        return outcome

    outcomes = []
    started = time.perf_counter()
    cpu_before = cpu_snapshot(servers, database)
    pool = ThreadPoolExecutor(concurrency)
    try:
        futures = [pool.submit(simulate, plan) for plan in plans]
        for future in as_completed(futures):
            outcomes.append(future.result())
    except BaseException:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    seconds = time.perf_counter() - started
    cpu = cpu_used(cpu_before, cpu_snapshot(servers, database))

    done = [item for item in outcomes if item.done]
    phase = {
        "seconds": round(seconds, 2),
        "users": len(plans),
        "users_done": len(done),
        "requests": recorder.requests,
        "requests_per_second": round(recorder.requests / seconds, 1),
        "users_per_second": round(len(done) / seconds, 2),
        "latency": recorder.summary(),
        "errors": recorder.error_count,
        "first_errors": recorder.errors,
        "cpu_seconds": cpu,
    }
    return phase, outcomes


# --- Verification -------------------------------------------------------------------


def verify(engine, outcomes, evidence_root, activity_mark):
    """Check the database and the evidence root hold exactly what was sent."""
    problems = []
    figures = {}
    uploads = []
    approvals = {}
    for outcome in outcomes:
        figures.update(outcome.figures)
        if outcome.upload:
            uploads.append((outcome.plan, outcome.upload))
        if outcome.plan.role == "approver":
            approvals[outcome.plan.submission_id] = outcome.plan.user_id

    with engine.connect() as connection:
        stored = {
            answer_id: (value, explanation)
            for answer_id, value, explanation in connection.execute(
                text(
                    "SELECT id, figures, explanation FROM answer WHERE id = ANY(:ids)"
                ),
                {"ids": list(figures)},
            )
        }
        writes = dict(
            connection.execute(
                text(
                    "SELECT target_id, count(*) FROM activity_log "
                    "WHERE action = 'answer.updated' AND target_type = 'answer' "
                    "AND id > :mark AND target_id = ANY(:ids) GROUP BY target_id"
                ),
                {"mark": activity_mark, "ids": list(figures)},
            ).all()
        )
        evidence_rows = connection.execute(
            text(
                "SELECT e.id, e.submission_id, e.sha256, e.storage_key, "
                "e.size_bytes, array_remove(array_agg(l.answer_id), NULL) "
                "FROM evidence e LEFT JOIN answer_evidence l ON l.evidence_id = e.id "
                "WHERE e.sha256 = ANY(:digests) GROUP BY e.id"
            ),
            {"digests": [upload["sha256"] for _plan, upload in uploads]},
        ).all()
        submissions = {
            submission_id: (status, approved_by)
            for submission_id, status, approved_by in connection.execute(
                text(
                    "SELECT id, status, approved_by_id FROM submission "
                    "WHERE id = ANY(:ids)"
                ),
                {"ids": list(approvals)},
            )
        }

    figures_ok = 0
    for answer_id, (sent, explanation) in figures.items():
        value, saved_explanation = stored.get(answer_id, (None, None))
        count = writes.get(answer_id, 0)
        if value == sent and saved_explanation == explanation and count == 1:
            figures_ok += 1
        else:
            problems.append(
                f"answer {answer_id}: sent {sent}, stored {value}, written {count}×"
            )

    by_digest = {}
    for row in evidence_rows:
        by_digest.setdefault(row[2], []).append(row)
    root = Path(evidence_root)
    files_ok = 0
    for plan, upload in uploads:
        rows = by_digest.get(upload["sha256"], [])
        if len(rows) != 1:
            problems.append(f"upload by {plan.username}: {len(rows)} evidence rows")
            continue
        evidence_id, submission_id, digest, key, size, linked = rows[0]
        path = root / key
        on_disk = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""
        checks = (
            evidence_id == upload["evidence_id"],
            submission_id == plan.submission_id,
            size == upload["size"],
            upload["answer_id"] in (linked or []),
            on_disk == digest,
        )
        if all(checks):
            files_ok += 1
        else:
            problems.append(
                f"evidence {evidence_id} of {plan.username}: id, submission, size, "
                f"link, file = {checks}"
            )

    approvals_ok = 0
    for submission_id, user_id in approvals.items():
        status, approved_by = submissions.get(submission_id, (None, None))
        if status == APPROVED and approved_by == user_id:
            approvals_ok += 1
        else:
            problems.append(
                f"submission {submission_id}: status {status}, approved by "
                f"{approved_by}, expected user {user_id}"
            )

    return {
        "figures_sent": len(figures),
        "figures_ok": figures_ok,
        "uploads_sent": len(uploads),
        "uploads_ok": files_ok,
        "approvals_expected": len(approvals),
        "approvals_ok": approvals_ok,
        "problems": problems[:KEPT_ERRORS],
        "problem_count": len(problems),
    }


# --- The login rate limit across servers --------------------------------------------


def clear_rate_limits(redis_url):
    """Delete the login rate-limit counters of earlier runs from the Redis db."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match="*LIMITER/*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def probe_rate_limit(servers, deadline, stop):
    """Post wrong passwords to the servers in turn; expect 429 after the limit."""
    recorder = Recorder(quiet=True)
    username = f"bench.ratelimit.{secrets.token_hex(4)}"
    statuses = []
    for attempt in range(PROBE_LIMIT + 3):
        server = servers[attempt % len(servers)]
        browser = Browser(recorder, deadline, stop)
        form = [("username", username), ("password", "Wrong@Password1")]
        try:
            page = browser.request("page", server, "GET", "/login/")
            form.append(("csrf_token", parse_page(page.text).csrf.get("csrf_token")))
            response = browser.request(
                "login", server, "POST", "/login/", form=form, follow=False
            )
        except StepError as error:
            # A 429 is what the probe waits for; anything else is a failure.
            status = 429 if "HTTP 429" in str(error) else None
            statuses.append({"server": server.name, "status": status})
            continue
        statuses.append(
            {
                "server": server.name,
                "status": response.status,
                "remaining": response.headers.get("X-RateLimit-Remaining"),
            }
        )
    first_refusal = next(
        (index + 1 for index, row in enumerate(statuses) if row["status"] == 429),
        None,
    )
    return {
        "limit": f"{PROBE_LIMIT} per minute",
        "username": username,
        "attempts": statuses,
        "first_429_at_attempt": first_refusal,
        "shared": first_refusal == PROBE_LIMIT + 1
        and all(row["status"] == 429 for row in statuses[PROBE_LIMIT:]),
    }


# --- Report -------------------------------------------------------------------------


def machine():
    """Describe the machine the run measured."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def print_report(summary):
    """Print the run's numbers as a short table and the verdict."""
    load = summary["load"]
    baseline = summary["baseline"]
    host = summary["machine"]
    print(
        f"\nDeadline day on {summary['servers']} server(s) × "
        f"{summary['workers_per_server']} workers, {host['cpus']} × {host['cpu_model']}"
    )
    print(
        f"  load: {load['users_done']}/{load['users']} users, "
        f"{load['requests']} requests in {load['seconds']} s → "
        f"{load['requests_per_second']} req/s, {load['users_per_second']} users/s"
    )
    cpu = load["cpu_seconds"]
    print(
        f"  CPU seconds: servers {cpu['servers']}, PostgreSQL {cpu['postgresql']}, "
        f"client {cpu['client']}, other {cpu['other']}; "
        f"machine busy {cpu['machine_busy_share']:.0%}"
    )
    print(
        f"  bare page {baseline['path']}: {baseline['requests_per_second']} req/s; "
        f"ratio load/bare = {summary['ratio']}"
    )
    print(f"  {'kind':<10}{'count':>7}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    rows = dict(load["latency"])
    rows["bare"] = baseline["latency"]
    for kind, row in rows.items():
        if row.get("count"):
            print(
                f"  {kind:<10}{row['count']:>7}{row['p50_ms']:>10}"
                f"{row['p95_ms']:>10}{row['p99_ms']:>10}"
            )
    if summary["machine_busy_before_start"] > 0.1 or cpu["other_share"] > 0.15:
        print(
            f"  WARNING: other processes shared the CPU (machine "
            f"{summary['machine_busy_before_start']:.0%} busy before the start, "
            f"{cpu['other_share']:.0%} of the CPU time went elsewhere)"
        )
    print(f"  errors: {load['errors']} (baseline {baseline['errors']})")
    for message in load["first_errors"]:
        print(f"    {message}")
    check = summary["verification"]
    print(
        f"  verified: figures {check['figures_ok']}/{check['figures_sent']}, "
        f"files {check['uploads_ok']}/{check['uploads_sent']}, "
        f"approvals {check['approvals_ok']}/{check['approvals_expected']}"
    )
    for message in check["problems"]:
        print(f"    {message}")
    probe = summary.get("rate_limit") or {}
    if probe:
        print(
            f"  login limit {probe['limit']} across {summary['servers']} server(s): "
            f"first 429 at attempt {probe['first_429_at_attempt']} → "
            f"{'shared' if probe['shared'] else 'NOT shared'} "
            f"(without Redis: {probe['without_redis_first_429_at_attempt']})"
        )
    print(f"\n{summary['verdict']}")


def save_summary(summary, path):
    """Write the run into the results file, beside the run on the other layout."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        runs = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        runs = {}
    if not isinstance(runs, dict):
        runs = {}
    runs[f"servers_{summary['servers']}"] = summary
    path.write_text(json.dumps(runs, indent=2, ensure_ascii=False) + "\n")
    logger.info("summary written to %s", path)


# --- Command line -------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--users", type=int, default=200, help="specialists")
    parser.add_argument("--components", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3, help="per server")
    parser.add_argument("--servers", type=int, choices=(1, 2), default=1)
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    parser.add_argument("--timeout", type=int, default=600, help="seconds, in all")
    parser.add_argument("--concurrency", type=int, default=20, help="users at once")
    parser.add_argument("--indicators", type=int, default=30)
    parser.add_argument(
        "--agencies",
        type=int,
        help="default: 15 per user, as one dossier in ten is a draft",
    )
    parser.add_argument("--bare-requests", type=int, default=1000)
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)
    if args.users < 1 or args.components < 1 or args.concurrency < 1:
        parser.error("--users, --components and --concurrency must be at least 1")
    if args.components > args.indicators:
        parser.error("--components cannot exceed --indicators")
    args.agencies = args.agencies or max(400, args.users * 15)
    return args


def build_plans(engine, users):
    """Return the specialists and the approvers of submitted dossiers, as plans."""
    specialists, approvers = load_plans(engine)
    plans = [
        Plan(number, username, user_id, "specialist", submission_id)
        for number, (user_id, username, submission_id, _status) in enumerate(
            specialists[:users], start=1
        )
    ]
    plans += [
        Plan(number, username, user_id, "approver", submission_id)
        for number, (user_id, username, submission_id, status) in enumerate(
            approvers, start=1
        )
        if status == SUBMITTED
    ]
    return plans


def measure(args, plans, environment, scratch, deadline, stop):
    """Serve, measure the bare page, then run the deadline-day load."""
    names = [f"app{number}" for number in range(1, args.servers + 1)]
    specialists = [plan for plan in plans if plan.role == "specialist"]
    approvers = [plan for plan in plans if plan.role == "approver"]
    with ServerGroup(names, environment, args.workers, scratch) as servers:
        assign_servers(plans, servers)
        logger.info("baseline: %s GETs of %s", args.bare_requests, BARE_PAGE)
        usernames = [plan.username for plan in specialists[: args.concurrency]]
        baseline = measure_bare_page(
            servers, usernames, args.bare_requests, args.concurrency, deadline, stop
        )

        queue = interleave(specialists, approvers)
        logger.info("load: %s users, %s at a time", len(queue), args.concurrency)
        load, outcomes = run_load(
            queue,
            args.components,
            args.concurrency,
            deadline,
            stop,
            servers,
            make_url(args.database_url).database,
        )
    return baseline, load, outcomes


def probe(args, environment, scratch, deadline, stop):
    """Probe the login limit on fresh servers, with Redis and then without."""
    clear_rate_limits(args.redis)
    names = [f"probe{number}" for number in range(1, args.servers + 1)]
    low = dict(environment, AUTH_RATE_LIMIT=f"{PROBE_LIMIT} per minute")
    with ServerGroup(names, low, args.workers, scratch) as servers:
        rate_limit = probe_rate_limit(servers, deadline, stop)

    # The control: without Redis each worker counts alone, so the same probe
    # meets no 429 (or a late one); it shows the probe can tell the difference.
    alone = dict(low, REDIS_URL="")
    with ServerGroup(names, alone, args.workers, scratch) as servers:
        control = probe_rate_limit(servers, deadline, stop)
    rate_limit["without_redis_first_429_at_attempt"] = control["first_429_at_attempt"]
    return rate_limit


def verdict(args, baseline, load, verification, rate_limit):
    """Return PASS when nothing failed and everything sent arrived once."""
    passed = (
        load["errors"] == 0
        and baseline["errors"] == 0
        and load["users_done"] == load["users"]
        and verification["problem_count"] == 0
        and verification["figures_sent"] == args.users * args.components
        and verification["uploads_ok"] == args.users
        and rate_limit["shared"]
    )
    return "PASS" if passed else "FAIL"


def main(argv=None):
    """Prepare, serve, measure, verify, report; stop every server on the way out."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args = parse_args(argv)
    refuse_unsafe(args.database_url)
    if urlsplit(args.redis).hostname not in LOCAL_HOSTS:
        raise SystemExit(f"{args.redis}: the load test stays on 127.0.0.1.")
    ensure_database(args.database_url)
    prepared = generate(
        args.database_url, args.users, args.agencies, args.indicators, args.timeout
    )

    # Anything else running would be measured too: say so beside the numbers.
    idle_busy = busy_share()
    if idle_busy > 0.1:
        logger.warning(
            "the machine is %.0f%% busy before the test starts: other processes "
            "will share the CPU with the servers",
            idle_busy * 100,
        )

    engine = create_engine(args.database_url)
    plans = build_plans(engine, args.users)
    with engine.connect() as connection:
        activity_mark = connection.execute(
            text("SELECT coalesce(max(id), 0) FROM activity_log")
        ).scalar()
        database_version = connection.execute(text("SHOW server_version")).scalar()

    deadline = time.monotonic() + args.timeout
    stop = threading.Event()
    clear_rate_limits(args.redis)
    with tempfile.TemporaryDirectory(prefix="dti-load-") as scratch:
        scratch = Path(scratch)
        evidence_root = scratch / "evidence"
        evidence_root.mkdir()
        environment = server_environment(
            args.database_url,
            secrets.token_hex(32),
            evidence_root,
            scratch / "instance",
            args.redis,
            LOAD_RATE_LIMIT,
        )
        try:
            baseline, load, outcomes = measure(
                args, plans, environment, scratch, deadline, stop
            )
            logger.info("verifying the database and %s", evidence_root)
            verification = verify(engine, outcomes, evidence_root, activity_mark)
            rate_limit = probe(args, environment, scratch, deadline, stop)
        except KeyboardInterrupt:
            stop.set()
            logger.warning("interrupted: servers stopped, nothing written")
            raise SystemExit(130) from None
        finally:
            engine.dispose()

    crossing = [plan for plan in plans if plan.login_server is not plan.work_server]
    summary = {
        "servers": args.servers,
        "workers_per_server": args.workers,
        "users": args.users,
        "approvers": sum(1 for plan in plans if plan.role == "approver"),
        "components": args.components,
        "concurrency": args.concurrency,
        "agencies": args.agencies,
        "indicators": args.indicators,
        "database": describe(args.database_url),
        "postgresql": database_version,
        "machine": machine(),
        "machine_busy_before_start": idle_busy,
        "prepare_seconds": round(prepared, 1),
        "baseline": baseline,
        "load": load,
        "ratio": round(
            load["requests_per_second"] / baseline["requests_per_second"], 2
        ),
        "users_logged_in_on_one_server_and_working_on_the_other": len(crossing),
        "verification": verification,
        "rate_limit": rate_limit,
        "verdict": verdict(args, baseline, load, verification, rate_limit),
    }
    print_report(summary)
    save_summary(summary, args.output)
    if summary["verdict"] != "PASS":
        raise SystemExit(1)


if __name__ == "__main__":
    main()
