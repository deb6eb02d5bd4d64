"""A new year in minutes, comparing years, frozen sets and their versions."""

import io
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    ActivityLog,
    Answer,
    AssessmentYear,
    Field,
    IndexSet,
    Indicator,
    IndicatorKind,
    PhaseKind,
    Submission,
    YearStatus,
)
from app.services import index_io, seeding, years
from app.services.exceptions import DomainError
from tests import factories
from tests.conftest import flashes


def _year(number):
    return db.session.execute(
        select(AssessmentYear).filter_by(year=number)
    ).scalar_one()


def _set(year, level, group=None):
    return index_io.find_set(*index_io.find_target(year, level, group))


DRAFT = 2030


def _draft():
    """Copy 2022 into a year whose calendar lies ahead, so nothing is frozen."""
    return years.clone_year(_year(2022), DRAFT)


# --- New year ----------------------------------------------------------------------


def test_new_year_copies_sets_fields_appraisers_and_calendar(ctx):
    source = _year(2022)
    before = years.snapshot(_set(2022, "district"))

    target = years.clone_year(source, 2023)

    assert target.status == YearStatus.DRAFT
    assert target.copied_from_id == source.id
    assert years.snapshot(_set(2023, "district")) == before
    assert years.compare_years(source, target) == [
        (old, new, []) for old, new, _changes in years.compare_years(source, target)
    ]
    fields = {
        field.code: field
        for field in db.session.execute(
            select(Field).where(Field.year_id == target.id)
        ).scalars()
    }
    assert set(fields) == {"NT", "TC", "HT", "NL", "AT", "CQ", "KT", "XH"}
    indicator = (
        db.session.execute(
            select(Indicator).where(
                Indicator.index_set_id == _set(2023, "district").id,
                Indicator.field_id.isnot(None),
            )
        )
        .scalars()
        .first()
    )
    assert indicator.field.year_id == target.id

    phases = {phase.kind: phase for phase in target.phases}
    assert phases[PhaseKind.SELF_ASSESSMENT].opens_at == datetime(2024, 3, 20)
    assert phases[PhaseKind.APPRAISAL_2].closes_at == datetime(2024, 5, 31, 23, 59)


def test_new_year_leaves_the_old_year_unchanged(ctx):
    source = _year(2022)
    before = years.snapshot(_set(2022, "district"))
    phases = [(phase.kind, phase.opens_at) for phase in source.phases]

    years.clone_year(source, 2023)

    db.session.expire_all()
    assert years.snapshot(_set(2022, "district")) == before
    assert [(phase.kind, phase.opens_at) for phase in _year(2022).phases] == phases


def test_new_year_copies_the_appraiser_assignments(ctx):
    current = _year(seeding.current_round_year())
    target = years.clone_year(current, current.year + 1)

    field = db.session.execute(
        select(Field).filter_by(year_id=target.id, code="NT")
    ).scalar_one()
    assert [user.username for user in field.appraisers] == ["appraiser_nt"]


def test_new_year_refuses_an_existing_year(ctx):
    with pytest.raises(DomainError):
        years.clone_year(_year(2022), seeding.current_round_year())


def test_new_year_command(app, ctx):
    result = app.test_cli_runner().invoke(
        args=["dti", "new-year", "2023", "--from", "2022"]
    )

    assert result.exit_code == 0, result.output
    assert "2023" in result.output
    assert _year(2023).status == YearStatus.DRAFT


def test_new_year_screen(login_as, ctx):
    client = login_as("organiser")
    source = _year(2022)

    response = client.post(
        f"/assessmentyearmodelview/new-year/{source.id}", data={"year": "2023"}
    )

    assert response.status_code == 302
    assert _year(2023).copied_from_id == source.id


# --- Comparing years -------------------------------------------------------------


def test_comparison_names_added_removed_renamed_reweighted_and_reruled(ctx):
    target = _draft()
    new_set = _set(DRAFT, "district")
    by_code = {indicator.code: indicator for indicator in new_set.indicators}
    by_code["1.1"].name = "Tên mới"
    by_code["1.2"].rule_type = "manual"
    by_code["1.2"].rule_params = None
    component = by_code["1.3"]
    component.max_points = 15
    by_code["1.4"].max_points += 5
    removed = [code for code, item in by_code.items() if item.kind == 3][-1]
    new_set.indicators.remove(by_code[removed])
    db.session.flush()

    changes = {
        (change.kind, change.code)
        for _old, new, found in years.compare_years(_year(2022), target)
        if new is not None and new.level.code == "district"
        for change in found
    }

    assert ("renamed", "1.1") in changes
    assert ("reruled", "1.2") in changes
    assert ("reweighted", "1.3") in changes
    assert ("reweighted", "1.4") in changes
    assert ("removed", removed) in changes


