"""Scoring rules: hand-computed points, refusals with their messages, invariants."""

from decimal import Decimal

import pytest
from flask_babel import force_locale
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services import scoring
from app.services.scoring import (
    RuleError,
    check_figures,
    check_params,
    format_params,
    normalise_rule_type,
    parse_params,
    points,
    score,
    score_relative,
)

COUNT_PARAMS = {"thresholds": [[4, 20.0], [3, 15.0], [2, 10.0], [1, 5.0]]}
CHOICE_PARAMS = {
    "options": [["Chủ tịch", 20.0], ["Phó Chủ tịch", 10.0], ["Chưa có", 0.0]]
}
PARTS_PARAMS = {"parts": [["Truyền thanh", 10.0], ["Cổng thông tin", 10.0]]}
LISTED = {"choice": "options", "parts": "parts", "count": "thresholds"}

MODERATE = settings(max_examples=200, deadline=None)


def english(error):
    """Return the English text of a RuleError raised under a request context."""
    with force_locale("en"):
        return str(error.message)


def refusal(call, *args):
    """Return the English message of the RuleError a call raises."""
    with pytest.raises(RuleError) as caught:
        call(*args)
    return english(caught.value)


def is_points(value, maximum):
    """Tell whether a value is Decimal points within 0…maximum, two places at most."""
    return (
        isinstance(value, Decimal)
        and Decimal(0) <= value <= points(maximum)
        and value == value.quantize(Decimal("0.01"))
    )


# --- Points earned by each rule ----------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "20.00"),
        (False, "0.00"),
        ("có", "20.00"),
        ("Không", "0.00"),
        (" yes ", "20.00"),
        ("0", "0.00"),
    ],
)
def test_yes_no_gives_full_points_or_none(value, expected):
    assert score("yes_no", {}, 20, {"value": value}) == Decimal(expected)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("Chủ tịch", "20.00"), ("Phó Chủ tịch", "10.00"), ("Chưa có", "0.00")],
)
def test_choice_gives_the_points_of_the_chosen_option(choice, expected):
    params = check_params(
        "choice", parse_params("choice", "Chủ tịch=20; Phó Chủ tịch=10; Chưa có=0"), 20
    )

    assert score("choice", params, 20, {"choice": choice}) == Decimal(expected)


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "0.00"),
        (1, "5.00"),
        (2, "10.00"),
        (3, "15.00"),
        (4, "20.00"),
        (5, "20.00"),
        (6, "20.00"),
        ("3", "15.00"),
        ("4.0", "20.00"),
    ],
)
def test_count_gives_the_points_of_the_highest_threshold_reached(count, expected):
    params = check_params("count", parse_params("count", "4=20;3=15;2=10;1=5"), 20)

    assert params == COUNT_PARAMS
    assert score("count", params, 20, {"count": count}) == Decimal(expected)


@pytest.mark.parametrize(
    ("a", "b", "maximum", "expected"),
    [
        (3, 4, 20, "15.00"),
        (2, 3, 20, "13.33"),
        (1, 3, 20, "6.67"),
        (0, 5, 20, "0.00"),
        (4, 4, 20, "20.00"),
        ("2,5", "5", 20, "10.00"),
        (1, 8, 1, "0.13"),
    ],
)
def test_ratio_is_a_over_b_times_maximum_rounded_half_up(a, b, maximum, expected):
    assert score("ratio", {}, maximum, {"a": a, "b": b}) == Decimal(expected)


@pytest.mark.parametrize(
    ("a", "b", "maximum", "expected"),
    [(5, 24, 3, "0.63"), (1, 48, 30, "0.63"), (19, 120, 3, "0.48")],
)
def test_ratio_exactly_halfway_rounds_up_even_when_a_over_b_does_not_terminate(
    a, b, maximum, expected
):
    assert score("ratio", {}, maximum, {"a": a, "b": b}) == Decimal(expected)


