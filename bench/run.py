"""Measure the console against its baselines, side by side, on the generated data.

    python -m bench.run [--repeats 7] [--database-url URL]
        [--output bench/results/latest.json] [--budget 60] [--profile]

Every measurement runs the console and its baseline in turns within the same
run, after a warm-up, and reports medians and their ratio; nothing is compared
with numbers from another day or machine. Prints a table and writes the
measurements as a JSON list.
"""

import argparse
import cProfile
import csv
import io
import json
import logging
import pstats
import re
import statistics
import time
import tracemalloc
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import event, func, select
from sqlalchemy.orm import aliased

from app import create_app
from app.extensions import db
from app.models import (
    ActivityLog,
    Agency,
    Answer,
    AssessmentYear,
    Evidence,
    Indicator,
    Submission,
    SubmissionStatus,
)
from app.services import accounts, pdfcheck, results
from app.services.exceptions import EvidenceError
from app.views import (
    ActivityLogModelView,
    AnswerModelView,
    EvidenceModelView,
    SubmissionModelView,
)
from config import BASE_DIR

from . import (
    ADMIN,
    CODE_PREFIX,
    PASSWORD,
    SYNTHETIC,
    database_url,
    describe,
    make_config,
    pdfs,
    quiet_logs,
    refuse_protected,
)
from .stock import STOCK_VIEWS, create_stock_app

logger = logging.getLogger(__name__)

DEFAULT_OUTPUT = BASE_DIR / "bench" / "results" / "latest.json"
SELECT_LIMIT = 200
PDF_TIMEOUT = 15
CSV_FLUSH_BYTES = 64 * 1024


class BenchError(Exception):
    """A page or check failed in a way that makes its timing meaningless."""


@dataclass
class Measurement:
    """One line of the results: the console's median against its baseline's."""

    name: str
    value_ms: float | None
    baseline: str
    baseline_ms: float | None
    ratio: float | None
    target: str
    met: bool
    extra: dict = field(default_factory=dict)

    def as_dict(self):
        data = {
            "name": self.name,
            "value_ms": _round(self.value_ms),
            "baseline": self.baseline,
            "baseline_ms": _round(self.baseline_ms),
            "ratio": _round(self.ratio, 3),
            "target": self.target,
            "met": self.met,
        }
        data.update(self.extra)
        return data


def _round(value, places=1):
    return None if value is None else round(value, places)


def _median(samples):
    return statistics.median(samples) if samples else None


def side_by_side(sides, warmup, repeats, budget):
    """Run each side in turns; return {side: [milliseconds of each timed run]}.

    Every side gets at least one warm-up and one timed run; a side that has
    used up `budget` seconds stops early, so a baseline taking minutes per run
    does not hold the suite for an hour (the sample count is reported).
    """
    samples = {name: [] for name in sides}
    spent = dict.fromkeys(sides, 0.0)
    for round_number in range(warmup + repeats):
        warming = round_number < warmup
        for name, action in sides.items():
            if spent[name] > budget and (warming or samples[name]):
                continue
            started = time.perf_counter()
            action()
            elapsed = time.perf_counter() - started
            spent[name] += elapsed
            if not warming:
                samples[name].append(elapsed * 1000)
    return samples


class StatementCounter:
    """Count the SQL statements sent to the database (before_cursor_execute)."""

    def __init__(self):
        self.count = 0

    def __call__(self, *_args, **_kwargs):
        self.count += 1

    def attach(self, engine):
        event.listen(engine, "before_cursor_execute", self)

    def around(self, action):
        """Run `action` and return (its result, statements it sent)."""
        before = self.count
        result = action()
        return result, self.count - before


def largest_select(html):
    """Return the number of options of the largest <select> in a page.

    FAB ships its filter widgets as JSON inside a script, "<" escaped as \\u003c.
    """
    html = html.replace("\\u003c", "<").replace("\\u003e", ">")
    sizes = [
        block.count("<option")
        for block in re.findall(r"<select\b.*?</select>", html, flags=re.S)
    ]
    return max(sizes, default=0)


# --- List pages ---------------------------------------------------------------


@dataclass
class ListCase:
    """One list page: its console view, filters and order, and the raw query."""

    title: str
    view: type
    filters: dict
    stock_filters: dict
    order: tuple | None
    raw: object


