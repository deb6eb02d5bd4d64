"""Roll-up, ranking and publication, checked against hand-computed results."""

from decimal import Decimal

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import (
    TOTAL,
    Band,
    IndicatorKind,
    Publication,
    PublishedResult,
    Ranking,
    ScoreRollup,
    SubmissionStatus,
)
from app.services import answers, appraisal, results
from app.services.exceptions import DomainError, NotAllowed
from tests import factories


def _components(submission):
    return sorted(
        (a for a in submission.answers if a.indicator.kind == IndicatorKind.COMPONENT),
        key=lambda answer: answer.indicator.position,
    )


def finalise_with(submission, share):
    """Give every component `share` of its maximum as final score; finalise."""
    for answer in _components(submission):
        maximum = Decimal(str(answer.indicator.max_points))
        score = (maximum * Decimal(str(share))).quantize(Decimal("0.01"))
        answer.self_score = answer.round1_score = answer.final_score = score
    submission.status = SubmissionStatus.FINALISED
    db.session.flush()
    answers.refresh_totals(submission)
    return submission


@pytest.fixture
def districts(ctx):
    """Districts 916 and 917 tied at half marks, 918 at 40 %, all finalised."""
    year = factories.submission_of("916").year
    third = answers.open_submission(factories.agency("918"), year)
    finalise_with(factories.submission_of("916"), 0.5)
    finalise_with(factories.submission_of("917"), 0.5)
    finalise_with(third, 0.4)
    return year


def _ranks(year, scope, node=TOTAL):
    return [
        (row.agency.code, row.rank, row.points, row.value)
        for row in results.table(year, scope, node)
    ]


def test_ties_share_a_rank_and_the_next_rank_skips(districts):
    results.recompute(districts)

    assert _ranks(districts, "district") == [
        ("916", 1, Decimal("500.00"), Decimal("0.5000")),
        ("917", 1, Decimal("500.00"), Decimal("0.5000")),
        ("918", 3, Decimal("400.00"), Decimal("0.4000")),
    ]


def test_pillars_are_ranked_too(districts):
    results.recompute(districts)

    pillar = _ranks(districts, "district", "I")
    assert [rank for _code, rank, _points, _value in pillar] == [1, 1, 3]
    maximum = results.rollup_of(factories.submission_of("916"))["I"].max_points
    assert pillar[0][2] == (Decimal(str(maximum)) / 2).quantize(Decimal("0.01"))


def test_roll_up_caps_each_node_at_its_maximum(districts):
    submission = factories.submission_of("916")
    component = _components(submission)[0]
    component.final_score = Decimal(str(component.indicator.max_points)) * 10
    db.session.flush()
    main = component.indicator.parent
    pillar = main.parent
    expected = Decimal(0)
    for sibling in pillar.children:
        total = sum(
            (
                a.final_score
                for a in _components(submission)
                if a.indicator.parent_id == sibling.id
            ),
            Decimal(0),
        )
        expected += min(total, Decimal(str(sibling.max_points)))

    results.recompute(districts)

    rollup = results.rollup_of(submission)
    assert rollup[pillar.code].final_points == min(
        expected, Decimal(str(pillar.max_points))
    )
    assert rollup[pillar.code].final_points < sum(
        (
            a.final_score
            for a in _components(submission)
            if a.indicator.parent.parent_id == pillar.id
        ),
        Decimal(0),
    )
    assert rollup[TOTAL].final_points <= rollup[TOTAL].max_points


def test_departments_rank_within_their_group(ctx):
    year = factories.submission_of("S02").year
    finalise_with(factories.submission_of("S02"), 0.7)  # G2
    finalise_with(factories.submission_of("S06"), 0.6)  # G1
    finalise_with(factories.submission_of("S11"), 0.9)  # G1

    results.recompute(year)

    assert [row[:2] for row in _ranks(year, "department:G1")] == [
        ("S11", 1),
        ("S06", 2),
    ]
    assert [row[:2] for row in _ranks(year, "department:G2")] == [("S02", 1)]


