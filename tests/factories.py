"""Small builders for records the base data does not have."""

import csv
import io
import re
from hashlib import sha256

from reportlab.pdfgen import canvas
from sqlalchemy import select

from app.extensions import db
from app.models import (
    ActivityLog,
    Agency,
    AppraisalNote,
    DtiUser,
    Evidence,
    Submission,
    SubmissionStatus,
    Verdict,
)


def user(username):
    """Return a test account by its username."""
    return db.session.execute(select(DtiUser).filter_by(username=username)).scalar_one()


def agency(code):
    return db.session.execute(select(Agency).where(Agency.code == code)).scalar_one()


def submission_of(code):
    """Return the current round's submission of an agency."""
    return (
        db.session.execute(
            select(Submission)
            .join(Agency, Agency.id == Submission.agency_id)
            .where(Agency.code == code)
            .order_by(Submission.year_id.desc())
        )
        .scalars()
        .first()
    )


def evidence_for(submission, name="bao-cao.pdf"):
    """Add an evidence row (metadata only) to a submission."""
    digest = sha256(f"{submission.id}-{name}".encode()).hexdigest()
    item = Evidence(
        submission=submission,
        doc_type="report",
        doc_number=f"{submission.id}/BC",
        original_filename=name,
        storage_key=digest,
        size_bytes=1000,
        page_count=1,
        sha256=digest,
        kind="scan",
    )
    db.session.add(item)
    db.session.flush()
    return item


def note_for(answer, round_=1, verdict=Verdict.AGREE):
    item = AppraisalNote(answer=answer, round=round_, verdict=verdict, comment="ok")
    db.session.add(item)
    db.session.flush()
    return item


def log_for(code, summary="Sự kiện thử"):
    item = ActivityLog(action="test.event", summary=summary, agency_id=agency(code).id)
    db.session.add(item)
    db.session.flush()
    return item


def set_status(submission, status):
    submission.status = SubmissionStatus(status)
    db.session.flush()


def show_ids(html, route):
    """Return the record ids a list page links to."""
    return {int(pk) for pk in re.findall(rf"/{route}/show/(\d+)", html)}


def csv_rows(response):
    """Return the rows of a CSV response, header first, BOM removed."""
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def make_pdf(pages=1, text="Báo cáo chuyển đổi số"):
    """Return a small text PDF drawn by reportlab."""
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer)
    for number in range(pages):
        drawing.drawString(72, 720, f"{text} – trang {number + 1}")
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()
