"""Evidence files: hostile PDFs are refused, good ones stored once and recorded.

Every file is generated here: reportlab draws, pypdf encrypts and rewrites,
pyHanko signs with a throwaway self-signed certificate.
"""

import datetime
import json
import os
import struct
import sys
import time
import zlib
from io import BytesIO

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask_babel import force_locale
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, NumberObject
from sqlalchemy import select

from app.extensions import db
from app.models import ActivityLog, Evidence
from app.services import evidence as evidence_service
from app.services import pdfcheck
from app.services.clock import now
from app.services.exceptions import DomainError, EvidenceError
from tests import factories
from tests.factories import make_pdf, submission_of

SIGNER = "Nguyễn Văn An"


def make_png():
    """Return a valid 1×1 PNG image."""

    def chunk(kind, body):
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


def rewrite(data, change):
    """Return `data` rewritten by pypdf after `change(writer)`."""
    writer = PdfWriter(clone_from=PdfReader(BytesIO(data)))
    change(writer)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def encrypted_pdf():
    return rewrite(
        make_pdf(), lambda writer: writer.encrypt("mat-khau", algorithm="AES-256")
    )


def huge_page_tree():
    """Return a PDF whose page tree claims ten million pages."""

    def claim(writer):
        pages = writer.root_object["/Pages"]
        pages[NameObject("/Count")] = NumberObject(10_000_000)

    return rewrite(make_pdf(), claim)