def _submission_label_columns():
    year = aliased(AssessmentYear)
    return (
        Submission.id.label("submission_id"),
        Agency.name.label("agency_name"),
        year.name.label("year_name"),
    ), year


def raw_submissions(connection, size):
    """Finalised dossiers ordered by agency name: count and one page."""
    condition = Submission.status == SubmissionStatus.FINALISED
    connection.execute(
        select(func.count()).select_from(Submission).where(condition)
    ).scalar()
    page = (
        select(
            Submission.id,
            Agency.name.label("agency_name"),
            AssessmentYear.name.label("year_name"),
            Submission.status,
            Submission.self_score,
            Submission.round1_score,
            Submission.final_score,
            Submission.updated_at,
        )
        .outerjoin(Agency, Agency.id == Submission.agency_id)
        .outerjoin(AssessmentYear, AssessmentYear.id == Submission.year_id)
        .where(condition)
        .order_by(Agency.name.asc())
        .limit(size)
    )
    return connection.execute(page).all()


def raw_answers(code):
    """Return the raw query of one agency's answers ordered by indicator number."""

    def run(connection, size):
        labels, year = _submission_label_columns()
        joined = (
            select(func.count())
            .select_from(Answer)
            .join(Submission, Submission.id == Answer.submission_id)
            .join(Agency, Agency.id == Submission.agency_id)
            .where(Agency.code == code)
        )
        connection.execute(joined).scalar()
        page = (
            select(
                Answer.id,
                *labels,
                Indicator.code,
                Indicator.name.label("indicator_name"),
                Answer.self_score,
                Answer.round1_score,
                Answer.final_score,
                Answer.updated_at,
            )
            .select_from(Answer)
            .join(Submission, Submission.id == Answer.submission_id)
            .join(Agency, Agency.id == Submission.agency_id)
            .outerjoin(year, year.id == Submission.year_id)
            .outerjoin(Indicator, Indicator.id == Answer.indicator_id)
            .where(Agency.code == code)
            .order_by(Indicator.code.asc())
            .limit(size)
        )
        return connection.execute(page).all()

    return run


def raw_first_answers(connection, size):
    """The first page of every answer: count of all and 25 rows by number."""
    connection.execute(select(func.count()).select_from(Answer)).scalar()
    labels, year = _submission_label_columns()
    page = (
        select(
            Answer.id,
            *labels,
            Indicator.code,
            Indicator.name.label("indicator_name"),
            Answer.self_score,
            Answer.round1_score,
            Answer.final_score,
            Answer.updated_at,
        )
        .select_from(Answer)
        .outerjoin(Submission, Submission.id == Answer.submission_id)
        .outerjoin(Agency, Agency.id == Submission.agency_id)
        .outerjoin(year, year.id == Submission.year_id)
        .outerjoin(Indicator, Indicator.id == Answer.indicator_id)
        .order_by(Answer.id.asc())
        .limit(size)
    )
    return connection.execute(page).all()


def raw_evidence(connection, size):
    """Scanned evidence, newest dossier change first: count and one page."""
    condition = Evidence.kind.ilike("scan%")
    connection.execute(
        select(func.count()).select_from(Evidence).where(condition)
    ).scalar()
    labels, year = _submission_label_columns()
    page = (
        select(
            Evidence.id,
            *labels,
            Evidence.doc_type,
            Evidence.doc_number,
            Evidence.doc_date,
            Evidence.original_filename,
            Evidence.kind,
            Evidence.page_count,
        )
        .outerjoin(Submission, Submission.id == Evidence.submission_id)
        .outerjoin(Agency, Agency.id == Submission.agency_id)
        .outerjoin(year, year.id == Submission.year_id)
        .where(condition)
        .order_by(Submission.updated_at.desc())
        .limit(size)
    )
    return connection.execute(page).all()


