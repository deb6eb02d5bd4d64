"""The Vietnamese catalogue is complete: every string a user can see is translated."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "app/translations/vi/LC_MESSAGES/messages.po"
KEYWORDS = {"_l": None, "lazy_gettext": None, "_": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _catalogue():
    with open(CATALOGUE, "rb") as handle:
        return read_po(handle)


def _strings_in_code():
    found = set()
    for subdirectory, method in (("app", "python"), ("app/templates", "jinja2")):
        pattern = "**.py" if method == "python" else "**.html"
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / subdirectory,
            method_map=[(pattern, method)],
            keywords=KEYWORDS,
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_string_of_the_code_is_in_the_catalogue():
    catalogue = _catalogue()

    missing = sorted(
        message for message in _strings_in_code() if message not in catalogue
    )

    assert missing == [], "run make extract-messages and translate: " + repr(
        missing[:10]
    )


def test_every_catalogue_entry_is_translated_with_the_same_placeholders():
    problems = []
    for message in _catalogue():
        if not message.id:
            continue
        if not message.string or message.fuzzy:
            problems.append(f"untranslated: {message.id}")
        elif set(PLACEHOLDER.findall(message.id)) != set(
            PLACEHOLDER.findall(message.string)
        ):
            problems.append(f"placeholders differ: {message.id}")

    assert problems == []