def test_communes_rank_city_wide_and_within_their_district(ctx):
    year = factories.submission_of("31117").year
    finalise_with(factories.submission_of("31117"), 0.8)
    finalise_with(factories.submission_of("31120"), 0.6)
    finalise_with(factories.submission_of("31150"), 0.7)

    results.recompute(year)

    district = factories.agency("31117").parent_id
    expected = [("31117", 1), ("31150", 2), ("31120", 3)]
    assert [row[:2] for row in _ranks(year, "commune")] == expected
    assert [row[:2] for row in _ranks(year, f"commune:{district}")] == expected


def test_only_finalised_dossiers_are_ranked(districts):
    factories.submission_of("917").status = SubmissionStatus.APPRAISAL_2
    db.session.flush()

    results.recompute(districts)

    assert [row[:2] for row in _ranks(districts, "district")] == [
        ("916", 1),
        ("918", 2),
    ]


def test_bands_follow_the_years_thresholds(districts):
    results.recompute(districts)

    bands = {row[0]: row for row in _ranks(districts, "district")}
    ranked = {row.agency.code: row.band for row in results.table(districts, "district")}
    assert ranked == {"916": "Trung bình", "917": "Trung bình", "918": "Yếu"}
    assert set(bands) == {"916", "917", "918"}
    limits = db.session.execute(
        select(Band.name, Band.min_value).where(Band.year_id == districts.id)
    ).all()
    assert len(limits) == 4


def test_recompute_is_set_based_and_repeatable(districts):
    first = results.recompute(districts)
    second = results.recompute(districts)

    assert first == second
    assert (
        first["ranking"]
        == db.session.execute(
            select(db.func.count())
            .select_from(Ranking)
            .where(Ranking.year_id == districts.id)
        ).scalar()
    )


def test_recompute_gives_postgresql_room_to_group_in_memory(districts):
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("work_mem is a PostgreSQL setting; the PostgreSQL pass checks it")
    before = db.session.execute(text("SHOW work_mem")).scalar()

    results.recompute(districts)

    work_mem = db.session.execute(text("SHOW work_mem")).scalar()
    assert before != work_mem == results.RECOMPUTE_WORK_MEM


def test_rank_command(app, districts):
    db.session.commit()

    result = app.test_cli_runner().invoke(
        args=["dti", "rank", "--year", str(districts.year)]
    )

    assert result.exit_code == 0, result.output
    assert "ranks" in result.output


# --- Publication ------------------------------------------------------------------


@pytest.fixture
def city(ctx):
    """Every department and district dossier of the base data, finalised."""
    year = factories.submission_of("S02").year
    for code, share in (
        ("S02", 0.7),
        ("S06", 0.6),
        ("S11", 0.9),
        ("916", 0.5),
        ("917", 0.55),
    ):
        finalise_with(factories.submission_of(code), share)
    return year


def _published(publication):
    return sorted(
        (
            row.ranking_scope,
            row.node_code,
            row.agency_code,
            row.rank,
            row.final_points,
            row.value,
        )
        for row in publication.results
    )


def _live(year, scopes):
    rows = db.session.execute(
        select(Ranking).where(Ranking.year_id == year.id, Ranking.scope.in_(scopes))
    ).scalars()
    return sorted(
        (row.scope, row.node_code, row.agency.code, row.rank, row.points, row.value)
        for row in rows
    )


def test_publication_is_a_snapshot_equal_to_the_recomputed_results(city):
    publication = results.publish(city, results.CITY, factories.user("organiser"))

    scopes = ["department:G1", "department:G2", "district"]
    assert _published(publication) == _live(city, scopes)
    assert publication.version == 1
    assert publication.published_by.username == "organiser"
    assert factories.submission_of("S02").status == SubmissionStatus.PUBLISHED


def test_a_published_snapshot_does_not_change_when_answers_change(city):
    publication = results.publish(city, results.CITY, factories.user("organiser"))
    before = _published(publication)

    submission = factories.submission_of("916")
    for answer in _components(submission):
        answer.final_score = Decimal(0)
    results.recompute(city)

    db.session.expire_all()
    again = db.session.get(Publication, publication.id)
    assert _published(again) == before
    assert _live(city, ["district"]) != [row for row in before if row[0] == "district"]


