"""The reference and demo data: complete, valid, and loaded only once."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    ActivityLog,
    Agency,
    AgencyLevel,
    Answer,
    AssessmentYear,
    DtiUser,
    Field,
    IndexSet,
    Indicator,
    Phase,
    PhaseKind,
    Submission,
)
from app.services import accounts, index_tree, seeding
from app.services.exceptions import DomainError
from tests.conftest import PASSWORD

COUNTED = (
    Agency,
    AgencyLevel,
    AssessmentYear,
    Phase,
    Field,
    IndexSet,
    Indicator,
    Submission,
    Answer,
    DtiUser,
)


def _counts():
    return {
        model.__name__: db.session.execute(
            select(func.count()).select_from(model)
        ).scalar()
        for model in COUNTED
    }


def test_can_tho_agencies_are_complete(ctx):
    levels = dict(
        db.session.execute(
            select(AgencyLevel.code, func.count(Agency.id))
            .join(Agency, Agency.level_id == AgencyLevel.id)
            .group_by(AgencyLevel.code)
        ).all()
    )
    assert levels == {"department": 20, "district": 9, "commune": 83}

    communes = db.session.execute(
        select(Agency).join(AgencyLevel).where(AgencyLevel.code == "commune")
    ).scalars()
    assert all(commune.parent.level.code == "district" for commune in communes)
    assert factories_agency("31117").parent.name == "Quận Ninh Kiều"


def factories_agency(code):
    return db.session.execute(select(Agency).where(Agency.code == code)).scalar_one()


def test_2022_calendar_follows_the_organisers_letter(ctx):
    year = db.session.execute(select(AssessmentYear).filter_by(year=2022)).scalar_one()
    phases = {phase.kind: phase for phase in year.phases}

    assert (
        phases[PhaseKind.SELF_ASSESSMENT].opens_at.strftime("%d/%m/%Y") == "20/03/2023"
    )
    assert (
        phases[PhaseKind.SELF_ASSESSMENT].closes_at.strftime("%d/%m/%Y") == "15/04/2023"
    )
    assert phases[PhaseKind.APPRAISAL_2].closes_at.strftime("%d/%m/%Y") == "31/05/2023"


def test_current_round_is_open_for_self_assessment_today(ctx):
    from app.services.dashboard import current_phase, current_year

    phase = current_phase(current_year())

    assert phase is not None
    assert phase.kind == PhaseKind.SELF_ASSESSMENT


def test_every_seeded_index_set_is_a_valid_tree_and_says_it_is_illustrative(ctx):
    sets = db.session.execute(select(IndexSet)).scalars().all()

    assert len(sets) == 10
    for index_set in sets:
        assert index_tree.problems_of_set(index_set) == [], index_set.name
        assert "MINH HOẠ" in index_set.source.upper()


def test_seeding_twice_changes_nothing(ctx):
    seeding.load_demo(PASSWORD)
    before = _counts()
    logged = db.session.execute(select(func.count(ActivityLog.id))).scalar()

    seeding.load_reference()
    seeding.load_demo(PASSWORD)

    assert _counts() == before
    assert db.session.execute(select(func.count(ActivityLog.id))).scalar() == logged


def test_demo_round_has_dossiers_at_several_stages(ctx):
    seeding.load_demo(PASSWORD)

    statuses = set(db.session.execute(select(Submission.status)).scalars())

    assert len(statuses) >= 4


def test_default_demo_password_is_refused_in_production(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "DTI_ENV", "production")
    monkeypatch.setitem(app.config, "DTI_DEMO_PASSWORD", "")
    monkeypatch.delenv("FLASK_DEBUG", raising=False)

    with pytest.raises(DomainError, match="DTI_DEMO_PASSWORD"):
        accounts.demo_password()


def test_default_demo_password_is_used_in_development(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "DTI_ENV", "development")
    monkeypatch.setitem(app.config, "DTI_DEMO_PASSWORD", "")

    assert accounts.demo_password() == accounts.DEFAULT_DEMO_PASSWORD
