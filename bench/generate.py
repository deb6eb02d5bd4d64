"""Build a synthetic national data set for the benchmarks, fast.

    python -m bench.generate --agencies 12500 --indicators 100 --years 1
        [--accounts 0] [--database-url URL] [--reset]

Every row is synthetic: agency codes SYN00001…, names "Đơn vị tổng hợp 00001
(synthetic)", years named "… synthetic …". The schema comes from the migrations,
the roles from `app.services.roles`; the rows go in through bulk Core inserts
of about 5,000 rows. Nothing but the database is written.
"""

import argparse
import csv
import hashlib
import json
import logging
import random
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from flask_appbuilder.security.sqla.models import assoc_user_role
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, insert, inspect, select, text
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from app import create_app
from app.extensions import db
from app.models import (
    ActivityLog,
    Agency,
    AgencyLevel,
    Answer,
    AppraisalNote,
    AssessmentYear,
    Band,
    DepartmentGroup,
    DtiUser,
    Evidence,
    Field,
    IndexSet,
    Indicator,
    IndicatorKind,
    Phase,
    PhaseKind,
    Submission,
    SubmissionStatus,
    YearStatus,
    answer_evidence,
)
from app.services import clock, roles, scoring
from app.services.evidence import storage_key
from app.services.permissions import Role
from config import BASE_DIR

from . import (
    CODE_PREFIX,
    PASSWORD,
    SYNTHETIC,
    database_url,
    describe,
    make_config,
    quiet_logs,
    refuse_protected,
)

logger = logging.getLogger(__name__)

SEED_DIR = BASE_DIR / "seed"
MIGRATIONS = BASE_DIR / "migrations"
CHUNK_ROWS = 5000

PILLARS = 3
MAINS_PER_PILLAR = 5
SET_POINTS = 1000
RULES = ("yes_no", "count", "ratio", "manual")
VARIANTS = 8

# Shares of the agencies: departments, districts; communes take the rest.
DEPARTMENT_SHARE = 0.09
DISTRICT_SHARE = 0.06

# How the latest year's dossiers are spread over the workflow.
STATUS_WEIGHTS = (
    (SubmissionStatus.DRAFT, 10),
    (SubmissionStatus.RETURNED, 3),
    (SubmissionStatus.SUBMITTED, 7),
    (SubmissionStatus.APPROVED, 5),
    (SubmissionStatus.APPRAISAL_1, 5),
    (SubmissionStatus.EXPLANATION, 5),
    (SubmissionStatus.APPRAISAL_2, 5),
    (SubmissionStatus.FINALISED, 60),
)
NOTE_SHARE = 0.10
EXPLANATION_SHARE = 0.20
ACTIVITY_PER_AGENCY = 5

ACTIONS = (
    ("submission.created", "Hồ sơ {code} được mở (dữ liệu synthetic)."),
    ("answer.updated", "Cập nhật số liệu chỉ số của {code} (synthetic)."),
    ("evidence.added", "Tải lên tài liệu kiểm chứng của {code} (synthetic)."),
    ("submission.submitted", "Hồ sơ {code} được gửi phê duyệt (synthetic)."),
    ("login.succeeded", "Đăng nhập của đơn vị {code} (synthetic)."),
)


