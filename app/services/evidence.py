"""Evidence files: check, store once by content, record and remove them.

Files live under DTI_EVIDENCE_ROOT at a path made of their SHA-256, so the
same document attached by two agencies is stored once. Who may upload or
delete is decided by the permission layer before these functions are called;
the caller commits.
"""

import hashlib
import logging
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select

from ..extensions import db
from ..models import DocumentType, Evidence
from . import activity
from .clock import TIMEZONE
from .exceptions import DomainError, EvidenceError
from .pdfcheck import inspect_pdf

logger = logging.getLogger(__name__)

_FILE_MODE = 0o640
_DIRECTORY_MODE = 0o750
_NAME_LIMIT = 255
# Path separators of any uploader's system, and control characters.
_PATH_PART = re.compile(r"^.*[\\/]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# session.info key for files to unlink once the deletion commits.
_PENDING = "dti_evidence_unlink"


def _root():
    return Path(current_app.config["DTI_EVIDENCE_ROOT"])


def storage_key(sha256):
    """Return the storage key (relative path) of a file with this digest."""
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.pdf"


def store(data):
    """Write a file once under its SHA-256 and return its storage key."""
    key = storage_key(hashlib.sha256(data).hexdigest())
    path = _root() / key
    # The same bytes may come back in the transaction that removed them.
    db.session().info.get(_PENDING, set()).discard(path.resolve())
    if path.exists():
        return key

    path.parent.mkdir(mode=_DIRECTORY_MODE, parents=True, exist_ok=True)
    # Write beside the target and rename, so readers never see half a file.
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fchmod(temp.fileno(), _FILE_MODE)
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise

    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    logger.info("evidence file %s stored (%s bytes)", key, len(data))
    return key


def path_of(evidence):
    """Return the path of an evidence row's stored file."""
    root = _root().resolve()
    path = (root / evidence.storage_key).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"storage key of evidence {evidence.id} leaves the root")
    return path


def clean_filename(filename):
    """Return the uploader's file name without its path, fit for the column."""
    name = _PATH_PART.sub("", _CONTROL.sub("", filename or "")).strip()
    if not name:
        return "document.pdf"
    if len(name) <= _NAME_LIMIT:
        return name

    stem, dot, suffix = name.rpartition(".")
    if dot and 0 < len(suffix) <= 10:
        return stem[: _NAME_LIMIT - len(suffix) - 1] + "." + suffix
    return name[:_NAME_LIMIT]


