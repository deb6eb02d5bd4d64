"""The PDF check itself, run as a separate script by `pdfcheck.inspect_pdf`.

It imports neither Flask nor the console, so the child process starts in a
fraction of a second: `python -I pdfverdict.py MAX_PAGES < file.pdf` prints one
JSON line. pypdf and asn1crypto show that a signature exists and whose
certificate claims to have made it; they do not verify it cryptographically.
"""

import hashlib
import json
import logging
import re
import sys
from io import BytesIO

from asn1crypto import cms
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

# A signature field tree deeper than this is hostile, not a real form.
_MAX_FIELD_DEPTH = 32
_PDF_DATE = re.compile(
    r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?"
    r"(?:([Zz])|([+-])(\d{2})'?(\d{2})?'?)?"
)


def _refusal(reason, data, pages=None):
    """Return a verdict that refuses the file for `reason`."""
    return {
        "ok": False,
        "reason": reason,
        "pages": pages,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "kind": None,
        "signatures": [],
    }


def pdf_date(value):
    """Return a PDF date (D:20230315103000+07'00') as ISO 8601 text, or None."""
    match = _PDF_DATE.match(str(value or "").strip())
    if not match:
        return None

    year, month, day, hour, minute, second, utc, sign, tz_hour, tz_minute = (
        match.groups()
    )
    text = (
        f"{year}-{month or '01'}-{day or '01'}"
        f"T{hour or '00'}:{minute or '00'}:{second or '00'}"
    )
    if utc:
        text += "+00:00"
    elif sign:
        text += f"{sign}{tz_hour}:{tz_minute or '00'}"
    return text


def _resolved(dictionary, key):
    """Return `dictionary[key]` with indirect references followed, or None."""
    value = dictionary.get(key)
    return value.get_object() if value is not None else None


def _contents_bytes(value):
    """Return the raw bytes of a /Contents string, whichever type pypdf chose."""
    original = getattr(value, "original_bytes", None)
    return bytes(original if original is not None else value)


def signer_from_cms(contents):
    """Return the common name of the signer certificate in a CMS SignedData."""
    # /Contents is zero-padded after the DER; asn1crypto ignores trailing bytes.
    signed_data = cms.ContentInfo.load(contents)["content"]
    certificates = [
        choice.chosen
        for choice in signed_data["certificates"] or []
        if choice.name == "certificate"
    ]
    if not certificates:
        return None

    signer = certificates[0]
    signer_infos = signed_data["signer_infos"]
    if len(signer_infos):
        sid = signer_infos[0]["sid"]
        for certificate in certificates:
            if sid.name == "issuer_and_serial_number":
                wanted = sid.chosen
                if (
                    certificate.issuer == wanted["issuer"]
                    and certificate.serial_number == wanted["serial_number"].native
                ):
                    signer = certificate
                    break
            elif certificate.key_identifier == sid.chosen.native:
                signer = certificate
                break
    return signer.subject.native.get("common_name")


def _signature(name, value, data):
    """Describe one signed signature field, or return None if it is not signed."""
    if not isinstance(value, DictionaryObject) or "/ByteRange" not in value:
        return None

    byte_range = [int(number) for number in value["/ByteRange"]]
    signer = _resolved(value, "/Name")
    signer = str(signer) if signer else None
    if not signer and "/Contents" in value:
        try:
            signer = signer_from_cms(_contents_bytes(value["/Contents"]))
        except Exception:
            signer = None

    subfilter = _resolved(value, "/SubFilter")
    return {
        "field": name,
        "signer": signer,
        "signed_at": pdf_date(_resolved(value, "/M")),
        "subfilter": str(subfilter) if subfilter else None,
        "covers_whole_file": (
            len(byte_range) == 4
            and byte_range[0] == 0
            and byte_range[2] + byte_range[3] == len(data)
        ),
    }


def _signatures(reader, data):
    """Walk the AcroForm fields (and their /Kids) for signed signature fields."""
    acroform = _resolved(reader.trailer["/Root"], "/AcroForm")
    if acroform is None:
        return []

    found = []
    seen = set()
    # (field, inherited /FT, inherited name, depth); /FT and /T pass to kids.
    stack = [
        (field, None, None, 0)
        for field in reversed(_resolved(acroform, "/Fields") or [])
    ]
    while stack:
        reference, field_type, parent_name, depth = stack.pop()
        key = getattr(reference, "idnum", None)
        if depth > _MAX_FIELD_DEPTH or key in seen:
            continue
        if key is not None:
            seen.add(key)

        field = reference.get_object()
        field_type = _resolved(field, "/FT") or field_type
        part = _resolved(field, "/T")
        name = ".".join(str(item) for item in (parent_name, part) if item)
        if field_type == "/Sig":
            signature = _signature(name or None, _resolved(field, "/V"), data)
            if signature:
                found.append(signature)

        kids = _resolved(field, "/Kids") or []
        stack.extend((kid, field_type, name, depth + 1) for kid in reversed(kids))
    return found


def verdict(data, max_pages):
    """Return the check of one file as a JSON-friendly dict (no Flask needed).

    `ok` is False with a `reason` code when the file is refused: not_pdf,
    damaged, encrypted, too_many_pages, empty or too_large.
    """
    if not data.startswith(b"%PDF-"):
        return _refusal("not_pdf", data)

    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted:
            return _refusal("encrypted", data)

        # Read the declared count before walking the tree, so a page tree of
        # millions of entries is refused without being built.
        declared = int(reader.trailer["/Root"]["/Pages"]["/Count"])
        if declared > max_pages:
            return _refusal("too_many_pages", data, pages=declared)

        pages = len(reader.pages)
        if pages > max_pages:
            return _refusal("too_many_pages", data, pages=pages)
        if pages == 0:
            return _refusal("empty", data, pages=0)

        signatures = _signatures(reader, data)
    except MemoryError:
        return _refusal("too_large", data)
    except Exception:
        # pypdf raises PyPdfError subclasses, but malformed input also raises
        # KeyError, ValueError, RecursionError and friends.
        return _refusal("damaged", data)

    return {
        "ok": True,
        "reason": None,
        "pages": pages,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "kind": "signed" if signatures else "scan",
        "signatures": signatures,
    }


def main():
    """Read a file on stdin, print its verdict as one JSON line."""
    max_pages = int(sys.argv[1])
    # pypdf reports what it repairs through logging; the parent only needs
    # the verdict, and stderr stays free for real failures.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    data = sys.stdin.buffer.read()
    sys.stdout.write(json.dumps(verdict(data, max_pages)) + "\n")


if __name__ == "__main__":
    main()
