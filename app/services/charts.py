"""Charts of results drawn as SVG on the server, for offline intranets.

No script and no web font: the markup is inlined in the page (the HTML parser
gives it the SVG namespace), scales through its viewBox and prints in black
and white. Series differ by pattern and every bar carries its value in words,
so nothing is told by colour alone. Every label is escaped.
"""

import itertools
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

WIDTH = 720
TITLE_HEIGHT = 40
ROW_HEIGHT = 30
RANK_WIDTH = 34
LABEL_WIDTH = 250
BAR_LEFT = RANK_WIDTH + LABEL_WIDTH + 10
BAR_SPACE = 300
LABEL_CHARACTERS = 40
INK = "#000"
FILL = "#595959"
FONT = "Arial, 'DejaVu Sans', 'Noto Sans', sans-serif"

# Each chart gets its own id prefix: a page may show several charts, and the
# ids of their titles and patterns must not collide.
_serial = itertools.count(1)

# The three series of a comparison: (key, legend, fill). Patterns, not hues,
# tell them apart on a black-and-white printout.
SERIES = (
    ("self", _l("Self-assessment"), "hatch"),
    ("round1", _l("Appraisal round 1"), "dots"),
    ("final", _l("Final score"), "solid"),
)


def _decimal(value):
    """Return a number as Decimal, or None when there is none."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def number_text(value, places=None):
    """Write a number the Vietnamese way: decimal comma, e.g. 0,7849 or 12,5."""
    number = _decimal(value)
    if number is None:
        return "–"
    if places is not None:
        text = f"{number:.{places}f}"
    else:
        text = f"{number.quantize(Decimal('0.0001')):f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
    return text.replace(".", ",")


def _short(label):
    """Cut a long label to fit its column; the row's tooltip keeps it whole."""
    label = str(label or "")
    if len(label) <= LABEL_CHARACTERS:
        return label
    return label[: LABEL_CHARACTERS - 1].rstrip() + "…"


def _length(value, scale, space=BAR_SPACE):
    """Return a bar's length for a value on a scale, or None when it is missing."""
    number = _decimal(value)
    if number is None:
        return None
    share = number / scale if scale > 0 else Decimal(0)
    return round(float(min(max(share, Decimal(0)), Decimal(1))) * space, 2)


def _scale(values):
    """Return the largest value, or 1 when there is nothing positive."""
    numbers = [_decimal(value) for value in values]
    return max([number for number in numbers if number is not None] + [Decimal(1)])


class _Canvas:
    """Collect one chart's elements and wrap them in an accessible SVG."""

    def __init__(self, title):
        self.id = f"dti-chart-{next(_serial)}"
        self.title = str(title)
        self.parts = []
        self.text(10, 24, self.title, size=15, bold=True)

    def fill(self, kind):
        """Return the fill of a series: solid grey or one of the patterns."""
        return FILL if kind == "solid" else f"url(#{self.id}-{kind})"

    def text(self, x, y, words, anchor="start", size=12, bold=False):
        weight = ' font-weight="bold"' if bold else ""
        self.parts.append(
            f'<text x="{x}" y="{y}" font-size="{size}" text-anchor="{anchor}"'
            f'{weight} fill="{INK}">{escape(str(words))}</text>'
        )

    def rect(self, x, y, width, height, fill, css="bar"):
        self.parts.append(
            f'<rect class="{css}" x="{x}" y="{y}" width="{width}" height="{height}"'
            f' fill="{fill}" stroke="{INK}" stroke-width="0.8"/>'
        )

    def group(self, hint):
        """Open a row; its title is the tooltip and what a screen reader says."""
        self.parts.append(f"<g><title>{escape(str(hint))}</title>")

    def end_group(self):
        self.parts.append("</g>")

    def svg(self, height):
        """Return the finished chart as markup."""
        title_id = f"{self.id}-title"
        head = (
            f'<svg class="dti-chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}"'
            f' height="{height}" role="img" aria-labelledby="{title_id}"'
            f' font-family="{FONT}" style="max-width:100%;height:auto">'
            f'<title id="{title_id}">{escape(self.title)}</title>'
            f'<defs><pattern id="{self.id}-hatch" width="6" height="6"'
            ' patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            '<rect width="6" height="6" fill="#fff"/>'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="{INK}" stroke-width="2"/>'
            f'</pattern><pattern id="{self.id}-dots" width="5" height="5"'
            ' patternUnits="userSpaceOnUse"><rect width="5" height="5" fill="#fff"/>'
            f'<circle cx="2.5" cy="2.5" r="1.2" fill="{INK}"/></pattern></defs>'
            f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>'
        )
        return Markup(head + "".join(self.parts) + "</svg>")