def _csv_rows(name):
    with open(SEED_DIR / name, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _current_phase_offsets():
    """Return the phase offsets (days from today) of seed/years.json's round."""
    spec = json.loads((SEED_DIR / "years.json").read_text(encoding="utf-8"))
    current = next(item for item in spec["years"] if item["year"] == "current")
    return [
        (phase["kind"], phase["opens_in_days"], phase["closes_in_days"])
        for phase in current["phases"]
    ]


def split_evenly(total, parts):
    """Split a whole number into `parts` whole shares, the larger ones first."""
    base, rest = divmod(total, parts)
    return [base + (1 if index < rest else 0) for index in range(parts)]


def _points(cents):
    return Decimal(cents) / 100


class Ids:
    """Hand out primary keys per table, so parents never need a read-back."""

    def __init__(self):
        self.last = {}

    def next(self, model):
        value = self.last.get(model, 0) + 1
        self.last[model] = value
        return value


class Generator:
    """Write the synthetic data set into an empty, migrated database."""

    def __init__(self, agencies, indicators, years, accounts, seed=2088):
        self.agency_count = agencies
        self.indicator_count = indicators
        self.year_count = years
        self.account_count = accounts
        self.random = random.Random(seed)
        self.ids = Ids()
        self.now = clock.now()
        self.counts = {}

    # --- Writing ------------------------------------------------------------

    def write(self, model, rows):
        """Insert rows in chunks with one executemany each."""
        for start in range(0, len(rows), CHUNK_ROWS):
            db.session.execute(insert(model), rows[start : start + CHUNK_ROWS])
        name = getattr(model, "__tablename__", None) or model.name
        self.counts[name] = self.counts.get(name, 0) + len(rows)

    # --- Reference data -------------------------------------------------------

    def levels_and_groups(self):
        self.levels = {}
        rows = []
        for row in _csv_rows("levels.csv"):
            level_id = self.ids.next(AgencyLevel)
            self.levels[row["code"]] = level_id
            rows.append(
                {
                    "id": level_id,
                    "code": row["code"],
                    "name": row["name"],
                    "rank": int(row["rank"]),
                    "description": row["description"],
                }
            )
        self.write(AgencyLevel, rows)

        self.groups = {}
        rows = []
        for row in _csv_rows("department_groups.csv"):
            group_id = self.ids.next(DepartmentGroup)
            self.groups[row["code"]] = group_id
            rows.append({"id": group_id, **row})
        self.write(DepartmentGroup, rows)

    def agencies(self):
        """Create departments, districts and their communes (about 15 each)."""
        total = self.agency_count
        departments = max(len(self.groups), round(total * DEPARTMENT_SHARE))
        districts = max(1, round(total * DISTRICT_SHARE))
        communes = total - departments - districts
        if communes < 1:
            raise SystemExit("--agencies is too small: at least 5 are needed.")

        group_ids = list(self.groups.values())
        self.agency_rows = []

        def add(level, group_id=None, parent_id=None):
            agency_id = self.ids.next(Agency)
            number = f"{agency_id:05d}"
            row = {
                "id": agency_id,
                "code": f"{CODE_PREFIX}{number}",
                "name": f"Đơn vị tổng hợp {number} ({SYNTHETIC})",
                "level_id": self.levels[level],
                "group_id": group_id,
                "parent_id": parent_id,
                "active": True,
                "contact_name": f"Cán bộ đầu mối {number}",
                "contact_email": f"syn{number}@bench.invalid",
                "created_on": self.now,
                "changed_on": self.now,
            }
            self.agency_rows.append((level, row))
            return agency_id

        for index in range(departments):
            add("department", group_id=group_ids[index % len(group_ids)])
        district_ids = [add("district") for _ in range(districts)]
        for index in range(communes):
            add("commune", parent_id=district_ids[index * districts // communes])
        self.write(Agency, [row for _level, row in self.agency_rows])
        self.department_ids = [
            row["id"] for level, row in self.agency_rows if level == "department"
        ]

    def assessment_years(self):
        latest = clock.now().year - 1
        numbers = range(latest - self.year_count + 1, latest + 1)
        offsets = _current_phase_offsets()
        midnight = self.now.replace(hour=0, minute=0, second=0)
        kinds = {kind.name.lower(): kind for kind in PhaseKind}
        self.years = []
        years, phases, fields, bands = [], [], [], []
        for number in numbers:
            year_id = self.ids.next(AssessmentYear)
            is_latest = number == latest
            self.years.append((year_id, number, is_latest))
            years.append(
                {
                    "id": year_id,
                    "year": number,
                    "name": f"DTI năm {number} (dữ liệu {SYNTHETIC}, benchmark)",
                    "data_start": datetime(number, 1, 1).date(),
                    "data_end": datetime(number, 12, 31).date(),
                    "status": YearStatus.OPEN if is_latest else YearStatus.CLOSED,
                    "note": f"Dữ liệu tổng hợp ({SYNTHETIC}) cho đo hiệu năng.",
                    "created_on": self.now,
                    "changed_on": self.now,
                }
            )
            # The latest round runs now (self-assessment open), like the demo's
            # current round; earlier rounds ran a year apart before it.
            shift = timedelta(days=365 * (latest - number))
            for kind, opens, closes in offsets:
                phases.append(
                    {
                        "id": self.ids.next(Phase),
                        "year_id": year_id,
                        "kind": kinds[kind],
                        "opens_at": midnight + timedelta(days=opens) - shift,
                        "closes_at": midnight
                        + timedelta(days=closes, hours=23, minutes=59)
                        - shift,
                        "created_on": self.now,
                        "changed_on": self.now,
                    }
                )
            for index, row in enumerate(_csv_rows("fields.csv")):
                appraiser = self.department_ids[index % len(self.department_ids)]
                fields.append(
                    {
                        "id": self.ids.next(Field),
                        "year_id": year_id,
                        "code": row["code"],
                        "name": row["name"],
                        "description": row["description"],
                        "appraiser_agency_id": appraiser,
                        "created_on": self.now,
                        "changed_on": self.now,
                    }
                )
            for row in _csv_rows("bands.csv"):
                bands.append(
                    {
                        "id": self.ids.next(Band),
                        "year_id": year_id,
                        "name": row["name"],
                        "min_value": Decimal(row["min_value"]),
                        "created_on": self.now,
                        "changed_on": self.now,
                    }
                )
        self.write(AssessmentYear, years)
        self.write(Phase, phases)
        self.write(Field, fields)
        self.write(Band, bands)
        self.field_ids = {}
        for row in fields:
            self.field_ids.setdefault(row["year_id"], []).append(row["id"])

    # --- Index sets -----------------------------------------------------------

    def index_sets(self):
        """Create one set per level (per group for departments) and year."""
        targets = [("department", code) for code in self.groups]
        targets += [("district", None), ("commune", None)]
        self.sets = {}
        self.components = {}
        sets, indicators = [], []
        for year_id, number, _latest in self.years:
            for level, group in targets:
                set_id = self.ids.next(IndexSet)
                self.sets[(year_id, level, group)] = set_id
                label = f"{level} {group}" if group else level
                sets.append(
                    {
                        "id": set_id,
                        "year_id": year_id,
                        "level_id": self.levels[level],
                        "group_id": self.groups.get(group),
                        "name": f"Bộ chỉ số {label} năm {number} ({SYNTHETIC})",
                        "source": f"Dữ liệu {SYNTHETIC} cho đo hiệu năng",
                        "max_points": Decimal(SET_POINTS),
                        "version": 1,
                        "revision_open": False,
                        "created_on": self.now,
                        "changed_on": self.now,
                    }
                )
                indicators += self._tree(set_id, self.field_ids[year_id])
        self.write(IndexSet, sets)
        # Parents first: pillars, then main indicators, then components.
        indicators.sort(key=lambda row: row["kind"])
        self.write(Indicator, indicators)

    def _tree(self, set_id, field_ids):
        """Return the indicator rows of one set: 3 pillars × 5 mains × components."""
        mains = PILLARS * MAINS_PER_PILLAR
        per_main = split_evenly(self.indicator_count, mains)
        rows = []
        position = 0
        component_number = 0
        main_number = 0
        pillar_cents = split_evenly(SET_POINTS * 100, PILLARS)
        numerals = ("I", "II", "III", "IV", "V")
        self.components[set_id] = []

        def node(kind, code, name, cents, parent_id, **extra):
            nonlocal position
            position += 1
            row = {
                "id": self.ids.next(Indicator),
                "index_set_id": set_id,
                "parent_id": parent_id,
                "kind": kind,
                "code": code,
                "name": f"{name} ({SYNTHETIC})",
                "position": position,
                "max_points": _points(cents),
                "evidence_required": True,
                "rule_type": None,
                "rule_params": None,
                "field_id": None,
                **extra,
            }
            rows.append(row)
            return row["id"]

        for pillar_index, cents in enumerate(pillar_cents):
            pillar_id = node(
                IndicatorKind.PILLAR,
                numerals[pillar_index],
                f"Trụ cột {numerals[pillar_index]}",
                cents,
                None,
            )
            for main_cents in split_evenly(cents, MAINS_PER_PILLAR):
                main_number += 1
                main_id = node(
                    IndicatorKind.MAIN,
                    str(main_number),
                    f"Chỉ số chính {main_number}",
                    main_cents,
                    pillar_id,
                )
                count = per_main[main_number - 1]
                for index, leaf_cents in enumerate(split_evenly(main_cents, count)):
                    rule = RULES[component_number % len(RULES)]
                    maximum = _points(leaf_cents)
                    params = scoring.check_params(rule, _params(rule, maximum), maximum)
                    code = f"{main_number}.{index + 1}"
                    leaf_id = node(
                        IndicatorKind.COMPONENT,
                        code,
                        f"Chỉ số thành phần {code}",
                        leaf_cents,
                        main_id,
                        rule_type=rule,
                        rule_params=params or None,
                        field_id=field_ids[component_number % len(field_ids)],
                        method_text=f"Cách tính điểm theo quy tắc {rule}.",
                    )
                    self.components[set_id].append(
                        (leaf_id, self._variants(rule, params, maximum))
                    )
                    component_number += 1
        return rows

    def _variants(self, rule, params, maximum):
        """Return answers an agency might give: (figures, self, cut) triples."""
        variants = []
        for _ in range(VARIANTS):
            figures = _figures(rule, maximum, self.random)
            score = scoring.score(rule, params, maximum, figures)
            cut = scoring.points(score / 2)
            variants.append((figures, score, cut))
        return variants

    # --- Dossiers ---------------------------------------------------------------

    def dossiers(self):
        """Create every submission with all its answers, notes, evidence and log."""
        set_of = {}
        for level, row in self.agency_rows:
            group = next(
                (code for code, gid in self.groups.items() if gid == row["group_id"]),
                None,
            )
            set_of[row["id"]] = (level, group)

        per_chunk = max(1, CHUNK_ROWS // self.indicator_count)
        self.statuses = {}
        batch = []
        for year_id, _number, is_latest in self.years:
            for _level, row in self.agency_rows:
                level, group = set_of[row["id"]]
                set_id = self.sets[(year_id, level, group)]
                batch.append((year_id, is_latest, row, set_id))
                if len(batch) >= per_chunk:
                    self._dossier_chunk(batch)
                    batch = []
        if batch:
            self._dossier_chunk(batch)

    def _status(self, is_latest):
        if not is_latest:
            return SubmissionStatus.FINALISED
        states, weights = zip(*STATUS_WEIGHTS, strict=True)
        return self.random.choices(states, weights)[0]

    def _dossier_chunk(self, batch):
        submissions, answers, notes, evidence, links, activity = [], [], [], [], [], []
        for year_id, is_latest, agency, set_id in batch:
            submission_id = self.ids.next(Submission)
            status = self._status(is_latest)
            updated = self.now - timedelta(minutes=self.random.randint(0, 60 * 24 * 30))
            totals = [Decimal(0), Decimal(0), Decimal(0)]
            first_answer = None
            for indicator_id, variants in self.components[set_id]:
                figures, score, cut = variants[self.random.randrange(VARIANTS)]
                answer_id = self.ids.next(Answer)
                first_answer = first_answer or answer_id
                noted = self.random.random() < NOTE_SHARE
                round1 = cut if noted else score
                totals[0] += score
                totals[1] += round1
                totals[2] += round1
                explained = self.random.random() < EXPLANATION_SHARE
                answers.append(
                    {
                        "id": answer_id,
                        "submission_id": submission_id,
                        "indicator_id": indicator_id,
                        "figures": figures,
                        "self_score": score,
                        "explanation": (
                            f"Số liệu tổng hợp ({SYNTHETIC})." if explained else None
                        ),
                        "round1_score": round1,
                        "round2_score": None,
                        "final_score": round1,
                        "updated_at": updated,
                        "version": 1,
                    }
                )
                if noted:
                    notes.append(
                        {
                            "id": self.ids.next(AppraisalNote),
                            "answer_id": answer_id,
                            "round": 1,
                            "verdict": "adjust",
                            "proposed_score": cut,
                            "comment": f"Thiếu tài liệu kiểm chứng ({SYNTHETIC}).",
                            "created_at": updated,
                            "updated_at": updated,
                        }
                    )
            submissions.append(
                self._submission_row(
                    submission_id, agency, year_id, set_id, status, updated, totals
                )
            )
            if is_latest:
                self.statuses[submission_id] = (agency["id"], status)

            evidence_id = self.ids.next(Evidence)
            digest = hashlib.sha256(
                f"{SYNTHETIC}-evidence-{evidence_id}".encode()
            ).hexdigest()
            evidence.append(
                {
                    "id": evidence_id,
                    "submission_id": submission_id,
                    "doc_type": "report",
                    "doc_number": f"{evidence_id}/BC-{agency['code']}",
                    "doc_date": updated.date(),
                    "issuer": agency["name"],
                    "summary": f"Báo cáo chuyển đổi số ({SYNTHETIC}).",
                    "original_filename": f"bao-cao-{agency['code'].lower()}.pdf",
                    "storage_key": storage_key(digest),
                    "size_bytes": 100_000 + evidence_id,
                    "page_count": 1,
                    "sha256": digest,
                    "kind": "scan",
                    "uploaded_at": updated,
                }
            )
            if first_answer is not None:
                links.append({"answer_id": first_answer, "evidence_id": evidence_id})

            for number in range(ACTIVITY_PER_AGENCY):
                action, summary = ACTIONS[number % len(ACTIONS)]
                activity.append(
                    {
                        "id": self.ids.next(ActivityLog),
                        "created_at": updated - timedelta(hours=number),
                        "username": None,
                        "action": action,
                        "target_type": "submission",
                        "target_id": submission_id,
                        "agency_id": agency["id"],
                        "summary": summary.format(code=agency["code"]),
                        "changes": {"status": {"old": None, "new": int(status)}},
                    }
                )

        self.write(Submission, submissions)
        self.write(Answer, answers)
        self.write(AppraisalNote, notes)
        self.write(Evidence, evidence)
        self.write(answer_evidence, links)
        self.write(ActivityLog, activity)
        db.session.commit()

    def _submission_row(
        self, submission_id, agency, year_id, set_id, status, updated, totals
    ):
        moment = updated - timedelta(days=2)
        row = {
            "id": submission_id,
            "agency_id": agency["id"],
            "year_id": year_id,
            "index_set_id": set_id,
            "status": status,
            "self_score": totals[0],
            "round1_score": totals[1],
            "final_score": totals[2],
            "submitted_at": None,
            "approved_at": None,
            "finalised_at": None,
            "returned_at": None,
            "returned_reason": None,
            "created_at": moment - timedelta(days=10),
            "updated_at": updated,
        }
        if status == SubmissionStatus.RETURNED:
            row["returned_at"] = moment
            row["returned_reason"] = f"Bổ sung tài liệu kiểm chứng ({SYNTHETIC})."
        if status >= SubmissionStatus.SUBMITTED:
            row["submitted_at"] = moment
        if status >= SubmissionStatus.APPROVED:
            row["approved_at"] = moment + timedelta(hours=5)
        if status >= SubmissionStatus.FINALISED:
            row["finalised_at"] = updated
        return row

    # --- Accounts ---------------------------------------------------------------

    def accounts(self):
        """Create specialists of draft dossiers and approvers of submitted ones."""
        if not self.account_count:
            return
        drafts = [
            agency_id
            for agency_id, status in self.statuses.values()
            if status == SubmissionStatus.DRAFT
        ]
        submitted = [
            agency_id
            for agency_id, status in self.statuses.values()
            if status == SubmissionStatus.SUBMITTED
        ]
        approvers = self.account_count // 10
        if len(drafts) < self.account_count or len(submitted) < approvers:
            raise SystemExit(
                f"--accounts {self.account_count} needs as many draft dossiers "
                f"(there are {len(drafts)}) and {approvers} submitted ones "
                f"(there are {len(submitted)}): generate more agencies."
            )

        # One hash for everyone: hashing 10,000 passwords would take minutes.
        password = generate_password_hash(PASSWORD)
        plan = [
            ("bench.spec", Role.SPECIALIST, drafts[: self.account_count]),
            ("bench.appr", Role.APPROVER, submitted[:approvers]),
        ]
        for prefix, role, agency_ids in plan:
            rows = [
                {
                    "username": f"{prefix}.{number:05d}",
                    "first_name": f"Tài khoản {number:05d}",
                    "last_name": SYNTHETIC,
                    "email": f"{prefix}.{number:05d}@bench.invalid",
                    "password": password,
                    "active": True,
                    "login_count": 0,
                    "fail_login_count": 0,
                    "created_on": self.now,
                    "changed_on": self.now,
                    "agency_id": agency_id,
                }
                for number, agency_id in enumerate(agency_ids, start=1)
            ]
            self.write(DtiUser, rows)
            role_id = db.session.execute(
                text("SELECT id FROM ab_role WHERE name = :name"), {"name": str(role)}
            ).scalar_one()
            user_ids = db.session.execute(
                select(DtiUser.id).where(DtiUser.username.like(f"{prefix}.%"))
            ).scalars()
            self.write(
                assoc_user_role,
                [{"user_id": user_id, "role_id": role_id} for user_id in user_ids],
            )
        db.session.commit()

    # --- Finishing ----------------------------------------------------------------

    def finish(self):
        """Move PostgreSQL's id sequences past the ids given here, then ANALYZE."""
        engine = db.engine
        if engine.dialect.name == "postgresql":
            for model in self.ids.last:
                table = model.__tablename__
                db.session.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence(:table, 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    ),
                    {"table": table},
                )
            db.session.commit()
            with engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            ) as connection:
                connection.execute(text("ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()

    def run(self):
        steps = (
            self.levels_and_groups,
            self.agencies,
            self.assessment_years,
            self.index_sets,
            self.dossiers,
            self.accounts,
            self.finish,
        )
        for step in steps:
            step()
            db.session.commit()
        return self.counts


def _params(rule, maximum):
    """Return valid parameters for a rule worth `maximum` points."""
    if rule == "count":
        return {
            "thresholds": [
                [4, maximum],
                [3, scoring.points(maximum * Decimal("0.75"))],
                [2, scoring.points(maximum / 2)],
                [1, scoring.points(maximum / 4)],
            ]
        }
    return {}


def _figures(rule, maximum, chance):
    """Return figures an agency might report under a rule."""
    if rule == "yes_no":
        return {"value": chance.random() < 0.8}
    if rule == "count":
        return {"count": chance.randint(0, 5)}
    if rule == "ratio":
        total = chance.randint(5, 60)
        return {"a": chance.randint(total // 2, total), "b": total}
    share = chance.choice((Decimal("0.5"), Decimal("0.75"), Decimal(1)))
    return {"points": float(scoring.points(maximum * share))}


# --- Database set-up --------------------------------------------------------------


def reset_database(url):
    """Empty the benchmark database: delete the SQLite file or drop the schema."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def ensure_database(url):
    """Create the PostgreSQL database (or the SQLite file's folder) if missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return
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
            print(f"created database {parsed.database}")
    server.dispose()


def _is_empty():
    return not inspect(db.engine).get_table_names()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--agencies", type=int, default=12500)
    parser.add_argument("--indicators", type=int, default=100)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--accounts", type=int, default=0)
    parser.add_argument("--database-url", help="default: DATABASE_URL or bench.db")
    parser.add_argument(
        "--reset",
        action="store_true",
        help="empty the benchmark database first (never the test or dev one)",
    )
    args = parser.parse_args(argv)
    mains = PILLARS * MAINS_PER_PILLAR
    if args.indicators < mains:
        parser.error(f"--indicators must be at least {mains} (one per main indicator)")
    if args.years < 1 or args.agencies < 5 or args.accounts < 0:
        parser.error("--years ≥ 1, --agencies ≥ 5 and --accounts ≥ 0, please")
    return args


def main(argv=None):
    """Generate the data set and print what was written and how long it took."""
    args = parse_args(argv)
    url = database_url(args.database_url)
    refuse_protected(url)
    ensure_database(url)
    if args.reset:
        reset_database(url)

    started = time.perf_counter()
    app = create_app(make_config(url))
    quiet_logs()
    with app.app_context():
        if not _is_empty():
            raise SystemExit(
                f"{describe(url)} is not empty: pass --reset to start over."
            )
        upgrade(directory=str(MIGRATIONS))
        roles.sync_permissions()
        roles.sync_roles()
        migrated = time.perf_counter()

        generator = Generator(args.agencies, args.indicators, args.years, args.accounts)
        counts = generator.run()
        answers = db.session.execute(select(func.count(Answer.id))).scalar()
        db.session.remove()
        db.engine.dispose()

    finished = time.perf_counter()
    print(f"database: {describe(url)}")
    for table, count in counts.items():
        print(f"  {table:<18} {count:>10,}")
    print(f"answers in the database: {answers:,}")
    print(
        f"elapsed: {finished - started:.1f} s "
        f"(migrations and roles {migrated - started:.1f} s, "
        f"data {finished - migrated:.1f} s)"
    )


if __name__ == "__main__":
    main()
