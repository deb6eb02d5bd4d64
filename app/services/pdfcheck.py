"""Check an uploaded evidence file: is it a readable PDF, how long, is it signed.

The check (`pdfverdict.py`) runs as a child process with memory and CPU
limits, so a hostile PDF can neither hang nor exhaust a gunicorn worker. The
child has no Flask app: it answers with a machine `reason` code and this module
turns the code into a message for the user.

pypdf and asn1crypto show that a signature exists and whose certificate
claims to have made it; they do not verify it cryptographically. Verifying
needs the trusted Vietnamese CA roots (and pyHanko's validator), which the
console does not ship yet.
"""

import json
import logging
import math
import resource
import signal
import subprocess
import sys
from pathlib import Path

from flask_babel import lazy_gettext as _l

from . import pdfverdict
from .exceptions import EvidenceError
from .pdfverdict import pdf_date, signer_from_cms, verdict

logger = logging.getLogger(__name__)

_MEMORY_LIMIT = 1024**3

__all__ = ["inspect_pdf", "pdf_date", "refusal_message", "signer_from_cms", "verdict"]


def refusal_message(result, max_pages):
    """Return the user-facing text for a refused verdict."""
    reason = result.get("reason")
    if reason == "not_pdf":
        return _l("The file is not a PDF document.")
    if reason == "encrypted":
        return _l("The PDF file is password-protected; upload a copy without one.")
    if reason == "too_many_pages":
        return _l(
            "The PDF file has %(pages)s pages; at most %(limit)s are allowed.",
            pages=result.get("pages"),
            limit=max_pages,
        )
    if reason == "empty":
        return _l("The PDF file has no pages.")
    if reason == "too_large":
        return _l("The PDF file is too complex to check; it may be damaged.")
    return _l("The PDF file is damaged or incomplete and cannot be read.")


def _child_command(max_pages):
    """Return the argv of the child process that checks one file."""
    # -I: an isolated interpreter that neither reads PYTHON* variables nor
    # imports the console, so it starts fast.
    return [sys.executable, "-I", str(Path(pdfverdict.__file__)), str(max_pages)]


def _limits(timeout):
    """Return the function that caps the child's memory and CPU time."""
    cpu_seconds = math.ceil(timeout) + 1

    def _apply():
        resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_LIMIT, _MEMORY_LIMIT))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))

    return _apply


def inspect_pdf(data, max_pages, timeout=15):
    """Check a file in a limited child process and return its verdict.

    The verdict is the dict of `verdict()` plus `message`: None when the file
    is accepted, else the lazy text saying why it is refused.

    :raises EvidenceError: when the child runs out of time or memory, or
        answers nothing usable.
    """
    try:
        completed = subprocess.run(
            _child_command(max_pages),
            input=data,
            capture_output=True,
            timeout=timeout,
            preexec_fn=_limits(timeout),
        )
    except subprocess.TimeoutExpired:
        logger.warning("PDF check of %s bytes killed after %s s", len(data), timeout)
        raise EvidenceError(
            _l("The file could not be checked in time; it may be damaged.")
        ) from None

    if completed.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        logger.warning(
            "PDF check of %s bytes killed by signal %s",
            len(data),
            -completed.returncode,
        )
        raise EvidenceError(
            _l("The file could not be checked in time; it may be damaged.")
        )

    try:
        # The verdict is the last line, whatever an import may have printed.
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        if completed.returncode != 0 or not isinstance(result.get("ok"), bool):
            raise ValueError("no verdict")
    except (ValueError, AttributeError, IndexError):
        logger.warning(
            "PDF check of %s bytes failed with status %s: %s",
            len(data),
            completed.returncode,
            completed.stderr[-500:].decode(errors="replace"),
        )
        raise EvidenceError(
            _l("The file could not be checked; it may be damaged.")
        ) from None

    result["message"] = None if result["ok"] else refusal_message(result, max_pages)
    return result