def raw_activity(connection, size):
    """Dossier events ordered by agency name: count and one page."""
    condition = ActivityLog.action.ilike("submission%")
    connection.execute(
        select(func.count()).select_from(ActivityLog).where(condition)
    ).scalar()
    page = (
        select(
            ActivityLog.id,
            ActivityLog.created_at,
            ActivityLog.username,
            ActivityLog.action,
            ActivityLog.summary,
            Agency.name.label("agency_name"),
        )
        .outerjoin(Agency, Agency.id == ActivityLog.agency_id)
        .where(condition)
        .order_by(Agency.name.asc())
        .limit(size)
    )
    return connection.execute(page).all()


# The raw queries join for display with outer joins, as the ORM's joinedload
# does; with inner joins SQLite's planner sorts the whole table instead.


def list_cases(agency_code, submission_id):
    """Return the list pages measured: a filter and an order on a relation each."""
    return [
        ListCase(
            "submissions: state = finalised, by agency name",
            SubmissionModelView,
            {"_flt_0_status": int(SubmissionStatus.FINALISED)},
            {"_flt_0_status": int(SubmissionStatus.FINALISED)},
            ("agency.name", "asc"),
            raw_submissions,
        ),
        ListCase(
            f"answers: agency {agency_code}, by indicator number",
            AnswerModelView,
            {"_flt_0_submission": agency_code},
            # FAB's relation filter takes the related row's id from its dropdown.
            {"_flt_0_submission": submission_id},
            ("indicator.code", "asc"),
            raw_answers(agency_code),
        ),
        ListCase(
            "answers: first page, no filter",
            AnswerModelView,
            {},
            {},
            None,
            raw_first_answers,
        ),
        ListCase(
            "evidence: kind starts with scan, by dossier change",
            EvidenceModelView,
            {"_flt_0_kind": "scan"},
            {"_flt_0_kind": "scan"},
            ("submission.updated_at", "desc"),
            raw_evidence,
        ),
        ListCase(
            "activity log: action starts with submission, by agency name",
            ActivityLogModelView,
            {"_flt_0_action": "submission"},
            {"_flt_0_action": "submission"},
            ("agency.name", "asc"),
            raw_activity,
        ),
    ]


# --- The benchmark -------------------------------------------------------------


