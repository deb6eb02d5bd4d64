"""Check an index set as a tree: tiers, parents, points and rules.

The same checks serve a file being imported (rows with numbers) and a set in the
database (nodes read from its indicators), so a problem reads the same either way.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from ..models import IndicatorKind
from . import scoring

_PILLAR = re.compile(r"^(?:[IVXLC]+|[A-Z])$")
_MAIN = re.compile(r"^(?:[A-Z]\.)?\d+$")
_COMPONENT = re.compile(r"^(?:[A-Z]\.)?\d+\.\d+$")


@dataclass
class Node:
    """One row of an index set, as read from a file or an indicator."""

    row: int
    code: str
    name: str = ""
    max_points: Decimal | None = None
    kind: int | None = None
    parent_code: str | None = None
    rule_type: str | None = None
    rule_params: dict = field(default_factory=dict)
    field_code: str | None = None
    evidence_required: bool = True
    method_text: str = ""
    evidence_text: str = ""
    data_source: str = ""
    verifying_unit: str = ""


@dataclass
class Problem:
    """Something wrong with one row; `blocking` problems stop an import."""

    row: int | None
    column: str | None
    message: str
    blocking: bool = True


def tier_of(code):
    """Return the tier a number such as "I", "2" or "2.3" stands for, or None."""
    if _PILLAR.match(code):
        return IndicatorKind.PILLAR
    if _MAIN.match(code):
        return IndicatorKind.MAIN
    if _COMPONENT.match(code):
        return IndicatorKind.COMPONENT
    return None


def derive_structure(nodes):
    """Fill in each node's tier and parent from the numbering; return problems.

    A main indicator belongs to the last pillar above it; a component "2.3"
    belongs to main indicator "2".
    """
    problems = []
    pillar = None
    for node in nodes:
        kind = tier_of(node.code)
        if kind is None:
            problems.append(
                Problem(
                    node.row,
                    "STT",
                    str(
                        _l(
                            "Number %(code)s is not a pillar (I, II…), a main "
                            "indicator (1, 2…) or a component (1.1, 1.2…).",
                            code=node.code,
                        )
                    ),
                )
            )
            continue

        node.kind = kind
        if kind == IndicatorKind.PILLAR:
            pillar = node.code
            node.parent_code = None
        elif kind == IndicatorKind.MAIN:
            node.parent_code = pillar
        else:
            node.parent_code = node.code.rsplit(".", 1)[0]
    return problems


def check_tree(nodes, set_max, field_codes=None):
    """Return every problem of a tree of nodes whose kinds and parents are set.

    `field_codes`, when given, are the fields that exist in the year.
    """
    problems = []
    by_code = {}
    for node in nodes:
        if not node.code:
            problems.append(Problem(node.row, "STT", str(_l("The number is empty."))))
            continue
        if node.code in by_code:
            problems.append(
                Problem(
                    node.row,
                    "STT",
                    str(
                        _l(
                            "Number %(code)s is used twice (first on row %(row)s).",
                            code=node.code,
                            row=by_code[node.code].row,
                        )
                    ),
                )
            )
            continue
        by_code[node.code] = node

    for node in by_code.values():
        problems.extend(_check_node(node, by_code, field_codes))

    problems.extend(_check_sums(by_code, set_max))
    if not by_code:
        problems.append(Problem(None, None, str(_l("The index set has no rows."))))
    return problems


def _check_node(node, by_code, field_codes):
    problems = []
    if not (node.name or "").strip():
        problems.append(
            Problem(
                node.row,
                "Chỉ số/Chỉ số thành phần",
                str(_l("Row %(code)s has no name.", code=node.code)),
            )
        )
    if node.max_points is None:
        problems.append(
            Problem(
                node.row,
                "Điểm tối đa",
                str(_l("Row %(code)s has no maximum points.", code=node.code)),
            )
        )
    elif node.max_points < 0:
        problems.append(
            Problem(
                node.row,
                "Điểm tối đa",
                str(_l("Row %(code)s has negative points.", code=node.code)),
            )
        )

    if node.kind == IndicatorKind.MAIN and node.parent_code is None:
        problems.append(
            Problem(
                node.row,
                "STT",
                str(
                    _l(
                        "Main indicator %(code)s comes before any pillar.",
                        code=node.code,
                    )
                ),
            )
        )
    if node.kind == IndicatorKind.COMPONENT:
        parent = by_code.get(node.parent_code)
        if parent is None or parent.kind != IndicatorKind.MAIN:
            problems.append(
                Problem(
                    node.row,
                    "STT",
                    str(
                        _l(
                            "Component %(code)s has no main indicator %(parent)s.",
                            code=node.code,
                            parent=node.parent_code,
                        )
                    ),
                )
            )
        problems.extend(_check_rule(node, field_codes))
    elif node.rule_type or node.field_code:
        problems.append(
            Problem(
                node.row,
                "Loại quy tắc",
                str(
                    _l(
                        "Only components carry a scoring rule and a field "
                        "(row %(code)s).",
                        code=node.code,
                    )
                ),
            )
        )
    return problems


def _check_rule(node, field_codes):
    problems = []
    if not node.rule_type:
        problems.append(
            Problem(
                node.row,
                "Loại quy tắc",
                str(_l("Component %(code)s has no scoring rule yet.", code=node.code)),
                blocking=False,
            )
        )
    elif node.max_points is not None and node.max_points >= 0:
        try:
            node.rule_params = scoring.check_params(
                node.rule_type, node.rule_params, node.max_points
            )
        except scoring.RuleError as error:
            problems.append(
                Problem(
                    node.row,
                    "Tham số quy tắc",
                    str(
                        _l(
                            "Component %(code)s: %(message)s",
                            code=node.code,
                            message=error.message,
                        )
                    ),
                )
            )

    if not node.field_code:
        problems.append(
            Problem(
                node.row,
                "Lĩnh vực",
                str(_l("Component %(code)s has no field yet.", code=node.code)),
                blocking=False,
            )
        )
    elif field_codes is not None and node.field_code not in field_codes:
        problems.append(
            Problem(
                node.row,
                "Lĩnh vực",
                str(
                    _l(
                        "Field %(field)s of component %(code)s does not exist "
                        "in this year.",
                        field=node.field_code,
                        code=node.code,
                    )
                ),
            )
        )
    return problems


def _check_sums(by_code, set_max):
    problems = []
    children = {}
    for node in by_code.values():
        children.setdefault(node.parent_code, []).append(node)

    for node in by_code.values():
        if node.kind == IndicatorKind.COMPONENT or node.max_points is None:
            continue
        kids = children.get(node.code, [])
        if not kids:
            problems.append(
                Problem(
                    node.row,
                    "STT",
                    str(_l("Row %(code)s has nothing under it.", code=node.code)),
                )
            )
            continue
        total = sum((kid.max_points or Decimal(0) for kid in kids), Decimal(0))
        if total != node.max_points:
            problems.append(
                Problem(
                    node.row,
                    "Điểm tối đa",
                    str(
                        _l(
                            "The rows under %(code)s add up to %(total)s points, "
                            "not %(max)s.",
                            code=node.code,
                            total=scoring.points(total),
                            max=scoring.points(node.max_points),
                        )
                    ),
                )
            )

    pillars = [
        node for node in children.get(None, []) if node.kind == IndicatorKind.PILLAR
    ]
    total = sum((pillar.max_points or Decimal(0) for pillar in pillars), Decimal(0))
    if set_max is not None and pillars and total != Decimal(str(set_max)):
        problems.append(
            Problem(
                None,
                "Điểm tối đa",
                str(
                    _l(
                        "The pillars add up to %(total)s points, "
                        "not the set's %(max)s.",
                        total=scoring.points(total),
                        max=scoring.points(set_max),
                    )
                ),
            )
        )
    return problems


def nodes_of(index_set):
    """Return the nodes of a set in the database, in order."""
    nodes = []
    for number, indicator in enumerate(index_set.indicators, start=1):
        nodes.append(
            Node(
                row=number,
                code=indicator.code,
                name=indicator.name,
                max_points=Decimal(str(indicator.max_points)),
                kind=indicator.kind,
                parent_code=indicator.parent.code if indicator.parent else None,
                rule_type=indicator.rule_type,
                rule_params=dict(indicator.rule_params or {}),
                field_code=indicator.field.code if indicator.field else None,
                evidence_required=indicator.evidence_required,
            )
        )
    return nodes


def problems_of_set(index_set):
    """Return every problem of a set in the database (blocking or not)."""
    return check_tree(nodes_of(index_set), index_set.max_points)