def test_a_correction_needs_a_reason_and_makes_a_new_version(city):
    first = results.publish(city, results.CITY, factories.user("organiser"))
    submission = factories.submission_of("917")
    appraisal.reopen(submission, factories.user("organiser"), "Sai điểm chỉ số 2.1")
    finalise_with(submission, 0.95)

    with pytest.raises(DomainError):
        results.publish(city, results.CITY, factories.user("organiser"))
    second = results.publish(
        city, results.CITY, factories.user("organiser"), "Sửa điểm Ô Môn"
    )

    assert second.version == 2
    assert second.reason == "Sửa điểm Ô Môn"
    assert first.superseded_at is not None
    old = {row.agency_code: row.rank for row in first.results if row.node_code == TOTAL}
    new = {
        row.agency_code: row.rank for row in second.results if row.node_code == TOTAL
    }
    assert old["917"] == 1 and new["917"] == 1
    assert {row.final_points for row in first.results if row.agency_code == "917"} != {
        row.final_points for row in second.results if row.agency_code == "917"
    }


def test_publishing_needs_every_dossier_finalised(city):
    factories.submission_of("917").status = SubmissionStatus.APPRAISAL_2

    with pytest.raises(DomainError) as raised:
        results.publish(city, results.CITY, factories.user("organiser"))

    assert any("917" in problem for problem in raised.value.errors)
    assert not db.session.execute(select(Publication)).first()


def test_only_the_district_publishes_its_communes(ctx):
    district = factories.agency("916")
    scope = f"district:{district.id}"
    for code in ("31117", "31120", "31150"):
        finalise_with(factories.submission_of(code), 0.5)
    year = factories.submission_of("31117").year

    with pytest.raises(NotAllowed):
        results.publish(year, scope, factories.user("organiser"))
    publication = results.publish(year, scope, factories.user("district_org"))

    assert {row.ranking_scope for row in publication.results} == {
        f"commune:{district.id}"
    }


# --- The public page ---------------------------------------------------------------


def test_public_page_shows_nothing_unpublished(client, city):
    results.recompute(city)
    db.session.commit()

    assert client.get(f"/results/{city.year}").status_code == 404
    assert (
        client.get(
            f"/results/{city.year}/agency/{factories.agency('S02').id}"
        ).status_code
        == 404
    )
    index = client.get("/results/").get_data(as_text=True)
    assert str(city.year) not in index.split("dti-public", 1)[1]


def test_public_page_shows_published_results_without_login(client, city):
    results.publish(city, results.CITY, factories.user("organiser"))
    db.session.commit()

    page = client.get(f"/results/{city.year}")
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    assert "Sở Thông tin và Truyền thông" in html
    assert "<svg" in html
    agency = client.get(f"/results/{city.year}/agency/{factories.agency('S11').id}")
    assert agency.status_code == 200
    assert "<svg" in agency.get_data(as_text=True)
    commune = factories.agency("31117").id
    assert client.get(f"/results/{city.year}/agency/{commune}").status_code == 404


def test_public_page_shows_the_current_version_only(client, city):
    first = results.publish(city, results.CITY, factories.user("organiser"))
    submission = factories.submission_of("S06")
    appraisal.reopen(submission, factories.user("organiser"), "Sửa")
    finalise_with(submission, 0.99)
    results.publish(
        city, results.CITY, factories.user("organiser"), "Cập nhật điểm Sở Công Thương"
    )
    db.session.commit()

    html = client.get(f"/results/{city.year}").get_data(as_text=True)

    assert "0,9900" in html
    assert "Cập nhật điểm Sở Công Thương" in html
    old = db.session.get(Publication, first.id)
    assert old.results and old.superseded_at is not None
    rows = (
        db.session.execute(
            select(PublishedResult).where(PublishedResult.publication_id == first.id)
        )
        .scalars()
        .all()
    )
    assert rows


def test_rollup_rows_exist_for_every_node(districts):
    results.recompute(districts)

    submission = factories.submission_of("916")
    codes = set(results.rollup_of(submission))
    tree = {
        item.code
        for item in submission.index_set.indicators
        if item.kind == IndicatorKind.PILLAR
    }
    assert codes == tree | {TOTAL}
    assert db.session.execute(
        select(db.func.count()).select_from(ScoreRollup)
    ).scalar() >= len(codes)