@pytest.mark.parametrize(
    ("ticked", "expected"),
    [
        ([], "0.00"),
        (["Truyền thanh"], "10.00"),
        (["Cổng thông tin"], "10.00"),
        (["Truyền thanh", "Cổng thông tin"], "20.00"),
        (["Truyền thanh", "Truyền thanh"], "10.00"),
    ],
)
def test_parts_add_the_points_of_each_part_met_once(ticked, expected):
    params = check_params("parts", PARTS_PARAMS, 20)

    assert score("parts", params, 20, {"parts": ticked}) == Decimal(expected)


def test_relative_gives_the_best_the_maximum_and_others_their_share():
    result = score_relative(20, {1: 25, 2: "12.5", 3: 0, 4: Decimal("8.3")})

    assert result == {
        1: Decimal("20.00"),
        2: Decimal("10.00"),
        3: Decimal("0.00"),
        4: Decimal("6.64"),
    }


def test_relative_gives_everyone_zero_when_nobody_is_above_zero():
    assert score_relative(20, {1: 0, 2: "0.0"}) == {
        1: Decimal("0.00"),
        2: Decimal("0.00"),
    }
    assert score_relative(20, {}) == {}


def test_relative_share_exactly_halfway_rounds_up():
    assert score_relative(3, {1: 24, 2: 5}) == {1: Decimal("3.00"), 2: Decimal("0.63")}


def test_relative_answer_is_checked_alone_but_scored_only_for_the_round(ctx):
    assert check_figures("relative", {}, 20, {"value": "12,5"}) is None

    message = refusal(score, "relative", {}, 20, {"value": 12.5})

    assert "computed for the whole round" in message


@pytest.mark.parametrize(
    ("entered", "expected"),
    [(0, "0.00"), (7, "7.00"), ("7,25", "7.25"), ("7.255", "7.26"), (20, "20.00")],
)
def test_manual_keeps_the_points_entered_within_zero_and_maximum(entered, expected):
    assert score("manual", {}, 20, {"points": entered}) == Decimal(expected)


@pytest.mark.parametrize("figures", [{}, {"value": "37 cán bộ"}, None])
def test_not_scored_is_always_worth_zero(figures):
    assert score("not_scored", {}, 0, figures) == Decimal("0.00")


def test_check_figures_returns_the_points_of_other_rules():
    assert check_figures("ratio", {}, 20, {"a": 3, "b": 4}) == Decimal("15.00")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.125, "0.13"), ("1.005", "1.01"), ("2.675", "2.68"), (7, "7.00")],
)
def test_points_round_half_up_to_two_places(value, expected):
    assert points(value) == Decimal(expected)


@pytest.mark.parametrize("value", ["abc", None, "nan", "Infinity", "1e30"])
def test_points_refuse_what_is_not_a_storable_number(ctx, value):
    assert f"{value} is not a number" in refusal(points, value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ratio", "ratio"),
        (" Yes_No ", "yes_no"),
        ("Tỷ lệ", "ratio"),
        ("NGƯỠNG SỐ LƯỢNG", "count"),
        ("không tính điểm", "not_scored"),
        ("nhập tay", "manual"),
        ("bonus", None),
        ("", None),
        (None, None),
    ],
)
def test_rule_type_is_read_from_its_code_or_vietnamese_name(text, expected):
    assert normalise_rule_type(text) == expected


def test_every_rule_type_has_a_name():
    assert set(scoring.RULE_NAMES) == set(scoring.RULE_TYPES)


# --- Parameters as a spreadsheet cell ----------------------------------------


