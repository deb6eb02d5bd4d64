"""PDF files for the evidence-check benchmark: one long, several hostile."""

import io
import logging
import random

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

logger = logging.getLogger(__name__)

PDF_HEADER = b"%PDF-1.7\n"


def long_document(pages=3000):
    """Return a text PDF of `pages` pages, like a long scanned report."""
    buffer = io.BytesIO()
    document = canvas.Canvas(buffer, pagesize=A4)
    for number in range(1, pages + 1):
        document.drawString(
            72, 770, f"Synthetic evidence for benchmarks, page {number}"
        )
        document.showPage()
    document.save()
    return buffer.getvalue()


def page_tree(leaves=10_000_000, fan_out=10, declared=None):
    """Return a small PDF whose page tree reaches `leaves` pages.

    Every level's /Kids repeats one reference `fan_out` times, so a few hundred
    bytes describe ten million pages. The root declares `declared` pages
    (default: the true count); a lying count hides the size from a reader that
    trusts /Count.
    """
    depth = 0
    while fan_out**depth < leaves:
        depth += 1
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        number = len(objects) + 1
        count = fan_out ** (depth - level)
        if level == 0 and declared is not None:
            count = declared
        kids = b" ".join(b"%d 0 R" % (number + 1) for _ in range(fan_out))
        objects.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count))
    objects.append(b"<< /Type /Page /MediaBox [0 0 595 842] >>")
    return _assemble(objects)


def truncated(data, share=0.5):
    """Return the first `share` of a file, as an interrupted upload leaves it."""
    return data[: int(len(data) * share)]


def random_bytes(size=1_000_000, seed=2088):
    """Return random bytes behind a PDF header, so the parser has to read them."""
    return PDF_HEADER + random.Random(seed).randbytes(size)


def _assemble(objects):
    """Return a PDF file of the given object bodies, numbered from 1."""
    body = bytearray(PDF_HEADER)
    offsets = []
    for number, item in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + item + b"\nendobj\n"
    table = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    body += b"startxref\n%d\n%%%%EOF\n" % table
    return bytes(body)


def hostile_documents(long_pdf):
    """Return (name, bytes) of the hostile files the check must survive."""
    return [
        ("page tree declaring 10,000,000 pages", page_tree()),
        ("page tree of 10,000,000 pages declaring 1", page_tree(declared=1)),
        ("3,000-page PDF truncated at 50 %", truncated(long_pdf)),
        ("random bytes behind a PDF header (1 MB)", random_bytes()),
    ]
