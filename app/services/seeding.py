"""Load the reference data and the demo round from the files under seed/.

Every loader finds records by their natural key first, so seeding twice
changes nothing.
"""

import csv
import json
import logging
import random
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    Agency,
    AgencyLevel,
    AssessmentYear,
    Band,
    DepartmentGroup,
    Field,
    Phase,
    PhaseKind,
    Submission,
    SubmissionStatus,
    YearStatus,
)
from . import accounts, answers, clock, evidence, index_io
from .exceptions import DomainError

logger = logging.getLogger(__name__)

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"

PHASES = {
    "contact": PhaseKind.CONTACT,
    "self_assessment": PhaseKind.SELF_ASSESSMENT,
    "appraisal_1": PhaseKind.APPRAISAL_1,
    "explanation": PhaseKind.EXPLANATION,
    "appraisal_2": PhaseKind.APPRAISAL_2,
    "publication": PhaseKind.PUBLICATION,
}
YEAR_STATES = {
    "draft": YearStatus.DRAFT,
    "open": YearStatus.OPEN,
    "closed": YearStatus.CLOSED,
}


def _rows(name):
    with open(SEED_DIR / name, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _json(name):
    with open(SEED_DIR / name, encoding="utf-8") as handle:
        return json.load(handle)


def _one(model, **keys):
    return db.session.execute(select(model).filter_by(**keys)).scalar()


def has_data():
    """Tell whether the reference data has been loaded."""
    return db.session.execute(select(func.count(Agency.id))).scalar() > 0


def current_round_year(today=None):
    """Return the year the demo's current round assesses: last calendar year."""
    return (today or clock.now()).year - 1


# --- Reference data ----------------------------------------------------------------


def load_reference():
    """Load levels, groups, agencies, years, phases, fields and index sets."""
    summary = {
        "levels": _load_levels(),
        "department groups": _load_groups(),
        "agencies": _load_agencies(),
    }
    years = _load_years()
    summary["years"] = len(years)
    summary["fields"] = sum(_load_fields(year) for year in years)
    summary["index sets"] = sum(_load_index_sets(year) for year in years)
    summary["bands"] = sum(_load_bands(year) for year in years)
    db.session.commit()
    logger.info("reference data loaded: %s", summary)
    return summary


def _load_levels():
    for row in _rows("levels.csv"):
        level = _one(AgencyLevel, code=row["code"]) or AgencyLevel(code=row["code"])
        level.name = row["name"]
        level.rank = int(row["rank"])
        level.description = row["description"]
        db.session.add(level)
    db.session.flush()
    return db.session.execute(select(func.count(AgencyLevel.id))).scalar()


def _load_groups():
    for row in _rows("department_groups.csv"):
        group = _one(DepartmentGroup, code=row["code"]) or DepartmentGroup(
            code=row["code"]
        )
        group.name = row["name"]
        group.description = row["description"]
        db.session.add(group)
    db.session.flush()
    return db.session.execute(select(func.count(DepartmentGroup.id))).scalar()


def _load_agencies():
    levels = {
        level.code: level for level in db.session.execute(select(AgencyLevel)).scalars()
    }
    groups = {
        group.code: group
        for group in db.session.execute(select(DepartmentGroup)).scalars()
    }
    rows = _rows("agencies.csv")
    for row in rows:
        agency = _one(Agency, code=row["code"])
        if agency is None:
            agency = Agency(code=row["code"], active=True)
            db.session.add(agency)
        agency.name = row["name"]
        agency.level = levels[row["level"]]
        agency.group = groups.get(row["group"]) if row["group"] else None
    db.session.flush()

    for row in rows:
        if row["parent"]:
            agency = _one(Agency, code=row["code"])
            agency.parent = _one(Agency, code=row["parent"])
    db.session.flush()
    return len(rows)


def _load_years():
    today = clock.now()
    years = []
    for spec in _json("years.json")["years"]:
        current = spec["year"] == "current"
        number = current_round_year(today) if current else int(spec["year"])
        year = _one(AssessmentYear, year=number)
        if year is not None:
            years.append(year)
            continue

        year = AssessmentYear(
            year=number,
            name=spec["name"].format(year=number),
            data_start=datetime(number, 1, 1).date(),
            data_end=datetime(number, 12, 31).date(),
            status=YEAR_STATES[spec["status"]],
            note=spec.get("note"),
        )
        db.session.add(year)
        midnight = today.replace(hour=0, minute=0, second=0)
        for phase in spec["phases"]:
            if current:
                opens = midnight + timedelta(days=phase["opens_in_days"])
                closes = midnight + timedelta(
                    days=phase["closes_in_days"], hours=23, minutes=59
                )
            else:
                opens = datetime.strptime(phase["opens"], "%Y-%m-%d %H:%M")
                closes = datetime.strptime(phase["closes"], "%Y-%m-%d %H:%M")
            year.phases.append(
                Phase(kind=PHASES[phase["kind"]], opens_at=opens, closes_at=closes)
            )
        years.append(year)
    db.session.flush()
    return years


def _load_fields(year):
    count = 0
    for row in _rows("fields.csv"):
        field = _one(Field, year_id=year.id, code=row["code"])
        if field is None:
            field = Field(year=year, code=row["code"])
            db.session.add(field)
            field.name = row["name"]
            field.description = row["description"]
            field.appraiser_agency = _one(Agency, code=row["appraiser_agency"])
        count += 1
    db.session.flush()
    return count


def _load_bands(year):
    for row in _rows("bands.csv"):
        if _one(Band, year_id=year.id, name=row["name"]) is None:
            db.session.add(
                Band(year=year, name=row["name"], min_value=Decimal(row["min_value"]))
            )
    db.session.flush()
    return len(_rows("bands.csv"))


def _load_index_sets(year):
    count = 0
    for spec in _json("index_sets.json"):
        target = index_io.find_target(year.year, spec["level"], spec.get("group"))
        existing = index_io.find_set(*target)
        if existing is not None and existing.indicators:
            count += 1
            continue

        data = (SEED_DIR / spec["file"]).read_bytes()
        fields = index_io.field_codes_of(year)
        result = index_io.parse_table(
            index_io.read_table(data, spec["file"]), set(fields), spec["max_points"]
        )
        if not result.ok:
            problems = "; ".join(
                f"row {problem.row}: {problem.message}" for problem in result.blocking
            )
            raise DomainError(f"{spec['file']}: {problems}")

        index_set = existing or index_io.IndexSet(
            year=year, level=target[1], group=target[2]
        )
        index_set.name = spec["name"]
        index_set.source = spec["source"]
        index_set.max_points = Decimal(str(spec["max_points"]))
        db.session.add(index_set)
        index_io.write_nodes(index_set, result.nodes, fields)
        count += 1
    return count


# --- Demo round --------------------------------------------------------------------


def demo_accounts():
    """Return the demo accounts that exist, for printing."""
    sm = current_app.appbuilder.sm
    rows = []
    for spec in _json("demo.json")["accounts"]:
        if sm.find_user(username=spec["username"]) is None:
            continue
        agency = _one(Agency, code=spec["agency"]) if spec.get("agency") else None
        rows.append(
            {
                "username": spec["username"],
                "role": spec["role"],
                "agency": agency.name if agency else "",
            }
        )
    return rows


def load_demo(password):
    """Create the demo accounts and the current round's dossiers."""
    sm = current_app.appbuilder.sm
    created = 0
    year = _one(AssessmentYear, year=current_round_year())
    for spec in _json("demo.json")["accounts"]:
        if sm.find_user(username=spec["username"]) is not None:
            continue
        first, _sep, last = spec["name"].rpartition(" ")
        accounts.create_user(
            username=spec["username"],
            password=password,
            role_name=spec["role"],
            agency_code=spec.get("agency"),
            field_codes=spec.get("fields", ()),
            year=year.year if year else None,
            first_name=first or spec["name"],
            last_name=last,
            email=f"{spec['username']}@demo.dti.invalid",
        )
        created += 1

    dossiers = _load_demo_round(year) if year is not None else 0
    db.session.commit()
    from . import demo_history

    finished = _one(AssessmentYear, year=2022)
    published = demo_history.load(finished) if finished is not None else 0
    return {
        "demo accounts": created,
        "demo submissions": dossiers,
        "published 2022 dossiers": published,
    }


def _load_demo_round(year):
    """Open a submission for every active agency and move some along."""
    stages = _json("demo.json")["stages"]
    organiser = current_app.appbuilder.sm.find_user(username="tochuc")
    agencies = db.session.execute(
        select(Agency).where(Agency.active.is_(True)).order_by(Agency.code)
    ).scalars()
    opened = 0
    for agency in agencies:
        if _one(Submission, agency_id=agency.id, year_id=year.id) is not None:
            continue
        submission = answers.open_submission(agency, year)
        stage = stages.get(agency.code)
        if stage:
            _attach_demo_evidence(submission)
            _fill_demo_answers(submission, stage)
            _move_to_stage(submission, stage, organiser)
        opened += 1
    db.session.flush()
    answers.recompute_relative(year)
    return opened


def _fill_demo_answers(submission, stage):
    """Answer the components with plausible figures (the same on every run)."""
    chance = random.Random(f"{submission.agency.code}-{submission.year.year}")
    share = 0.5 if stage == "draft_partial" else 1.0
    for answer in submission.answers:
        if chance.random() > share:
            continue
        indicator = answer.indicator
        answer.figures = demo_figures(indicator, chance)
        if indicator.rule_type != "relative":
            answer.self_score = answers.score_answer(indicator, answer.figures)
        # A dossier past the draft explains every figure its files do not back.
        needs_words = stage != "draft_partial" and not answer.evidence
        if needs_words or chance.random() < 0.3:
            answer.explanation = (
                "Số liệu tổng hợp từ báo cáo chuyển đổi số năm của đơn vị; "
                "đơn vị chịu trách nhiệm về tính chính xác."
            )
    answers.refresh_totals(submission)


def demo_figures(indicator, chance):
    """Return figures an agency might report for an indicator."""
    params = indicator.rule_params or {}
    rule = indicator.rule_type
    if rule == "yes_no":
        return {"value": chance.random() < 0.8}
    if rule == "choice":
        options = params.get("options", [])
        return {
            "choice": options[0][0]
            if chance.random() < 0.7
            else chance.choice(options)[0]
        }
    if rule == "count":
        top = params.get("thresholds", [[4, 0]])[0][0]
        return {"count": chance.randint(0, top + 1)}
    if rule == "ratio":
        total = chance.randint(5, 60)
        return {"a": chance.randint(total // 2, total), "b": total}
    if rule == "parts":
        return {
            "parts": [
                label for label, _p in params.get("parts", []) if chance.random() < 0.75
            ]
        }
    if rule == "relative":
        return {"value": chance.randint(10, 100)}
    if rule == "manual":
        maximum = float(indicator.max_points)
        return {"points": round(maximum * chance.choice([0.5, 0.75, 1.0]), 2)}
    return {"value": "Có"}


DEMO_DOCUMENTS = [
    ("plan", "Ke hoach chuyen doi so nam {year}", "ke-hoach-chuyen-doi-so.pdf"),
    ("report", "Bao cao ket qua chuyen doi so nam {year}", "bao-cao-ket-qua.pdf"),
]


def demo_pdf(lines):
    """Return a one-page PDF of ASCII text lines, built without any library.

    Demo evidence only: real evidence is a scan or a signed document.
    """
    text = " ".join(
        f"({line.replace('(', '[').replace(')', ']')}) Tj 0 -24 Td" for line in lines
    )
    content = f"BT /F1 16 Tf 72 770 Td {text} ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    body = b"%PDF-1.4\n"
    offsets = []
    for number, item in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + item + b"\nendobj\n"
    table = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    body += b"startxref\n%d\n%%%%EOF\n" % table
    return body


def _attach_demo_evidence(submission):
    """Attach the demo documents of an agency, each backing a few answers."""
    answers = sorted(submission.answers, key=lambda item: item.indicator.position)
    for number, (doc_type, title, filename) in enumerate(DEMO_DOCUMENTS):
        data = demo_pdf(
            [
                title.format(year=submission.year.year),
                f"Don vi: {submission.agency.code}",
                "Tai lieu minh hoa cua du lieu demo DTI Console",
            ]
        )
        evidence.add_evidence(
            submission,
            data,
            filename,
            None,
            doc_type=doc_type,
            doc_number=f"{number + 10}/{doc_type.upper()}-{submission.agency.code}",
            doc_date=submission.year.data_end,
            issuer=submission.agency.name,
            summary=title.format(year=submission.year.year),
            answers=answers[number::4][:6],
        )


def _move_to_stage(submission, stage, organiser):
    moment = clock.now() - timedelta(days=2)
    if stage in {"submitted", "approved", "returned"}:
        submission.status = SubmissionStatus.SUBMITTED
        submission.submitted_at = moment
    if stage == "approved":
        submission.status = SubmissionStatus.APPROVED
        submission.approved_at = moment + timedelta(hours=5)
    if stage == "returned":
        submission.status = SubmissionStatus.RETURNED
        submission.returned_at = moment + timedelta(hours=3)
        submission.returned_by = organiser
        submission.returned_reason = (
            "Đề nghị bổ sung tài liệu kiểm chứng cho các chỉ số về dịch vụ công "
            "trực tuyến và giải trình số liệu chỉ số 2.3."
        )