@pytest.mark.parametrize(
    ("rule_type", "text", "expected"),
    [
        ("count", "4=20;3=15;2=10;1=5", COUNT_PARAMS),
        ("count", " 4 = 20 ; 3=15; 2=10; 1=5; ", COUNT_PARAMS),
        (
            "choice",
            "Chủ tịch=20; Phó Chủ tịch=10; Chưa có=0",
            CHOICE_PARAMS,
        ),
        (
            "parts",
            "Truyền thanh=10; Cổng thông tin=10",
            PARTS_PARAMS,
        ),
        ("choice", "a=b=20; c=0", {"options": [["a=b", 20.0], ["c", 0.0]]}),
        ("choice", '{"options": [["a", 20]]}', {"options": [["a", 20]]}),
        ("ratio", "", {}),
        ("ratio", None, {}),
        ("ratio", "{}", {}),
    ],
)
def test_params_are_read_from_label_equals_points_or_json(rule_type, text, expected):
    assert parse_params(rule_type, text) == expected


@pytest.mark.parametrize(
    ("rule_type", "params", "expected"),
    [
        ("count", COUNT_PARAMS, "4=20; 3=15; 2=10; 1=5"),
        ("choice", {"options": [["Đạt", 13.5], ["Chưa", 0.0]]}, "Đạt=13.50; Chưa=0"),
        ("ratio", {}, ""),
        ("yes_no", None, ""),
        (
            "choice",
            {"options": [["a; b", 20.0], ["c", 0.0]]},
            '{"options": [["a; b", 20.0], ["c", 0.0]]}',
        ),
        (
            "parts",
            {"parts": [["{x}", 20.0]]},
            '{"parts": [["{x}", 20.0]]}',
        ),
    ],
)
def test_params_are_written_as_the_cell_parse_params_reads(rule_type, params, expected):
    assert format_params(rule_type, params) == expected


def test_labels_with_semicolons_survive_format_then_parse():
    params = {"options": [["Có; đầy đủ", 20.0], ["Không", 0.0]]}

    assert parse_params("choice", format_params("choice", params)) == params


@pytest.mark.parametrize(
    ("rule_type", "text", "expected"),
    [
        ("choice", '{"options": ', "not valid JSON"),
        ("ratio", "a=1", "Rule ratio takes no parameters"),
        ("manual", "10", "Rule manual takes no parameters"),
        ("choice", "Chủ tịch 20", "Write each option as label=points"),
        ("count", "bốn=20; 1=5", "threshold bốn is not a whole number"),
        ("count", "2.5=20", "threshold 2.5 is not a whole number"),
        ("count", "-1=20", "threshold -1 is not a whole number"),
        ("choice", "Chủ tịch=hai mươi", "hai mươi is not a number"),
    ],
)
def test_unreadable_params_are_refused(ctx, rule_type, text, expected):
    assert expected in refusal(parse_params, rule_type, text)


# --- Parameters checked when an indicator is saved ---------------------------


@pytest.mark.parametrize(
    ("rule_type", "params", "maximum", "expected"),
    [
        ("yes_no", {}, 20, {}),
        ("ratio", None, 20, {}),
        ("manual", {}, "12.5", {}),
        ("relative", {}, 20, {}),
        ("not_scored", {}, 0, {}),
        (
            "count",
            {"thresholds": [["4", 20], [1, "5"]]},
            20,
            {"thresholds": [[4, 20.0], [1, 5.0]]},
        ),
        (
            "choice",
            {"options": [[" a ", 20], ["b", 0]]},
            20,
            {"options": [["a", 20.0], ["b", 0.0]]},
        ),
        (
            "parts",
            {"parts": [("a", 12.5), ("b", 7.5)]},
            20,
            {"parts": [["a", 12.5], ["b", 7.5]]},
        ),
    ],
)
def test_good_params_are_accepted_and_cleaned(rule_type, params, maximum, expected):
    assert check_params(rule_type, params, maximum) == expected


