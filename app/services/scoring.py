"""The scoring rules: how an agency's figures become points.

Pure functions, no database. Each rule type checks its parameters when an
indicator is saved (`check_params`) and its figures when an agency answers
(`score`). Points are Decimals rounded to two places and never leave 0…maximum.

Rule types, as the real index sets use them (dti-facts §3.4):

- yes_no: full points or none.                       figures {"value": true}
- choice: one listed option, each worth its points.  figures {"choice": "Phó"}
- count: a count mapped to points by thresholds.      figures {"count": 3}
- ratio: a / b × maximum.                             figures {"a": 3, "b": 4}
- parts: sub-conditions, each worth a share.          figures {"parts": ["…"]}
- relative: value ÷ best value of the round × max.    figures {"value": 12.5}
- manual: points entered directly (judgement).        figures {"points": 7}
- not_scored: collected for information, worth 0.     figures {"value": "…"}
"""

import json
from decimal import (
    MAX_EMAX,
    MIN_EMIN,
    ROUND_HALF_UP,
    Decimal,
    InvalidOperation,
    localcontext,
)

from flask_babel import lazy_gettext as _l

from .exceptions import DomainError

TWO_PLACES = Decimal("0.01")

RULE_TYPES = (
    "yes_no",
    "choice",
    "count",
    "ratio",
    "parts",
    "relative",
    "manual",
    "not_scored",
)

# Vietnamese names organisers may type in a spreadsheet instead of the codes.
RULE_ALIASES = {
    "có/không": "yes_no",
    "lựa chọn": "choice",
    "ngưỡng": "count",
    "ngưỡng số lượng": "count",
    "tỷ lệ": "ratio",
    "tổng thành phần": "parts",
    "tương đối": "relative",
    "nhập tay": "manual",
    "không tính điểm": "not_scored",
}

RULE_NAMES = {
    "yes_no": _l("Yes or no"),
    "choice": _l("One of listed options"),
    "count": _l("Count thresholds"),
    "ratio": _l("Ratio a / b"),
    "parts": _l("Sum of parts"),
    "relative": _l("Relative to the best agency"),
    "manual": _l("Points entered by judgement"),
    "not_scored": _l("Not scored"),
}

# Rules whose parameters are a list of (label or threshold, points).
_LISTED = {"choice": "options", "parts": "parts", "count": "thresholds"}


class RuleError(DomainError):
    """Bad rule parameters or bad figures; the message names what is wrong."""


