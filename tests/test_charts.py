"""Charts are well-formed, self-contained SVG with escaped Vietnamese labels."""

import xml.etree.ElementTree as ElementTree
from decimal import Decimal

import pytest
from markupsafe import Markup

from app.services import charts

NASTY = 'Sở <script>x</script> & "Nội vụ"'


def _svg(markup):
    """Parse a chart; fail the test if it is not well-formed XML."""
    assert isinstance(markup, Markup)
    return ElementTree.fromstring(str(markup))


def _texts(root):
    return ["".join(node.itertext()) for node in root.iter("text")]


def _bars(root, css="bar"):
    return [node for node in root.iter("rect") if node.get("class") == css]


def _ranking():
    return charts.ranking_chart(
        [
            {"label": "Sở Thông tin và Truyền thông", "value": 0.8, "rank": 1},
            {"label": NASTY, "value": 0.4, "rank": 2, "band": "Khá"},
        ],
        "Xếp hạng sở, ban, ngành",
    )


def _pillars():
    return charts.pillar_chart(
        [
            {"label": "Chính quyền số", "points": 150, "max_points": 200},
            {"label": NASTY, "points": 25, "max_points": 100},
        ],
        "Điểm theo trụ cột",
    )


def _comparison():
    return charts.comparison_chart(
        [
            {
                "label": "Nhận thức số",
                "self": 90,
                "round1": None,
                "final": 45,
                "max_points": 100,
            },
            {"label": NASTY, "self": 20, "round1": 10, "final": 10, "max_points": 50},
        ],
        "Tự chấm và thẩm định",
    )


def _trend():
    return charts.trend_chart(
        [{"label": "2024", "value": 0.6}, {"label": NASTY, "value": 0.3}],
        "Chỉ số DTI qua các năm",
    )


CHARTS = [_ranking, _pillars, _comparison, _trend]


@pytest.mark.parametrize("draw", CHARTS)
def test_chart_is_accessible_self_contained_svg(ctx, draw):
    markup = draw()
    root = _svg(markup)

    assert root.tag == "svg"
    assert root.get("role") == "img"
    assert root.get("viewBox").startswith("0 0 ")
    assert root.find("title").text
    assert "http" not in markup
    assert "<script" not in markup


@pytest.mark.parametrize("draw", CHARTS)
def test_chart_labels_stay_text(ctx, draw):
    markup = draw()
    root = _svg(markup)

    assert NASTY in _texts(root)
    assert "&lt;script&gt;" in markup
    assert "&amp;" in markup


def test_ranking_chart_shows_rank_label_and_value_with_decimal_comma(ctx):
    root = _svg(_ranking())

    texts = _texts(root)
    assert root.find("title").text == "Xếp hạng sở, ban, ngành"
    assert texts[1:4] == ["1", "Sở Thông tin và Truyền thông", "0,8000"]
    assert "0,4000 · Khá" in texts


def test_ranking_bars_are_proportional_to_the_values(ctx):
    widths = [float(bar.get("width")) for bar in _bars(_svg(_ranking()))]

    assert len(widths) == 2
    assert widths[0] == pytest.approx(2 * widths[1])


def test_ranking_value_accepts_decimals(ctx):
    root = _svg(
        charts.ranking_chart(
            [{"label": "Quận Ninh Kiều", "value": Decimal("0.7849"), "rank": 1}],
            "Quận, huyện",
        )
    )

    assert "0,7849" in _texts(root)


def test_pillar_chart_draws_points_inside_the_maximum(ctx):
    root = _svg(_pillars())

    outlines = [float(bar.get("width")) for bar in _bars(root, "max")]
    fills = [float(bar.get("width")) for bar in _bars(root)]
    assert outlines[0] == pytest.approx(2 * outlines[1])
    assert fills[0] == pytest.approx(6 * fills[1])
    assert fills[0] == pytest.approx(outlines[0] * 150 / 200)
    assert "150 / 200" in _texts(root)
    assert "25 / 100" in _texts(root)


def test_comparison_chart_leaves_a_missing_score_out(ctx):
    root = _svg(_comparison())

    widths = [float(bar.get("width")) for bar in _bars(root)]
    # Nhận thức số has no round-1 score: two bars, not a bar of zero.
    assert len(widths) == 5
    assert widths[0] == pytest.approx(2 * widths[1])
    texts = _texts(root)
    assert ["Tự đánh giá", "Thẩm định vòng 1", "Điểm chính thức"] == texts[1:4]
    assert "–" in texts
    assert len(_bars(root, "legend")) == 3


def test_comparison_series_differ_by_pattern(ctx):
    root = _svg(_comparison())

    fills = {bar.get("fill") for bar in _bars(root, "legend")}
    assert len(fills) == 3
    assert sum(fill.startswith("url(#") for fill in fills) == 2
    assert len(list(root.iter("pattern"))) == 2


def test_trend_chart_heights_follow_the_values(ctx):
    root = _svg(_trend())

    heights = [float(bar.get("height")) for bar in _bars(root)]
    assert heights[0] == pytest.approx(2 * heights[1])
    assert {"0,6", "0,3", "2024"} <= set(_texts(root))


def test_two_charts_on_one_page_use_different_ids(ctx):
    first, second = _svg(_comparison()), _svg(_comparison())

    assert first.find("title").get("id") != second.find("title").get("id")


@pytest.mark.parametrize(
    "draw",
    [
        charts.ranking_chart,
        charts.pillar_chart,
        charts.comparison_chart,
        charts.trend_chart,
    ],
)
def test_empty_chart_says_there_is_no_data(ctx, draw):
    markup = draw([], "Không có đơn vị <b>")
    root = _svg(markup)

    assert _texts(root) == ["Không có đơn vị <b>", "Không có dữ liệu để hiển thị."]
    assert not _bars(root)


def test_a_long_label_is_cut_and_kept_whole_in_the_row_title(ctx):
    label = "Ủy ban nhân dân phường Cái Khế, quận Ninh Kiều, thành phố Cần Thơ"

    root = _svg(charts.ranking_chart([{"label": label, "value": 0.5, "rank": 1}], "X"))

    shown = _texts(root)[2]
    assert shown.endswith("…")
    assert label.startswith(shown[:-1])
    assert len(shown) == charts.LABEL_CHARACTERS
    assert root.find("g/title").text == f"1 {label}: 0,5000"