@pytest.fixture(scope="session")
def signer():
    """A pyHanko signer with a fresh self-signed certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SIGNER)])
    today = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(today - datetime.timedelta(days=1))
        .not_valid_after(today + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    signing_cert = asn1_x509.Certificate.load(
        certificate.public_bytes(serialization.Encoding.DER)
    )
    signing_key = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return signers.SimpleSigner(
        signing_cert=signing_cert,
        signing_key=signing_key,
        cert_registry=SimpleCertificateStore.from_certs([signing_cert]),
    )


def sign(data, signer, **metadata):
    writer = IncrementalPdfFileWriter(BytesIO(data))
    details = signers.PdfSignatureMetadata(field_name="ChuKy1", **metadata)
    return signers.sign_pdf(writer, details, signer=signer).getvalue()


@pytest.fixture(scope="session")
def signed_pdf(signer):
    return sign(make_pdf(), signer)


def empty_signature_field():
    """Return a PDF with a signature field nobody has signed."""
    writer = IncrementalPdfFileWriter(BytesIO(make_pdf()))
    fields.append_signature_field(writer, fields.SigFieldSpec("ChuKy1"))
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# --- The verdict on hostile and ordinary files -------------------------------


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda: b"Day la bao cao, khong phai PDF.\n", "not_pdf"),
        (make_png, "not_pdf"),
        (lambda: b"", "not_pdf"),
        (encrypted_pdf, "encrypted"),
        (lambda: make_pdf(pages=3)[: len(make_pdf(pages=3)) // 2], "damaged"),
        (lambda: b"%PDF-1.7\n" + os.urandom(2000), "damaged"),
        (huge_page_tree, "too_many_pages"),
        (lambda: make_pdf(pages=6), "too_many_pages"),
    ],
    ids=[
        "text",
        "png",
        "empty",
        "encrypted",
        "truncated",
        "garbage",
        "huge-tree",
        "pages",
    ],
)
def test_verdict_refuses_hostile_files(build, reason):
    data = build()

    result = pdfcheck.verdict(data, max_pages=5)

    assert result["ok"] is False
    assert result["reason"] == reason
    assert result["size"] == len(data)
    assert result["kind"] is None


def test_verdict_reads_declared_page_count_before_walking_the_tree():
    started = time.monotonic()

    result = pdfcheck.verdict(huge_page_tree(), max_pages=5000)

    assert result["pages"] == 10_000_000
    assert time.monotonic() - started < 1


def test_verdict_refuses_a_pdf_without_pages():
    data = rewrite(make_pdf(), lambda writer: writer.remove_page(0))

    assert pdfcheck.verdict(data, max_pages=5)["reason"] == "empty"


@pytest.mark.parametrize("build", [make_pdf, empty_signature_field])
def test_unsigned_pdf_is_a_scan(build):
    data = build()

    result = pdfcheck.verdict(data, max_pages=5)

    assert result["ok"] is True
    assert result["kind"] == "scan"
    assert result["pages"] == 1
    assert result["signatures"] == []
    assert len(result["sha256"]) == 64


def test_signed_pdf_names_the_certificate_subject(signed_pdf):
    result = pdfcheck.verdict(signed_pdf, max_pages=5)

    assert result["kind"] == "signed"
    [signature] = result["signatures"]
    assert signature["field"] == "ChuKy1"
    assert signature["signer"] == SIGNER
    assert signature["subfilter"] == "/adbe.pkcs7.detached"
    assert signature["covers_whole_file"] is True
    signed_at = datetime.datetime.fromisoformat(signature["signed_at"])
    assert abs(datetime.datetime.now(datetime.UTC) - signed_at).total_seconds() < 600


def test_signature_name_entry_wins_over_the_certificate(signer):
    data = sign(make_pdf(), signer, name="Sở Nội vụ")

    [signature] = pdfcheck.verdict(data, max_pages=5)["signatures"]

    assert signature["signer"] == "Sở Nội vụ"


def test_bytes_appended_after_signing_are_reported(signed_pdf):
    result = pdfcheck.verdict(signed_pdf + b"\n% them sau khi ky\n", max_pages=5)

    assert result["kind"] == "signed"
    assert result["signatures"][0]["covers_whole_file"] is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("D:20230315103000+07'00'", "2023-03-15T10:30:00+07:00"),
        ("D:20230315103000Z", "2023-03-15T10:30:00+00:00"),
        ("D:20230315", "2023-03-15T00:00:00"),
        ("15/03/2023", None),
        (None, None),
    ],
)
def test_pdf_dates_become_iso_8601(value, expected):
    assert pdfcheck.pdf_date(value) == expected


# --- The child process ---------------------------------------------------------


def test_inspect_pdf_checks_in_a_child_process(ctx, signed_pdf):
    result = pdfcheck.inspect_pdf(signed_pdf, max_pages=5)

    assert result["ok"] is True
    assert result["message"] is None
    assert result["signatures"][0]["signer"] == SIGNER


def test_inspect_pdf_explains_a_refusal(ctx):
    result = pdfcheck.inspect_pdf(make_png(), max_pages=5)

    assert result["reason"] == "not_pdf"
    assert str(result["message"]) == "Tệp không phải là văn bản PDF."
    with force_locale("en"):
        assert str(result["message"]) == "The file is not a PDF document."


def test_inspect_pdf_kills_a_child_that_runs_too_long(ctx, monkeypatch):
    monkeypatch.setattr(pdfcheck, "_child_command", lambda _pages: ["sleep", "30"])
    started = time.monotonic()

    with pytest.raises(EvidenceError) as refused:
        pdfcheck.inspect_pdf(make_pdf(), max_pages=5, timeout=0.5)

    assert time.monotonic() - started < 5
    assert str(refused.value) == (
        "Không kiểm tra kịp tệp trong thời gian cho phép; tệp có thể bị hỏng."
    )


def test_inspect_pdf_caps_the_child_memory(ctx, monkeypatch):
    # Without the limit the child would allocate and print a verdict.
    allocate = "bytearray(2 * 1024**3); print('{\"ok\": true}')"
    greedy = [sys.executable, "-c", allocate]
    monkeypatch.setattr(pdfcheck, "_child_command", lambda _pages: greedy)

    with pytest.raises(EvidenceError) as refused:
        pdfcheck.inspect_pdf(make_pdf(), max_pages=5)

    with force_locale("en"):
        assert str(refused.value) == "The file could not be checked; it may be damaged."


# --- Storage and records -------------------------------------------------------


@pytest.fixture(autouse=True)
def evidence_root(app, tmp_path, monkeypatch):
    """Give each test its own store: rolled-back rows leave their files behind."""
    root = tmp_path / "evidence"
    monkeypatch.setitem(app.config, "DTI_EVIDENCE_ROOT", str(root))
    return root


def _add(submission, data, filename="bao-cao.pdf", answers=()):
    return evidence_service.add_evidence(
        submission,
        data,
        filename,
        factories.user("spec_a"),
        doc_type="report",
        doc_number="12/BC-SNV",
        doc_date=datetime.date(2026, 3, 15),
        issuer="Sở Nội vụ",
        summary="Báo cáo kết quả chuyển đổi số",
        answers=answers,
    )


def _stored_files(root):
    return sorted(
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _dirs, names in os.walk(root)
        for name in names
    )


def test_add_evidence_stores_and_records_a_signed_file(evidence_root, ctx, signed_pdf):
    submission = submission_of("S02")
    answers = submission.answers[:2]

    item = _add(submission, signed_pdf, r"C:\Users\An\Desktop\bao-cao.pdf", answers)

    assert item.original_filename == "bao-cao.pdf"
    assert item.kind == "signed"
    assert item.page_count == 1
    assert item.signer_name == SIGNER
    assert abs((item.signed_at - now()).total_seconds()) < 600
    assert item.answers == answers
    path = evidence_service.path_of(item)
    assert path.read_bytes() == signed_pdf
    assert path.stat().st_mode & 0o777 == 0o640
    assert path.is_relative_to(evidence_root)
    assert _stored_files(evidence_root) == [item.storage_key]
    assert item.storage_key == f"{item.sha256[:2]}/{item.sha256[2:4]}/{item.sha256}.pdf"

    log = db.session.execute(
        select(ActivityLog).filter_by(action="evidence.uploaded", target_id=item.id)
    ).scalar_one()
    assert log.agency_id == submission.agency_id
    assert log.changes["kind"] == "signed"
    assert f"#{item.id}" in log.summary and "bao-cao.pdf" in log.summary


def test_same_file_is_stored_once_and_refused_twice_in_one_submission(
    evidence_root, ctx
):
    data = make_pdf(text="Kế hoạch")
    first = _add(submission_of("S02"), data)
    second = _add(submission_of("S06"), data, "ke-hoach.pdf")

    assert first.storage_key == second.storage_key
    assert _stored_files(evidence_root).count(first.storage_key) == 1

    with pytest.raises(DomainError) as refused:
        _add(submission_of("S02"), data, "ban-sao.pdf")
    assert str(refused.value) == (
        f"Tệp này đã được đính kèm vào hồ sơ đánh giá #{first.submission_id} "
        f"là tài liệu kiểm chứng #{first.id}."
    )


def test_oversize_file_is_refused_before_inspection(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "DTI_EVIDENCE_MAX_BYTES", 1024 * 1024)

    def must_not_run(*_args, **_kwargs):
        raise AssertionError("inspected an oversize file")

    monkeypatch.setattr(evidence_service, "inspect_pdf", must_not_run)

    with pytest.raises(EvidenceError) as refused:
        _add(submission_of("S02"), b"%PDF-1.7\n" + b"0" * (3 * 1024 * 1024))

    with force_locale("en"):
        assert str(refused.value) == "The file is 3 MB; at most 1 MB is allowed."


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        (r"C:\Users\An\Desktop\bao-cao.pdf", "bao-cao.pdf"),
        ("../../etc/bao-cao.pdf", "bao-cao.pdf"),
        ("bao\ncao/../ke-hoach.pdf", "ke-hoach.pdf"),
        ("", "document.pdf"),
        ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
    ],
)
def test_filename_keeps_only_the_base_name(filename, expected):
    assert evidence_service.clean_filename(filename) == expected


def test_bad_file_is_refused_with_its_reason_and_not_stored(evidence_root, ctx):
    with pytest.raises(EvidenceError) as refused:
        _add(submission_of("S02"), encrypted_pdf())

    assert "mật khẩu" in str(refused.value)
    assert _stored_files(evidence_root) == []


def test_answers_of_another_submission_are_refused(evidence_root, ctx):
    other = submission_of("S06").answers[0]

    with pytest.raises(DomainError) as refused:
        _add(submission_of("S02"), make_pdf(text="Quyết định"), answers=[other])

    with force_locale("en"):
        assert str(refused.value).startswith(f"Answer #{other.id} belongs to")
    assert _stored_files(evidence_root) == []


def test_a_failed_write_leaves_no_file(evidence_root, ctx, monkeypatch):
    def broken_replace(_source, _target):
        raise OSError("disk full")

    monkeypatch.setattr(evidence_service.os, "replace", broken_replace)

    with pytest.raises(OSError):
        evidence_service.store(make_pdf(text="Thông báo"))

    assert _stored_files(evidence_root) == []


def test_remove_evidence_keeps_a_file_another_row_uses(evidence_root, ctx):
    data = make_pdf(text="Báo cáo dùng chung")
    first = _add(submission_of("S02"), data)
    second = _add(submission_of("S06"), data)
    path = evidence_service.path_of(first)

    evidence_service.remove_evidence(first)
    db.session.commit()

    assert path.exists()
    assert db.session.get(Evidence, second.id) is not None

    evidence_service.remove_evidence(second)
    assert path.exists(), "the file must outlive an uncommitted deletion"
    db.session.commit()

    assert not path.exists()
    actions = db.session.execute(
        select(ActivityLog.action).filter_by(target_type="evidence")
    ).scalars()
    assert list(actions).count("evidence.deleted") == 2


def test_rolled_back_removal_keeps_the_file(ctx):
    item = _add(submission_of("S02"), make_pdf(text="Giữ lại"))
    path = evidence_service.path_of(item)
    db.session.commit()

    evidence_service.remove_evidence(item)
    db.session.rollback()
    db.session.commit()

    assert path.exists()


# --- The command line ----------------------------------------------------------


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_cli_prints_the_verdict_of_a_good_file(runner, ctx, tmp_path, signed_pdf):
    path = tmp_path / "van-ban-ky-so.pdf"
    path.write_bytes(signed_pdf)

    result = runner.invoke(args=["dti", "inspect-evidence", str(path)])

    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["ok"] is True
    assert shown["kind"] == "signed"
    assert shown["pages"] == 1
    assert shown["signatures"][0]["signer"] == SIGNER


def test_cli_exits_1_for_a_refused_file(runner, ctx, tmp_path):
    path = tmp_path / "anh.pdf"
    path.write_bytes(make_png())

    result = runner.invoke(args=["dti", "inspect-evidence", str(path)])

    assert result.exit_code == 1
    shown = json.loads(result.stdout)
    assert shown["ok"] is False
    assert shown["message"] == "Tệp không phải là văn bản PDF."