def _empty(canvas):
    canvas.text(10, TITLE_HEIGHT + 20, _l("No data to show."), size=13)
    return canvas.svg(TITLE_HEIGHT + 40)


def ranking_chart(rows, title):
    """Draw ranked DTI values (0–1) as horizontal bars, in the order given."""
    canvas = _Canvas(title)
    if not rows:
        return _empty(canvas)

    for index, row in enumerate(rows):
        y = TITLE_HEIGHT + index * ROW_HEIGHT
        value = number_text(row.get("value"), places=4)
        band = f" · {row['band']}" if row.get("band") else ""
        rank = row.get("rank") or ""
        canvas.group(f"{rank} {row['label']}: {value}{band}".strip())
        canvas.text(RANK_WIDTH - 6, y + 17, rank, anchor="end")
        canvas.text(RANK_WIDTH, y + 17, _short(row["label"]))
        length = _length(row.get("value"), Decimal(1))
        if length is not None:
            canvas.rect(BAR_LEFT, y + 5, length, ROW_HEIGHT - 10, FILL)
        canvas.text(BAR_LEFT + (length or 0) + 6, y + 17, value + band)
        canvas.end_group()
    return canvas.svg(TITLE_HEIGHT + len(rows) * ROW_HEIGHT + 10)


def pillar_chart(rows, title):
    """Draw each pillar's points inside an outline of its maximum."""
    canvas = _Canvas(title)
    if not rows:
        return _empty(canvas)

    scale = _scale(row.get(key) for row in rows for key in ("max_points", "points"))
    for index, row in enumerate(rows):
        y = TITLE_HEIGHT + index * ROW_HEIGHT
        words = f"{number_text(row.get('points'))} / {number_text(row['max_points'])}"
        canvas.group(f"{row['label']}: {words}")
        canvas.text(RANK_WIDTH, y + 17, _short(row["label"]))
        outline = _length(row["max_points"], scale)
        canvas.rect(BAR_LEFT, y + 5, outline, ROW_HEIGHT - 10, "#fff", css="max")
        length = _length(row.get("points"), scale)
        if length is not None:
            canvas.rect(BAR_LEFT, y + 5, length, ROW_HEIGHT - 10, FILL)
        canvas.text(BAR_LEFT + outline + 6, y + 17, words)
        canvas.end_group()
    return canvas.svg(TITLE_HEIGHT + len(rows) * ROW_HEIGHT + 10)


def comparison_chart(rows, title):
    """Draw self, round-1 and final points side by side; missing ones stay out."""
    canvas = _Canvas(title)
    if not rows:
        return _empty(canvas)

    for position, (_key, legend, kind) in enumerate(SERIES):
        x = RANK_WIDTH + position * 170
        canvas.rect(x, TITLE_HEIGHT - 4, 14, 10, canvas.fill(kind), css="legend")
        canvas.text(x + 20, TITLE_HEIGHT + 5, legend, size=11)
    keys = ("max_points", *(key for key, _legend, _kind in SERIES))
    scale = _scale(row.get(key) for row in rows for key in keys)
    top = TITLE_HEIGHT + 20
    height = len(SERIES) * 12 + 14
    for index, row in enumerate(rows):
        y = top + index * height
        canvas.group(f"{row['label']} / {number_text(row.get('max_points'))}")
        canvas.text(RANK_WIDTH, y + 22, _short(row["label"]))
        for line, (key, _legend, kind) in enumerate(SERIES):
            length = _length(row.get(key), scale)
            if length is not None:
                canvas.rect(BAR_LEFT, y + line * 12, length, 10, canvas.fill(kind))
            words = number_text(row.get(key))
            canvas.text(BAR_LEFT + (length or 0) + 4, y + line * 12 + 9, words, size=10)
        canvas.end_group()
    return canvas.svg(top + len(rows) * height)


def trend_chart(rows, title):
    """Draw one column per year with its value written above it."""
    canvas = _Canvas(title)
    if not rows:
        return _empty(canvas)

    plot_height = 180
    base = TITLE_HEIGHT + 20 + plot_height
    column = min(90, (WIDTH - 20) / len(rows))
    scale = _scale(row.get("value") for row in rows)
    for index, row in enumerate(rows):
        x = 10 + index * column
        middle = round(x + column / 2, 2)
        length = _length(row.get("value"), scale, space=plot_height)
        canvas.group(f"{row['label']}: {number_text(row.get('value'))}")
        if length is not None:
            canvas.rect(
                round(x + column * 0.2, 2),
                base - length,
                round(column * 0.6, 2),
                length,
                FILL,
            )
        canvas.text(
            middle,
            base - (length or 0) - 6,
            number_text(row.get("value")),
            anchor="middle",
            size=11,
        )
        canvas.text(middle, base + 18, row["label"], anchor="middle")
        canvas.end_group()
    return canvas.svg(base + 30)