def _megabytes(size):
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def _local_time(text):
    """Return an ISO 8601 time as a naive local datetime, or None."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(TIMEZONE).replace(tzinfo=None)
    return moment


def _first(signatures, key):
    return next((item[key] for item in signatures if item.get(key)), None)


def _check_answers(submission, answers):
    """Refuse answers of another submission."""
    for answer in answers:
        if answer.submission_id != submission.id:
            raise DomainError(
                _l(
                    "Answer #%(answer)s belongs to another submission, "
                    "not to submission #%(id)s.",
                    answer=answer.id,
                    id=submission.id,
                )
            )


def add_evidence(
    submission,
    data,
    filename,
    user,
    *,
    doc_type,
    doc_number,
    doc_date,
    issuer,
    summary,
    answers=(),
):
    """Check a PDF, store it once and attach it to a submission as evidence.

    :raises EvidenceError: when the file is too big, not an acceptable PDF,
        or could not be checked.
    :raises DomainError: when the submission already has this file, or an
        answer belongs to another submission.
    """
    limit = current_app.config["DTI_EVIDENCE_MAX_BYTES"]
    if len(data) > limit:
        raise EvidenceError(
            _l(
                "The file is %(size)s MB; at most %(limit)s MB is allowed.",
                size=_megabytes(len(data)),
                limit=_megabytes(limit),
            )
        )

    if doc_type not in set(DocumentType):
        raise DomainError(_l("Unknown document type %(type)s.", type=doc_type))

    result = inspect_pdf(data, current_app.config["DTI_EVIDENCE_MAX_PAGES"])
    if not result["ok"]:
        logger.info(
            "evidence for submission %s refused: %s",
            submission.id,
            result["reason"],
        )
        raise EvidenceError(result["message"])

    existing = db.session.execute(
        select(Evidence.id).where(
            Evidence.submission_id == submission.id,
            Evidence.sha256 == result["sha256"],
        )
    ).scalar()
    if existing is not None:
        raise DomainError(
            _l(
                "This file is already attached to submission #%(id)s "
                "as evidence #%(evidence)s.",
                id=submission.id,
                evidence=existing,
            )
        )

    answers = list(answers)
    _check_answers(submission, answers)

    signatures = result["signatures"]
    evidence = Evidence(
        submission=submission,
        doc_type=DocumentType(doc_type),
        doc_number=doc_number,
        doc_date=doc_date,
        issuer=issuer,
        summary=summary,
        original_filename=clean_filename(filename),
        storage_key=store(data),
        size_bytes=result["size"],
        page_count=result["pages"],
        sha256=result["sha256"],
        kind=result["kind"],
        signer_name=(_first(signatures, "signer") or "")[:_NAME_LIMIT] or None,
        signed_at=_local_time(_first(signatures, "signed_at")),
        uploaded_by=user,
        answers=answers,
    )
    db.session.add(evidence)
    db.session.flush()

    activity.record(
        "evidence.uploaded",
        _l(
            "Evidence #%(id)s (%(filename)s) attached to submission #%(submission)s.",
            id=evidence.id,
            filename=evidence.original_filename,
            submission=submission.id,
        ),
        target=evidence,
        agency_id=submission.agency_id,
        changes={
            "filename": evidence.original_filename,
            "kind": evidence.kind,
            "pages": evidence.page_count,
            "size": evidence.size_bytes,
            "sha256": evidence.sha256,
            "answers": [answer.id for answer in answers],
        },
        user=user,
    )
    db.session.flush()
    logger.info(
        "evidence %s (%s, %s pages) attached to submission %s by user %s",
        evidence.id,
        evidence.kind,
        evidence.page_count,
        submission.id,
        getattr(user, "id", None),
    )
    return evidence


def remove_evidence(evidence):
    """Delete an evidence row; its file goes when the deletion commits.

    The file stays while another row (of another submission) uses it, and
    stays if the caller rolls back, so a refused deletion loses nothing.
    """
    shared = db.session.execute(
        select(func.count(Evidence.id)).where(
            Evidence.storage_key == evidence.storage_key,
            Evidence.id != evidence.id,
        )
    ).scalar()

    activity.record(
        "evidence.deleted",
        _l(
            "Evidence #%(id)s (%(filename)s) removed from submission #%(submission)s.",
            id=evidence.id,
            filename=evidence.original_filename,
            submission=evidence.submission_id,
        ),
        target=evidence,
        agency_id=evidence.submission.agency_id,
        changes=activity.snapshot_of(evidence),
    )
    if not shared:
        session = db.session()
        session.info.setdefault(_PENDING, set()).add(path_of(evidence))

    logger.info(
        "evidence %s removed from submission %s (file %s)",
        evidence.id,
        evidence.submission_id,
        "kept, shared" if shared else "to delete",
    )
    db.session.delete(evidence)
    db.session.flush()


@event.listens_for(db.session, "after_commit")
def _unlink_removed_files(session):
    """Delete the files of evidence rows whose deletion has just committed."""
    for path in session.info.pop(_PENDING, ()):
        path.unlink(missing_ok=True)
        logger.info("evidence file %s deleted", path)


@event.listens_for(db.session, "after_rollback")
def _keep_removed_files(session):
    """Forget pending file deletions: the rows are back."""
    session.info.pop(_PENDING, None)