def test_compare_screen_lists_the_differences(login_as, ctx):
    target = _draft()
    indicator = _set(DRAFT, "commune").indicators[2]
    indicator.name = "Chỉ số đã đổi tên"
    db.session.commit()
    client = login_as("viewer")

    html = client.get(
        f"/assessmentyearmodelview/compare/?old={_year(2022).id}&new={target.id}"
    ).get_data(as_text=True)

    assert "Chỉ số đã đổi tên" in html


# --- Freezing and versions --------------------------------------------------------


def test_sets_of_a_year_whose_self_assessment_opened_are_frozen(ctx, clock_at):
    current_set = _set(seeding.current_round_year(), "district")
    draft = _draft()
    opens = {phase.kind: phase for phase in draft.phases}[PhaseKind.SELF_ASSESSMENT]

    clock_at(opens.opens_at - timedelta(minutes=1))
    assert not years.is_frozen(_set(DRAFT, "district"))
    clock_at(opens.opens_at)
    assert years.is_frozen(_set(DRAFT, "district"))
    assert years.is_frozen(current_set)


def test_editing_a_frozen_indicator_is_refused_with_the_reason(login_as, ctx):
    indicator = _set(seeding.current_round_year(), "district").indicators[3]
    client = login_as("organiser")

    response = client.post(
        f"/indicatormodelview/edit/{indicator.id}",
        data=_indicator_form(indicator, name="Sửa khi đã khoá"),
    )

    assert response.status_code == 200
    assert any("phiên bản mới" in message for message in flashes(response))
    db.session.expire_all()
    assert db.session.get(Indicator, indicator.id).name != "Sửa khi đã khoá"


def test_new_version_needs_a_reason_and_is_logged_with_what_changed(ctx):
    index_set = _set(seeding.current_round_year(), "district")
    with pytest.raises(DomainError):
        years.open_version(index_set, "  ")

    years.open_version(index_set, "Sửa lỗi chính tả chỉ số 1.1")
    years.check_editable(index_set)
    index_set.indicators[2].name = "Tên đã sửa"
    changes = years.close_version(index_set)

    assert index_set.version == 2
    assert not index_set.revision_open
    assert [(change.kind, change.code) for change in changes] == [
        ("renamed", index_set.indicators[2].code)
    ]
    logged = db.session.execute(
        select(ActivityLog.action, ActivityLog.changes).where(
            ActivityLog.target_type == "index_set",
            ActivityLog.target_id == index_set.id,
        )
    ).all()
    assert [action for action, _changes in logged] == [
        "index_set.version_opened",
        "index_set.version_closed",
    ]
    assert logged[0][1]["reason"] == "Sửa lỗi chính tả chỉ số 1.1"
    assert logged[1][1]["changes"][0]["new"] == "Tên đã sửa"


def test_closing_a_version_rescores_the_answers(ctx):
    year = _year(seeding.current_round_year())
    submission = factories.submission_of("916")
    answer = next(a for a in submission.answers if a.indicator.rule_type == "count")
    answer.figures = {"count": 4}
    answer.self_score = 20
    db.session.flush()
    index_set = answer.indicator.index_set

    years.open_version(index_set, "Giảm điểm ngưỡng cao nhất")
    answer.indicator.rule_params = {"thresholds": [[5, 20], [4, 12], [3, 8], [1, 4]]}
    years.close_version(index_set)

    db.session.refresh(answer)
    assert float(answer.self_score) == 12
    assert year.status >= YearStatus.DRAFT


def test_closing_a_version_refuses_a_broken_tree(ctx):
    index_set = _set(seeding.current_round_year(), "district")
    years.open_version(index_set, "Thử")
    index_set.indicators[2].max_points += 1

    with pytest.raises(DomainError) as raised:
        years.close_version(index_set)

    assert raised.value.errors
    assert index_set.revision_open


# --- Opening a round ---------------------------------------------------------------


def test_an_invalid_set_cannot_be_opened_for_self_assessment(ctx):
    draft = _draft()
    component = next(
        item
        for item in _set(DRAFT, "commune").indicators
        if item.kind == IndicatorKind.COMPONENT
    )
    component.rule_type = None

    with pytest.raises(DomainError) as raised:
        years.open_round(draft)

    assert draft.status == YearStatus.DRAFT
    assert any(component.code in problem for problem in raised.value.errors)