@pytest.mark.parametrize(
    ("rule_type", "params", "maximum", "expected"),
    [
        ("bonus", {}, 20, "Unknown scoring rule bonus. Known rules: yes_no, choice"),
        ("choice", {"options": [["Chủ tịch", 20]]}, 20, "at least two options"),
        (
            "choice",
            {"options": [["Chủ tịch", 10], ["Phó", 5]]},
            20,
            "best option must be worth the maximum, 20.00 points",
        ),
        (
            "parts",
            {"parts": [["a", 10], ["b", 5]]},
            20,
            "parts add up to 15.00 points, not the maximum 20.00",
        ),
        (
            "parts",
            {"parts": [["a", 15], ["b", 15]]},
            20,
            "parts add up to 30.00 points, not the maximum 20.00",
        ),
        (
            "count",
            {"thresholds": [[1, 5], [4, 20]]},
            20,
            "from the highest down",
        ),
        (
            "count",
            {"thresholds": [[4, 15], [2, 10]]},
            20,
            "highest threshold must give the maximum, 20.00 points",
        ),
        (
            "count",
            {"thresholds": [[4, 20], [2, 10], [1, 15]]},
            20,
            "lower count cannot give more points",
        ),
        (
            "count",
            {"thresholds": [[2.5, 20], [1, 5]]},
            20,
            "threshold 2.5 is not a whole number",
        ),
        (
            "choice",
            {"options": [["Chủ tịch", 25], ["Phó", 0]]},
            20,
            "Chủ tịch is worth 25.00 points, outside 0…20.00",
        ),
        (
            "choice",
            {"options": [["Chủ tịch", 20], ["Phó", -1]]},
            20,
            "Phó is worth -1.00 points, outside 0…20.00",
        ),
        ("not_scored", {}, 5, "not-scored indicator must be worth 0 points"),
        ("yes_no", {}, 0, "scored indicator must be worth more than 0 points"),
        ("choice", {}, 0, "scored indicator must be worth more than 0 points"),
        ("ratio", {"options": [["a", 20]]}, 20, "Rule ratio takes no parameters"),
        ("yes_no", {"x": 1}, 20, "Rule yes_no takes no parameters"),
        ("manual", {}, -5, "maximum points cannot be negative"),
        ("manual", {}, "hai mươi", "hai mươi is not a number"),
        ("choice", {}, 20, "Rule choice needs its list of options"),
        ("parts", {"parts": []}, 20, "Rule parts needs its list of parts"),
        (
            "count",
            {"thresholds": [[1, 20]], "extra": 1},
            20,
            "Rule count needs its list of thresholds",
        ),
        (
            "choice",
            {"options": [["a", 20, 1], ["b", 0]]},
            20,
            "needs a label and points",
        ),
        (
            "choice",
            {"options": [["  ", 20], ["b", 0]]},
            20,
            "Every option of the rule needs a label",
        ),
        (
            "choice",
            {"options": [["a", 20], [" a", 0]]},
            20,
            "options of the rule must be different",
        ),
    ],
)
def test_bad_params_are_refused_when_the_indicator_is_saved(
    ctx, rule_type, params, maximum, expected
):
    assert expected in refusal(check_params, rule_type, params, maximum)


# --- Figures refused when an agency answers ----------------------------------


