"""Maintain the Vietnamese catalogue: FAB ships none, so ours holds its strings too.

    python -m app.i18n merge-fab app/translations/messages.pot
adds every message of FAB's own catalogue to an extracted template, so that
`pybabel update` keeps FAB's screens translated along with ours.
"""

import io
import sys
from pathlib import Path

import flask_appbuilder
from babel.messages.pofile import read_po, write_po

FAB_CATALOGUE = (
    Path(flask_appbuilder.__file__).parent / "translations/fr/LC_MESSAGES/messages.po"
)


def merge_fab(template_path):
    """Add FAB's message ids to a .pot file that lacks them."""
    with open(template_path, "rb") as handle:
        template = read_po(handle)
    # FAB's header carries a date babel cannot parse; the messages are fine.
    lines = FAB_CATALOGUE.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if "-Date:" not in line]
    fab = read_po(io.StringIO("".join(kept)))

    added = 0
    for message in fab:
        if not message.id or message.id in template:
            continue
        template.add(message.id, locations=[("flask_appbuilder", 0)])
        added += 1

    with open(template_path, "wb") as handle:
        write_po(handle, template, width=88)
    print(f"added {added} messages of Flask-AppBuilder")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "merge-fab":
        sys.exit("usage: python -m app.i18n merge-fab TEMPLATE.pot")
    merge_fab(sys.argv[2])