def test_opening_a_round_creates_a_dossier_for_every_active_agency(ctx):
    draft = _draft()

    opened = years.open_round(draft)

    assert opened == 112
    assert draft.status == YearStatus.OPEN
    count = db.session.execute(
        select(func.count())
        .select_from(Submission)
        .where(Submission.year_id == draft.id)
    ).scalar()
    assert count == 112


def test_the_index_set_follows_the_agency_level_and_group(ctx):
    year = _year(seeding.current_round_year())
    expectations = {
        "S02": ("department", "G2"),
        "S06": ("department", "G1"),
        "916": ("district", None),
        "31117": ("commune", None),
    }
    for code, (level, group) in expectations.items():
        submission = factories.submission_of(code)
        assert submission.year_id == year.id
        assert submission.index_set.level.code == level
        assert (
            submission.index_set.group.code if submission.index_set.group else None
        ) == group
        components = {
            indicator.id
            for indicator in submission.index_set.indicators
            if indicator.kind == IndicatorKind.COMPONENT
        }
        assert {answer.indicator_id for answer in submission.answers} == components


# --- Indicators edited in the console -----------------------------------------------


def _indicator_form(indicator, **changes):
    form = {
        "index_set": str(indicator.index_set_id),
        "parent": str(indicator.parent_id or ""),
        "kind": str(indicator.kind),
        "code": indicator.code,
        "name": indicator.name,
        "position": str(indicator.position),
        "max_points": str(indicator.max_points),
        "field": str(indicator.field_id or ""),
        "evidence_required": "y",
        "rule_type": indicator.rule_type or "",
        "rule_params": "",
        "method_text": "",
        "evidence_text": "",
        "data_source": "",
        "verifying_unit": "",
    }
    form.update(changes)
    return form


@pytest.mark.parametrize(
    ("rule_type", "params", "message"),
    [
        ("choice", "Chủ tịch=20", "ít nhất hai phương án"),
        ("count", "1=5; 4=20", "cao nhất"),
        ("parts", "A=5; B=5", "20"),
        ("ratio", "x=1", "không có tham số"),
    ],
)
def test_bad_rule_is_refused_when_the_indicator_is_saved(
    login_as, ctx, rule_type, params, message
):
    years_set = _draft()
    indicator = next(
        item
        for item in _set(DRAFT, "district").indicators
        if item.kind == IndicatorKind.COMPONENT and item.max_points == 20
    )
    db.session.commit()
    client = login_as("organiser")

    response = client.post(
        f"/indicatormodelview/edit/{indicator.id}",
        data=_indicator_form(indicator, rule_type=rule_type, rule_params=params),
    )

    assert response.status_code == 200, years_set
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Indicator, indicator.id).rule_type == indicator.rule_type


def test_good_rule_typed_the_spreadsheet_way_is_saved(login_as, ctx):
    _draft()
    indicator = next(
        item
        for item in _set(DRAFT, "district").indicators
        if item.kind == IndicatorKind.COMPONENT and item.max_points == 20
    )
    db.session.commit()
    client = login_as("organiser")

    response = client.post(
        f"/indicatormodelview/edit/{indicator.id}",
        data=_indicator_form(
            indicator,
            rule_type="choice",
            rule_params="Chủ tịch=20; Phó chủ tịch=10; Không=0",
        ),
    )

    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Indicator, indicator.id)
    assert saved.rule_type == "choice"
    assert saved.rule_params == {
        "options": [["Chủ tịch", 20.0], ["Phó chủ tịch", 10.0], ["Không", 0.0]]
    }


def test_a_component_added_to_a_set_in_use_gets_an_answer_in_every_dossier(ctx):
    index_set = _set(seeding.current_round_year(), "district")
    years.open_version(index_set, "Bổ sung chỉ số")
    main = next(
        item for item in index_set.indicators if item.kind == IndicatorKind.MAIN
    )
    new = Indicator(
        kind=IndicatorKind.COMPONENT,
        code=f"{main.code}.99",
        name="Chỉ số bổ sung",
        max_points=0,
        rule_type="not_scored",
        parent=main,
        position=999,
    )
    index_set.indicators.append(new)
    db.session.flush()

    years.component_added(new)

    answered = db.session.execute(
        select(func.count()).select_from(Answer).where(Answer.indicator_id == new.id)
    ).scalar()
    users = db.session.execute(
        select(func.count())
        .select_from(Submission)
        .where(Submission.index_set_id == index_set.id)
    ).scalar()
    assert answered == users > 0


def test_an_answered_component_cannot_be_removed(ctx):
    submission = factories.submission_of("916")
    answer = submission.answers[0]
    answer.figures = {"value": True}
    db.session.flush()

    with pytest.raises(DomainError):
        years.check_component_removable(answer.indicator)


# --- Import screen ------------------------------------------------------------