@pytest.mark.parametrize(
    ("rule_type", "params", "figures", "expected"),
    [
        (
            "ratio",
            {},
            {"a": 0, "b": 0},
            "The denominator b is 0: the ratio cannot be computed",
        ),
        (
            "ratio",
            {},
            {"a": 5, "b": 4},
            "The numerator a (5) cannot exceed the denominator b (4)",
        ),
        ("ratio", {}, {"a": -1, "b": 4}, "the numerator a cannot be negative"),
        ("ratio", {}, {"a": 1, "b": "-4"}, "the denominator b cannot be negative"),
        ("ratio", {}, {"a": "ba", "b": 4}, "the numerator a must be a number"),
        ("ratio", {}, {"a": True, "b": 4}, "the numerator a must be a number"),
        ("ratio", {}, {"a": "NaN", "b": 4}, "the numerator a must be a number"),
        ("ratio", {}, {"a": 1}, "Enter the denominator b"),
        ("ratio", {}, {"a": 1, "b": ""}, "Enter the denominator b"),
        ("choice", CHOICE_PARAMS, {"choice": "Bí thư"}, "Choose one of the listed"),
        ("choice", CHOICE_PARAMS, {}, "Choose one of the listed options"),
        ("parts", PARTS_PARAMS, {"parts": ["Báo in"]}, "Unknown part: Báo in"),
        ("parts", PARTS_PARAMS, {"parts": "Truyền thanh"}, "Tick the parts"),
        (
            "manual",
            {},
            {"points": 21},
            "The points (21) cannot exceed the maximum 20.00",
        ),
        ("manual", {}, {"points": -2}, "the points cannot be negative"),
        ("manual", {}, {}, "Enter the points"),
        ("count", COUNT_PARAMS, {"count": 2.5}, "The count must be a whole number"),
        ("count", COUNT_PARAMS, {"count": "ba"}, "the count must be a number"),
        ("count", COUNT_PARAMS, {"count": -1}, "the count cannot be negative"),
        ("yes_no", {}, {"value": "có lẽ"}, "Answer yes or no"),
        ("yes_no", {}, {}, "Answer yes or no"),
        ("yes_no", {}, ["có"], "The figures of this answer are not readable"),
        ("bonus", {}, {"value": 1}, "Unknown scoring rule bonus"),
    ],
)
def test_bad_figures_are_refused_with_a_message_for_the_agency(
    ctx, rule_type, params, figures, expected
):
    assert expected in refusal(score, rule_type, params, 20, figures)


@pytest.mark.parametrize(
    ("figures", "expected"),
    [({}, "Enter the value"), ({"value": -3}, "the value cannot be negative")],
)
def test_bad_relative_values_are_refused(ctx, figures, expected):
    assert expected in refusal(check_figures, "relative", {}, 20, figures)


def test_refusals_read_in_vietnamese_by_default(ctx):
    with pytest.raises(RuleError) as caught:
        score("ratio", {}, 20, {"a": 1, "b": 0})

    assert "Mẫu số b bằng 0" in str(caught.value.message)


# --- Invariants --------------------------------------------------------------

LABELS = st.text(min_size=1, max_size=12).filter(lambda label: label.strip())
MAXIMA = st.integers(1, 100_000).map(lambda cents: Decimal(cents) / 100)


@st.composite
def cents_up_to(draw, maximum, size):
    """Draw `size` amounts in 0…maximum, in cents, highest first."""
    top = int(maximum * 100)
    amounts = draw(st.lists(st.integers(0, top), min_size=size, max_size=size))
    return sorted((Decimal(amount) / 100 for amount in amounts), reverse=True)


@st.composite
def valid_rules(draw):
    """Draw (rule type, params, maximum) that check_params accepts."""
    rule_type = draw(st.sampled_from(scoring.RULE_TYPES))
    if rule_type == "not_scored":
        return rule_type, {}, Decimal(0)

    maximum = draw(MAXIMA)
    if rule_type not in ("choice", "parts", "count"):
        return rule_type, {}, maximum

    size = draw(st.integers(2 if rule_type == "choice" else 1, 5))
    labels = draw(st.lists(LABELS, min_size=size, max_size=size, unique_by=str.strip))
    if rule_type == "choice":
        values = [maximum, *draw(cents_up_to(maximum, size - 1))]
        entries = zip(labels, draw(st.permutations(values)), strict=True)
    elif rule_type == "parts":
        cuts = sorted(draw(cents_up_to(maximum, size - 1)))
        bounds = [Decimal(0), *cuts, maximum]
        shares = [high - low for low, high in zip(bounds, bounds[1:], strict=False)]
        entries = zip(labels, shares, strict=True)
    else:
        thresholds = draw(
            st.lists(st.integers(0, 60), min_size=size, max_size=size, unique=True)
        )
        values = [maximum, *draw(cents_up_to(maximum, size - 1))]
        entries = zip(sorted(thresholds, reverse=True), values, strict=True)
    return rule_type, {LISTED[rule_type]: [list(pair) for pair in entries]}, maximum