class Bench:
    """Both apps, their logged-in clients and the measurements so far."""

    def __init__(self, url, args):
        self.url = url
        self.args = args
        config = make_config(url)
        self.console = create_app(config)
        self.stock = create_stock_app(config)
        quiet_logs()
        self.counter = StatementCounter()
        for app in (self.console, self.stock):
            with app.app_context():
                self.counter.attach(db.engine)
        with self.console.app_context():
            self.engine = db.engine
        self.measurements = []
        self.failures = []
        self._check_synthetic()
        self._ensure_admin()
        self.console_client = self._login(self.console)
        self.stock_client = self._login(self.stock)

    def _check_synthetic(self):
        """Refuse to measure (and write to) a database the generator did not make."""
        with self.console.app_context():
            agencies = db.session.execute(
                select(func.count(Agency.id)).where(Agency.code.like(f"{CODE_PREFIX}%"))
            ).scalar()
            year = db.session.execute(
                select(AssessmentYear).order_by(AssessmentYear.year.desc())
            ).scalar()
            if not agencies or year is None or SYNTHETIC not in year.name:
                raise SystemExit(
                    f"{describe(self.url)} holds no synthetic data set: run "
                    "python -m bench.generate first."
                )
            self.year_id = year.id
            self.year_number = year.year
            count = db.session.execute(select(func.count(Submission.id))).scalar()
            answers = db.session.execute(select(func.count(Answer.id))).scalar()
            self.sizes = {
                "agencies": agencies,
                "indicators": answers // max(count, 1),
                "answers": answers,
                "years": db.session.execute(
                    select(func.count(AssessmentYear.id))
                ).scalar(),
            }

    def _ensure_admin(self):
        with self.console.test_request_context():
            if self.console.appbuilder.sm.find_user(username=ADMIN) is None:
                accounts.create_user(
                    username=ADMIN, password=PASSWORD, role_name="Admin"
                )

    def _login(self, app):
        client = app.test_client()
        response = client.post(
            "/login/", data={"username": ADMIN, "password": PASSWORD}
        )
        if response.status_code != 302:
            raise SystemExit(f"login of {ADMIN} failed ({response.status_code})")
        return client

    def add(self, measurement):
        self.measurements.append(measurement)

    def sample(self, sides):
        return side_by_side(
            sides, self.args.warmup, self.args.repeats, self.args.budget
        )

    # --- Lists ----------------------------------------------------------------

    def _route(self, app, view_class):
        for view in app.appbuilder.baseviews:
            if isinstance(view, view_class):
                return view.route_base
        raise BenchError(f"{view_class.__name__} is not registered")

    def list_url(self, app, view_class, filters, order, size):
        name = view_class.__name__
        arguments = {**filters, f"psize_{name}": size}
        if order:
            arguments[f"_oc_{name}"], arguments[f"_od_{name}"] = order
        return f"{self._route(app, view_class)}/list/?{urlencode(arguments)}"

    def fetch(self, client, url):
        response = client.get(url)
        if response.status_code != 200:
            raise BenchError(f"GET {url} answered {response.status_code}")
        return response.get_data(as_text=True)

    def measure_lists(self):
        with self.console.app_context():
            row = db.session.execute(
                select(Agency.code, Submission.id)
                .join(Submission, Submission.agency_id == Agency.id)
                .where(Submission.year_id == self.year_id)
                .order_by(Agency.id)
                .offset(41)
                .limit(1)
            ).one()
        for case in list_cases(row.code, row.id):
            try:
                self.measure_list(case)
            except BenchError as error:
                self.failures.append(f"{case.title}: {error}")
                print(f"FAILED {case.title}: {error}")
        self.check_sortable_columns()

    def measure_list(self, case):
        stock_view = STOCK_VIEWS[case.view]
        console_url = self.list_url(
            self.console, case.view, case.filters, case.order, 25
        )
        stock_url = self.list_url(
            self.stock, stock_view, case.stock_filters, case.order, 25
        )
        pages = {}
        statements = {}

        # Each run keeps its page and its statement count; the last one is used.
        def console():
            pages["console"], statements[25] = self.counter.around(
                lambda: self.fetch(self.console_client, console_url)
            )

        def stock():
            pages["stock"], statements["stock"] = self.counter.around(
                lambda: self.fetch(self.stock_client, stock_url)
            )

        def raw():
            with self.engine.connect() as connection:
                return case.raw(connection, 25)

        # No app context is held here: each request must push (and tear down)
        # its own, or the session and its identity map would outlive requests.
        samples = self.sample({"console": console, "stock": stock, "raw": raw})
        raw_rows = len(raw())

        url = self.list_url(self.console, case.view, case.filters, case.order, 100)
        _html, statements[100] = self.counter.around(
            lambda: self.fetch(self.console_client, url)
        )

        console_ms = _median(samples["console"])
        stock_ms = _median(samples["stock"])
        raw_ms = _median(samples["raw"])
        ratio = console_ms / stock_ms
        self.add(
            Measurement(
                f"list {case.title}",
                console_ms,
                "stock FAB ModelView, same model and list columns",
                stock_ms,
                ratio,
                "≤ 0.5 × stock FAB",
                ratio <= 0.5,
                {
                    "url": console_url,
                    "stock_url": stock_url,
                    "raw_ms": _round(raw_ms, 2),
                    "raw_rows": raw_rows,
                    "console_over_raw": _round(console_ms / raw_ms, 1),
                    "statements": statements[25],
                    "stock_statements": statements["stock"],
                    "html_kb": round(len(pages["console"]) / 1024),
                    "stock_html_kb": round(len(pages["stock"]) / 1024),
                    "samples": len(samples["console"]),
                    "stock_samples": len(samples["stock"]),
                },
            )
        )
        self.add(
            Measurement(
                f"statements {case.title}: 100 vs 25 rows",
                None,
                "same page at 25 rows",
                None,
                statements[100] / statements[25],
                "equal statement counts",
                statements[100] == statements[25],
                {"statements_25": statements[25], "statements_100": statements[100]},
            )
        )
        largest = largest_select(pages["console"])
        self.add(
            Measurement(
                f"widgets {case.title}: largest <select>",
                None,
                "stock FAB page",
                None,
                None,
                f"no <select> over {SELECT_LIMIT} options",
                largest <= SELECT_LIMIT,
                {
                    "options": largest,
                    "stock_options": largest_select(pages["stock"]),
                },
            )
        )

    def check_sortable_columns(self):
        """Sort each console list by each of its sortable columns once."""
        broken = []
        # A broken column logs a traceback per request; the result says enough.
        app_logger = logging.getLogger("app")
        level = app_logger.level
        app_logger.setLevel(logging.CRITICAL)
        for view_class in STOCK_VIEWS:
            view = next(
                item
                for item in self.console.appbuilder.baseviews
                if isinstance(item, view_class)
            )
            for column in view.order_columns:
                url = self.list_url(self.console, view_class, {}, (column, "asc"), 25)
                status = self.console_client.get(url).status_code
                if status != 200:
                    broken.append(f"{view_class.__name__}.{column} → {status}")
        app_logger.setLevel(level)
        self.add(
            Measurement(
                "sort links: every sortable list column",
                None,
                "order_columns of the four lists",
                None,
                None,
                "every column sorts (status 200)",
                not broken,
                {"broken": broken},
            )
        )

    def profile(self):
        """Print where each measured console page or export spends its time."""
        for measurement in self.measurements:
            url = measurement.extra.get("url")
            if not url:
                continue
            profile = cProfile.Profile()
            profile.enable()
            response = self.console_client.get(url, buffered=False)
            for _chunk in response.response:
                pass
            response.close()
            profile.disable()
            print(f"\nprofile of {measurement.name} ({url})")
            stats = pstats.Stats(profile).strip_dirs().sort_stats("tottime")
            stats.print_stats(20)

    # --- Ranking ----------------------------------------------------------------

    def measure_ranking(self):
        with self.console.app_context():
            year = db.session.get(AssessmentYear, self.year_id)

            steps = {}

            def recompute():
                last = [time.perf_counter()]

                def progress(name):
                    now = time.perf_counter()
                    steps.setdefault(name, []).append((now - last[0]) * 1000)
                    last[0] = now

                results.recompute(db.session.merge(year), progress=progress)

            def aggregate():
                with db.engine.connect() as connection:
                    connection.execute(
                        select(Answer.submission_id, func.sum(Answer.final_score))
                        .join(Submission, Submission.id == Answer.submission_id)
                        .where(Submission.year_id == self.year_id)
                        .group_by(Answer.submission_id)
                    ).all()

            samples = self.sample({"recompute": recompute, "aggregate": aggregate})
            recompute_ms = _median(samples["recompute"])
            aggregate_ms = _median(samples["aggregate"])
            self.add(
                Measurement(
                    "ranking recompute(year)",
                    recompute_ms,
                    "one SQL aggregate of final scores per submission, fetched",
                    aggregate_ms,
                    recompute_ms / aggregate_ms,
                    "≤ 1.5 × the aggregate",
                    recompute_ms / aggregate_ms <= 1.5,
                    {
                        "samples": len(samples["recompute"]),
                        # Medians over every run, warm-ups included.
                        "steps_ms": {
                            name: round(statistics.median(times))
                            for name, times in steps.items()
                        },
                    },
                )
            )

            total = db.session.execute(
                select(func.count(Submission.id)).where(
                    Submission.year_id == self.year_id
                )
            ).scalar()
            subset = min(total, self.args.orm_sample)
            orm_repeats = min(self.args.repeats, 3)
            orm_samples = side_by_side(
                {"orm": lambda: naive_ranking(self.year_id, subset)},
                1,
                orm_repeats,
                self.args.budget,
            )["orm"]
            _ranks, statements = self.counter.around(
                lambda: naive_ranking(self.year_id, subset)
            )
            scale = total / subset
            orm_ms = _median(orm_samples) * scale
            baseline = "naive ORM loop: load each Submission and its answers, sum "
            baseline += "and rank in Python"
            if scale > 1:
                baseline += f" (timed on {subset:,} of {total:,} submissions, "
                baseline += f"scaled ×{scale:.1f})"
            self.add(
                Measurement(
                    "ranking recompute(year) vs ORM loop",
                    recompute_ms,
                    baseline,
                    orm_ms,
                    orm_ms / recompute_ms,
                    "≥ 20 × faster than the ORM loop",
                    orm_ms / recompute_ms >= 20,
                    {
                        "orm_subset": subset,
                        "orm_scale": round(scale, 2),
                        "orm_statements_subset": statements,
                        "orm_samples": len(orm_samples),
                    },
                )
            )

    # --- CSV export ---------------------------------------------------------------

    def measure_export(self):
        route = self._route(self.console, AnswerModelView)
        url = f"{route}/csv/"
        sizes = {}

        def console():
            response = self.console_client.get(url, buffered=False)
            if response.status_code != 200:
                raise BenchError(f"GET {url} answered {response.status_code}")
            size = lines = 0
            for chunk in response.response:
                data = chunk if isinstance(chunk, bytes) else chunk.encode()
                size += len(data)
                lines += data.count(b"\n")
            response.close()
            sizes["console"] = (size, lines)

        def raw():
            with self.engine.connect() as connection:
                sizes["raw"] = raw_export(connection)

        try:
            samples = self.sample({"console": console, "raw": raw})
        except BenchError as error:
            self.failures.append(f"CSV export: {error}")
            print(f"FAILED CSV export: {error}")
            return

        tracemalloc.start()
        start, _peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        console()
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak_mb = (peak - start) / 1024**2

        console_ms = _median(samples["console"])
        raw_ms = _median(samples["raw"])
        size, lines = sizes["console"]
        rows = lines - 1
        self.add(
            Measurement(
                "CSV export of all answers (/csv/, streamed)",
                console_ms,
                "raw Core query written with csv to a StringIO",
                raw_ms,
                raw_ms / console_ms,
                "≥ 0.7 × raw throughput (raw_ms / console_ms)",
                raw_ms / console_ms >= 0.7,
                {
                    "url": url,
                    "rows": rows,
                    "raw_rows": sizes["raw"],
                    "mb": round(size / 1024**2, 1),
                    "rows_per_s": round(rows / console_ms * 1000),
                    "raw_rows_per_s": round(sizes["raw"] / raw_ms * 1000),
                    "samples": len(samples["console"]),
                },
            )
        )
        self.add(
            Measurement(
                "CSV export of all answers: peak memory growth",
                None,
                "tracemalloc during one console export",
                None,
                None,
                "< 50 MB",
                peak_mb < 50,
                {"peak_mb": round(peak_mb, 1)},
            )
        )

    # --- Evidence check ------------------------------------------------------------

    def measure_pdfs(self):
        long_pdf = pdfs.long_document(3000)
        files = [("3,000-page PDF", long_pdf), *pdfs.hostile_documents(long_pdf)]
        max_pages = self.console.config["DTI_EVIDENCE_MAX_PAGES"]
        with self.console.test_request_context():
            for name, data in files:
                verdicts = {}

                def check(name=name, data=data, verdicts=verdicts):
                    try:
                        result = pdfcheck.inspect_pdf(data, max_pages, PDF_TIMEOUT)
                        verdicts[name] = result["reason"] or f"ok, {result['pages']} p."
                    except EvidenceError as error:
                        verdicts[name] = f"refused: {error}"

                samples = self.sample({"check": check})
                check_ms = _median(samples["check"])
                limit_ms = 5000 if data is long_pdf else PDF_TIMEOUT * 1000
                self.add(
                    Measurement(
                        f"evidence check: {name}",
                        check_ms,
                        f"child timeout {PDF_TIMEOUT} s",
                        PDF_TIMEOUT * 1000,
                        check_ms / (PDF_TIMEOUT * 1000),
                        f"under {limit_ms / 1000:g} s",
                        check_ms < limit_ms,
                        {
                            "verdict": verdicts[name],
                            "bytes": len(data),
                            "child_limits": (
                                f"{pdfcheck._MEMORY_LIMIT // 1024**2} MB address "
                                f"space, {PDF_TIMEOUT + 1} s CPU"
                            ),
                        },
                    )
                )