def test_import_screen_previews_then_imports(login_as, ctx):
    _draft()
    exported = index_io.export_csv(_set(2022, "commune")).encode("utf-8")
    target = _set(DRAFT, "district")
    db.session.delete(target)
    db.session.commit()
    client = login_as("organiser")
    form = {
        "year": str(_year(DRAFT).id),
        "level": "district",
        "group": "",
        "name": "Bộ chỉ số huyện 2023 (thử)",
        "source": "Tệp thử",
        "file": (io.BytesIO(exported), "bo-chi-so.csv"),
    }

    preview = client.post(
        "/indexsetmodelview/import/", data=form, content_type="multipart/form-data"
    )

    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert _set(DRAFT, "district") is None
    token = html.split('name="token" type="hidden" value="')[1].split('"')[0]

    done = client.post("/indexsetmodelview/import/", data={"token": token})

    assert done.status_code == 302
    imported = _set(DRAFT, "district")
    assert imported.name == "Bộ chỉ số huyện 2023 (thử)"
    assert years.snapshot(imported) == years.snapshot(_set(2022, "commune"))


def test_import_screen_lists_problems_and_writes_nothing(login_as, ctx):
    client = login_as("organiser")
    bad = (
        "STT,Chỉ số/Chỉ số thành phần,Điểm tối đa\nI,Trụ cột,10\n1,Chính,10\n1.1,A,5\n"
    )

    response = client.post(
        "/indexsetmodelview/import/",
        data={
            "year": str(_year(2022).id),
            "level": "commune",
            "group": "",
            "file": (io.BytesIO(bad.encode()), "bad.csv"),
        },
        content_type="multipart/form-data",
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="token"' not in html
    assert "Điểm tối đa" in html
    assert _set(2022, "commune").indicators[1].name != "Chính"


def test_index_set_downloads_as_csv_and_xlsx(login_as, ctx):
    index_set = _set(2022, "district")
    client = login_as("viewer")

    as_csv = client.get(f"/indexsetmodelview/export/{index_set.id}/csv")
    as_xlsx = client.get(f"/indexsetmodelview/export/{index_set.id}/xlsx")

    assert as_csv.get_data().decode("utf-8").startswith("\ufeffSTT,")
    assert as_xlsx.get_data()[:2] == b"PK"


def test_set_page_shows_the_tree_and_its_problems(login_as, ctx):
    index_set = _set(2022, "commune")
    index_set.indicators[3].max_points += 1
    db.session.commit()
    client = login_as("organiser")

    html = client.get(f"/indexsetmodelview/show/{index_set.id}").get_data(as_text=True)

    assert index_set.indicators[3].name in html
    assert "dti-problems" in html


def test_index_set_export_command_then_import_command_round_trip(app, ctx, tmp_path):
    _draft()
    target = _set(DRAFT, "commune")
    db.session.delete(target)
    db.session.commit()
    path = tmp_path / "commune.csv"
    runner = app.test_cli_runner()

    exported = runner.invoke(
        args=[
            "dti",
            "export-index-set",
            "--year",
            "2022",
            "--level",
            "commune",
            "-o",
            str(path),
        ]
    )
    imported = runner.invoke(
        args=[
            "dti",
            "import-index-set",
            str(path),
            "--year",
            str(DRAFT),
            "--level",
            "commune",
        ]
    )

    assert exported.exit_code == 0, exported.output
    assert imported.exit_code == 0, imported.output
    assert years.snapshot(_set(DRAFT, "commune")) == years.snapshot(
        _set(2022, "commune")
    )


def test_import_command_dry_run_writes_nothing(app, ctx, tmp_path):
    path = tmp_path / "set.csv"
    path.write_text(index_io.export_csv(_set(2022, "commune")), encoding="utf-8")
    count = db.session.execute(select(func.count()).select_from(IndexSet)).scalar()

    result = app.test_cli_runner().invoke(
        args=[
            "dti",
            "import-index-set",
            str(path),
            "--year",
            "2022",
            "--level",
            "department",
            "--group",
            "G1",
            "--dry-run",
        ]
    )

    assert result.exit_code == 0, result.output
    assert "would import" in result.output
    assert (
        db.session.execute(select(func.count()).select_from(IndexSet)).scalar() == count
    )


def test_a_year_page_offers_the_copy_to_a_new_year(login_as, ctx):
    client = login_as("organiser")
    year = _year(2022)

    page = client.get(f"/assessmentyearmodelview/show/{year.id}").get_data(as_text=True)
    response = client.post(f"/assessmentyearmodelview/action/copy_year/{year.id}")

    assert "copy_year" in page
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/new-year/{year.id}")