FIGURE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(),
    st.decimals(),
    st.text(max_size=8),
    st.sampled_from(["có", "không", "3,5", " 7 ", "1e999999999", "-0"]),
    st.lists(st.text(max_size=6), max_size=3),
)


@st.composite
def figures_for(draw, params):
    """Draw figures of any kind, sometimes naming the rule's own labels."""
    labels = [str(label) for entries in params.values() for label, _value in entries]
    values = FIGURE_VALUES
    if labels:
        values = st.one_of(
            values,
            st.sampled_from(labels),
            st.lists(st.sampled_from(labels), max_size=len(labels)),
        )
    keys = st.sampled_from(["value", "choice", "count", "a", "b", "parts", "points"])
    return draw(st.dictionaries(keys, values, max_size=4))


@MODERATE
@given(data=st.data(), rule=valid_rules())
def test_score_of_any_figures_is_refused_or_within_zero_and_maximum(data, rule):
    rule_type, params, maximum = rule
    cleaned = check_params(rule_type, params, maximum)
    figures = data.draw(figures_for(cleaned))

    try:
        result = score(rule_type, cleaned, maximum, figures)
    except RuleError:
        return
    assert is_points(result, maximum)


LOOSE_ENTRIES = st.lists(
    st.tuples(
        st.one_of(LABELS, st.integers(-5, 60).map(str)),
        st.integers(-2000, 12000).map(lambda cents: Decimal(cents) / 100),
    ),
    max_size=5,
)


@MODERATE
@given(
    rule_type=st.sampled_from(["choice", "parts", "count"]),
    entries=LOOSE_ENTRIES,
    maximum=st.integers(-100, 10_000).map(lambda cents: Decimal(cents) / 100),
)
def test_accepted_params_never_let_a_score_exceed_the_maximum(
    rule_type, entries, maximum
):
    key = LISTED[rule_type]
    try:
        cleaned = check_params(rule_type, {key: [list(e) for e in entries]}, maximum)
    except RuleError:
        return

    values = [points(value) for _label, value in cleaned[key]]
    assert all(Decimal(0) <= value <= maximum for value in values)
    best = sum(values) if rule_type == "parts" else max(values)
    assert best == maximum
    if rule_type == "parts":
        ticked = [label for label, _value in cleaned[key]]
        assert score("parts", cleaned, maximum, {"parts": ticked}) == maximum
    if rule_type == "count":
        for count in range(0, 62):
            assert is_points(
                score("count", cleaned, maximum, {"count": count}), maximum
            )


@MODERATE
@given(rule=valid_rules())
def test_format_then_parse_gives_back_the_same_params(rule):
    rule_type, params, maximum = rule
    cleaned = check_params(rule_type, params, maximum)

    assert parse_params(rule_type, format_params(rule_type, cleaned)) == cleaned


VALUES = st.one_of(
    st.integers(0, 10**9),
    st.decimals(min_value=0, max_value=10**6, places=3),
    st.floats(min_value=0, max_value=1e9),
)


@MODERATE
@given(
    maximum=MAXIMA,
    values=st.dictionaries(st.integers(1, 10_000), VALUES, max_size=30),
)
def test_relative_scores_stay_within_zero_and_maximum_and_the_best_gets_it(
    maximum, values
):
    result = score_relative(maximum, values)

    assert set(result) == set(values)
    assert all(is_points(value, maximum) for value in result.values())
    numbers = {key: Decimal(str(value)) for key, value in values.items()}
    best = max(numbers.values(), default=Decimal(0))
    for key, number in numbers.items():
        if best > 0 and number == best:
            assert result[key] == points(maximum)
        if best <= 0:
            assert result[key] == Decimal("0.00")