def naive_ranking(year_id, limit):
    """Rank dossiers the naive way: ORM objects, lazy answers, Python sums."""
    session = db.session
    session.expunge_all()
    submissions = session.execute(
        select(Submission)
        .where(Submission.year_id == year_id)
        .order_by(Submission.id)
        .limit(limit)
    ).scalars()
    totals = []
    for submission in submissions:
        total = sum(answer.final_score or 0 for answer in submission.answers)
        agency = submission.agency
        scope = agency.level.code
        if agency.group is not None:
            scope = f"{scope}:{agency.group.code}"
        totals.append((scope, -total, submission.id))
    totals.sort()
    ranks = {}
    for _scope, members in groupby(totals, key=lambda item: item[0]):
        previous, rank = None, 0
        for position, (_same, points, submission_id) in enumerate(members, start=1):
            if points != previous:
                rank, previous = position, points
            ranks[submission_id] = rank
    session.expunge_all()
    return ranks


def raw_export(connection):
    """Write every answer with csv to a StringIO from a Core query; return rows."""
    submission_agency = aliased(Agency)
    statement = (
        select(
            Answer.id,
            Submission.id,
            submission_agency.code,
            submission_agency.name,
            Indicator.code,
            Indicator.name,
            Answer.figures,
            Answer.self_score,
            Answer.explanation,
            Answer.round1_score,
            Answer.round2_score,
            Answer.final_score,
            Answer.updated_at,
        )
        .select_from(Answer)
        .outerjoin(Submission, Submission.id == Answer.submission_id)
        .outerjoin(submission_agency, submission_agency.id == Submission.agency_id)
        .outerjoin(Indicator, Indicator.id == Answer.indicator_id)
        .order_by(Answer.id)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    rows = 0
    result = connection.execution_options(yield_per=1000).execute(statement)
    for row in result:
        writer.writerow(row)
        rows += 1
        if buffer.tell() >= CSV_FLUSH_BYTES:
            buffer.seek(0)
            buffer.truncate()
    return rows


# --- Output ----------------------------------------------------------------------


def _ms(value):
    if value is None:
        return ""
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def print_table(bench, measurements):
    sizes = bench.sizes
    print(
        f"\n{describe(bench.url)}: {sizes['agencies']:,} agencies, "
        f"{sizes['indicators']} indicators, {sizes['years']} year(s), "
        f"{sizes['answers']:,} answers; medians of {bench.args.repeats} runs "
        f"after {bench.args.warmup} warm-up(s)"
    )
    header = f"{'measurement':<66} {'ms':>8} {'baseline ms':>12} {'ratio':>7}  met"
    print(header)
    print("-" * len(header))
    for item in measurements:
        ratio = "" if item.ratio is None else f"{item.ratio:.2f}"
        print(
            f"{item.name[:66]:<66} {_ms(item.value_ms):>8} "
            f"{_ms(item.baseline_ms):>12} {ratio:>7}  "
            f"{'yes' if item.met else 'NO'}"
        )
        details = {
            key: value
            for key, value in item.extra.items()
            if key not in {"url", "stock_url", "child_limits"}
        }
        print(f"    target {item.target}; {item.baseline}; {details}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--database-url", help="default: DATABASE_URL or bench.db")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--budget",
        type=float,
        default=120,
        help="seconds one side of a measurement may take before it stops early",
    )
    parser.add_argument(
        "--orm-sample",
        type=int,
        default=1000,
        help="submissions the naive ORM loop is timed on (then scaled)",
    )
    parser.add_argument(
        "--only",
        choices=("lists", "ranking", "export", "pdfs"),
        action="append",
        help="measure only these parts (repeatable)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print cProfile of each console page and export measured",
    )
    return parser.parse_args(argv)


def main(argv=None):
    """Run the measurements, print the table and write the JSON file."""
    args = parse_args(argv)
    url = database_url(args.database_url)
    refuse_protected(url)
    started = time.perf_counter()
    bench = Bench(url, args)
    parts = {
        "lists": bench.measure_lists,
        "ranking": bench.measure_ranking,
        "export": bench.measure_export,
        "pdfs": bench.measure_pdfs,
    }
    for name, measure in parts.items():
        if args.only and name not in args.only:
            continue
        print(f"measuring {name}…", flush=True)
        measure()
    if args.profile:
        bench.profile()

    print_table(bench, bench.measurements)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            [item.as_dict() for item in bench.measurements],
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"\nwritten {args.output} in {time.perf_counter() - started:.0f} s")
    for failure in bench.failures:
        print(f"FAILED {failure}")


if __name__ == "__main__":
    main()