def points(value):
    """Return a value as Decimal points rounded to two places."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as error:
        raise RuleError(_l("%(value)s is not a number.", value=value)) from error
    if not number.is_finite():
        raise RuleError(_l("%(value)s is not a number.", value=value))
    try:
        return number.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    except InvalidOperation as error:
        raise RuleError(_l("%(value)s is not a number.", value=value)) from error


def _share(part, whole, maximum):
    """Return part / whole × maximum, dividing last so that 5/24 × 3 is 0.625."""
    with localcontext() as context:
        # Figures may be huge; the product must not overflow before the division.
        context.Emax, context.Emin = MAX_EMAX, MIN_EMIN
        return part * maximum / whole


def _cap(value, maximum):
    """Keep a score inside 0…maximum."""
    return max(Decimal("0.00"), min(points(value), points(maximum)))


def normalise_rule_type(text):
    """Return the rule code for a code or Vietnamese name, or None if unknown."""
    if text is None:
        return None
    key = str(text).strip().lower()
    if key in RULE_TYPES:
        return key
    return RULE_ALIASES.get(key)


# --- Parameters --------------------------------------------------------------


def parse_params(rule_type, text):
    """Read parameters from a spreadsheet cell: JSON or "label=points; …"."""
    if text is None or str(text).strip() == "":
        return {}
    text = str(text).strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise RuleError(_l("The rule parameters are not valid JSON.")) from error
        if not isinstance(value, dict):
            raise RuleError(_l("The rule parameters are not valid JSON."))
        return value

    key = _LISTED.get(rule_type)
    if key is None:
        raise RuleError(_l("Rule %(rule)s takes no parameters.", rule=rule_type))
    entries = []
    for chunk in text.split(";"):
        if not chunk.strip():
            continue
        if "=" not in chunk:
            raise RuleError(
                _l(
                    "Write each option as label=points, separated by ';': %(chunk)s",
                    chunk=chunk.strip(),
                )
            )
        label, _sep, value = chunk.rpartition("=")
        label = label.strip()
        if rule_type == "count":
            label = _whole(label, _l("threshold"))
        # A decimal comma is how Vietnamese spreadsheets write 7,5.
        entries.append([label, float(points(value.strip().replace(",", ".")))])
    return {key: entries}


def format_params(rule_type, params):
    """Write parameters back as the spreadsheet cell `parse_params` reads.

    Without a rule type the list key of the parameters decides the layout.
    """
    if not params:
        return ""
    key = _LISTED.get(rule_type)
    if not rule_type and len(params) == 1 and next(iter(params)) in _LISTED.values():
        key = next(iter(params))
    if key is None or set(params) != {key} or not _plainly_listed(params[key]):
        return json.dumps(params, ensure_ascii=False, sort_keys=True)
    return "; ".join(f"{label}={_plain(value)}" for label, value in params[key])


def _plainly_listed(entries):
    """Tell whether "label=points; …" can carry these entries back unchanged."""
    labels = [str(label) for label, _value in entries]
    return (
        bool(labels)
        and not labels[0].startswith("{")
        and not any(";" in label or label != label.strip() for label in labels)
    )


def _plain(value):
    number = points(value)
    return (
        format(number.normalize(), "f")
        if number == number.to_integral()
        else str(number)
    )


def _whole(value, what):
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as error:
        raise RuleError(
            _l("The %(what)s %(value)s is not a whole number.", what=what, value=value)
        ) from error
    if number != number.to_integral() or number < 0:
        raise RuleError(
            _l("The %(what)s %(value)s is not a whole number.", what=what, value=value)
        )
    return int(number)


def check_params(rule_type, params, maximum):
    """Refuse a rule that cannot score correctly; return the cleaned params.

    Runs when an indicator is saved or imported, so that a bad rule is caught
    by the organiser, never by an agency answering.
    """
    if rule_type not in RULE_TYPES:
        raise RuleError(
            _l(
                "Unknown scoring rule %(rule)s. Known rules: %(known)s.",
                rule=rule_type,
                known=", ".join(RULE_TYPES),
            )
        )
    maximum = points(maximum)
    if maximum < 0:
        raise RuleError(_l("The maximum points cannot be negative."))
    params = dict(params or {})

    if rule_type == "not_scored":
        if maximum != 0:
            raise RuleError(_l("A not-scored indicator must be worth 0 points."))
        return {}
    if maximum == 0:
        raise RuleError(
            _l(
                "A scored indicator must be worth more than 0 points; "
                "use the not_scored rule for information only."
            )
        )

    key = _LISTED.get(rule_type)
    if key is None:
        if params:
            raise RuleError(_l("Rule %(rule)s takes no parameters.", rule=rule_type))
        return {}

    entries = params.get(key)
    if not isinstance(entries, list) or not entries or set(params) != {key}:
        raise RuleError(
            _l("Rule %(rule)s needs its list of %(key)s.", rule=rule_type, key=key)
        )

    cleaned = []
    for entry in entries:
        if not isinstance(entry, list | tuple) or len(entry) != 2:
            raise RuleError(_l("Each entry of the rule needs a label and points."))
        label, value = entry
        value = points(value)
        if value < 0 or value > maximum:
            raise RuleError(
                _l(
                    "%(label)s is worth %(value)s points, outside 0…%(maximum)s.",
                    label=label,
                    value=value,
                    maximum=maximum,
                )
            )
        if rule_type == "count":
            label = _whole(label, _l("threshold"))
        else:
            label = str(label).strip()
            if not label:
                raise RuleError(_l("Every option of the rule needs a label."))
        cleaned.append([label, float(value)])

    labels = [label for label, _value in cleaned]
    if len(set(labels)) != len(labels):
        raise RuleError(_l("The options of the rule must be different."))
    values = [points(value) for _label, value in cleaned]

    if rule_type == "choice":
        if len(cleaned) < 2:
            raise RuleError(_l("A choice needs at least two options."))
        if max(values) != maximum:
            raise RuleError(
                _l(
                    "The best option must be worth the maximum, %(maximum)s points.",
                    maximum=maximum,
                )
            )
    elif rule_type == "parts":
        if sum(values) != maximum:
            raise RuleError(
                _l(
                    "The parts add up to %(total)s points, "
                    "not the maximum %(maximum)s.",
                    total=sum(values),
                    maximum=maximum,
                )
            )
    elif rule_type == "count":
        thresholds = [label for label, _value in cleaned]
        if thresholds != sorted(thresholds, reverse=True):
            raise RuleError(_l("List the count thresholds from the highest down."))
        if values[0] != maximum:
            raise RuleError(
                _l(
                    "The highest threshold must give the maximum, %(maximum)s points.",
                    maximum=maximum,
                )
            )
        if values != sorted(values, reverse=True):
            raise RuleError(_l("A lower count cannot give more points."))
    return {key: cleaned}


# --- Figures -----------------------------------------------------------------


def _number(figures, key, label):
    if key not in figures or figures[key] in (None, ""):
        raise RuleError(_l("Enter %(label)s.", label=label))
    value = figures[key]
    if isinstance(value, bool):
        raise RuleError(_l("%(label)s must be a number.", label=label))
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError) as error:
        raise RuleError(_l("%(label)s must be a number.", label=label)) from error
    if not number.is_finite():
        raise RuleError(_l("%(label)s must be a number.", label=label))
    if number < 0:
        raise RuleError(_l("%(label)s cannot be negative.", label=label))
    return number


def _flag(figures):
    value = figures.get("value")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "có"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {
        "0",
        "false",
        "no",
        "không",
    }:
        return False
    raise RuleError(_l("Answer yes or no."))


def score(rule_type, params, maximum, figures):
    """Return the points an answer earns, always within 0…maximum.

    `relative` answers cannot be scored alone: use `score_relative` with the
    round's values. Bad figures raise RuleError with a message for the agency.
    """
    figures = figures or {}
    maximum = points(maximum)
    if not isinstance(figures, dict):
        raise RuleError(_l("The figures of this answer are not readable."))

    if rule_type == "not_scored":
        return Decimal("0.00")

    if rule_type == "yes_no":
        return maximum if _flag(figures) else Decimal("0.00")

    if rule_type == "choice":
        choice = figures.get("choice")
        for label, value in params.get("options", []):
            if str(label) == str(choice):
                return _cap(value, maximum)
        raise RuleError(_l("Choose one of the listed options."))

    if rule_type == "count":
        count = _number(figures, "count", _l("the count"))
        if count != count.to_integral():
            raise RuleError(_l("The count must be a whole number."))
        for threshold, value in params.get("thresholds", []):
            if count >= threshold:
                return _cap(value, maximum)
        return Decimal("0.00")

    if rule_type == "ratio":
        numerator = _number(figures, "a", _l("the numerator a"))
        denominator = _number(figures, "b", _l("the denominator b"))
        if denominator == 0:
            raise RuleError(
                _l(
                    "The denominator b is 0: the ratio cannot be computed. "
                    "Check the figure, or explain why there is nothing to count."
                )
            )
        if numerator > denominator:
            raise RuleError(
                _l(
                    "The numerator a (%(a)s) cannot exceed the denominator b (%(b)s).",
                    a=numerator,
                    b=denominator,
                )
            )
        return _cap(_share(numerator, denominator, maximum), maximum)

    if rule_type == "parts":
        achieved = figures.get("parts") or []
        if not isinstance(achieved, list):
            raise RuleError(_l("Tick the parts that are met."))
        known = {str(label): value for label, value in params.get("parts", [])}
        unknown = [str(item) for item in achieved if str(item) not in known]
        if unknown:
            raise RuleError(_l("Unknown part: %(part)s.", part=unknown[0]))
        total = sum(
            (points(known[str(item)]) for item in set(map(str, achieved))), Decimal("0")
        )
        return _cap(total, maximum)

    if rule_type == "manual":
        value = _number(figures, "points", _l("the points"))
        if value > maximum:
            raise RuleError(
                _l(
                    "The points (%(value)s) cannot exceed the maximum %(maximum)s.",
                    value=value,
                    maximum=maximum,
                )
            )
        return _cap(value, maximum)

    if rule_type == "relative":
        raise RuleError(_l("A relative score is computed for the whole round."))

    raise RuleError(
        _l(
            "Unknown scoring rule %(rule)s.",
            rule=rule_type,
            known=", ".join(RULE_TYPES),
        )
    )


def check_figures(rule_type, params, maximum, figures):
    """Refuse figures a rule cannot score; relative values are only checked."""
    if rule_type == "relative":
        _number(figures or {}, "value", _l("the value"))
        return None
    return score(rule_type, params, maximum, figures)


def score_relative(maximum, values):
    """Score a round of relative answers: {answer id: value} → {answer id: points}.

    The best value earns the maximum; everyone else earns their share of it. If
    nobody has a value above 0, everyone earns 0.
    """
    maximum = points(maximum)
    numbers = {key: Decimal(str(value)) for key, value in values.items()}
    best = max(numbers.values(), default=Decimal("0"))
    if best <= 0:
        return {key: Decimal("0.00") for key in numbers}
    return {
        key: _cap(_share(value, best, maximum), maximum)
        for key, value in numbers.items()
    }
