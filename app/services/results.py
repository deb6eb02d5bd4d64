"""Roll-up, ranking and publication of a year's results.

`recompute` rebuilds a year's results with a handful of set-based statements:
components sum into main indicators, main indicators into pillars, pillars
into the total, each capped at its node's maximum; then every peer group is
ranked with RANK() (ties share a rank and the next one skips: 1, 1, 3).
`publish` copies the rankings into an immutable, dated snapshot.
"""

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Integer,
    Numeric,
    String,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    TOTAL,
    Agency,
    AgencyLevel,
    Answer,
    AssessmentYear,
    Band,
    DepartmentGroup,
    IndexSet,
    Indicator,
    Publication,
    PublishedResult,
    Ranking,
    ScoreRollup,
    Submission,
    SubmissionStatus,
)
from . import activity, clock, notify, permissions
from .exceptions import DomainError, NotAllowed

logger = logging.getLogger(__name__)

SCORES = ("self", "round1", "final")
CITY = "city"
RECOMPUTE_WORK_MEM = "128MB"


def _capped(total, maximum):
    """Return min(total, maximum) in SQL; NULL stays NULL."""
    return case((total > maximum, maximum), else_=total)


# --- Roll-up --------------------------------------------------------------------


def _insert(source):
    columns = [
        "year_id",
        "submission_id",
        "agency_id",
        "node_id",
        "node_code",
        "tier",
        "self_points",
        "round1_points",
        "final_points",
        "max_points",
    ]
    return db.session.execute(insert(ScoreRollup).from_select(columns, source))


def _rollup_pillars(year):
    """Sum components into main indicators (capped), those into pillars (capped).

    One pass over the year's answers: the main-indicator sums are an inline
    subquery, so only pillars and totals are written.
    """
    component = aliased(Indicator)
    main = aliased(Indicator)
    pillar = aliased(Indicator)
    mains = (
        select(
            Answer.submission_id.label("submission_id"),
            component.parent_id.label("main_id"),
            *(
                func.sum(getattr(Answer, f"{kind}_score")).label(kind)
                for kind in SCORES
            ),
        )
        .select_from(Answer)
        .join(component, component.id == Answer.indicator_id)
        .join(Submission, Submission.id == Answer.submission_id)
        .where(Submission.year_id == year.id)
        .group_by(Answer.submission_id, component.parent_id)
        .subquery()
    )
    source = (
        select(
            Submission.year_id,
            mains.c.submission_id,
            Submission.agency_id,
            pillar.id,
            pillar.code,
            literal(1),
            *(
                _capped(
                    func.sum(_capped(mains.c[kind], main.max_points)), pillar.max_points
                )
                for kind in SCORES
            ),
            pillar.max_points,
        )
        .select_from(mains)
        .join(main, main.id == mains.c.main_id)
        .join(pillar, pillar.id == main.parent_id)
        .join(Submission, Submission.id == mains.c.submission_id)
        .group_by(
            Submission.year_id,
            mains.c.submission_id,
            Submission.agency_id,
            pillar.id,
            pillar.code,
            pillar.max_points,
        )
    )
    return _insert(source)


def _rollup_totals(year):
    sums = {kind: func.sum(getattr(ScoreRollup, f"{kind}_points")) for kind in SCORES}
    source = (
        select(
            ScoreRollup.year_id,
            ScoreRollup.submission_id,
            ScoreRollup.agency_id,
            literal(None, type_=Integer),
            literal(TOTAL),
            literal(0),
            *(_capped(sums[kind], IndexSet.max_points) for kind in SCORES),
            IndexSet.max_points,
        )
        .select_from(ScoreRollup)
        .join(Submission, Submission.id == ScoreRollup.submission_id)
        .join(IndexSet, IndexSet.id == Submission.index_set_id)
        .where(ScoreRollup.year_id == year.id, ScoreRollup.tier == 1)
        .group_by(
            ScoreRollup.year_id,
            ScoreRollup.submission_id,
            ScoreRollup.agency_id,
            IndexSet.max_points,
        )
    )
    return _insert(source)


# --- Ranking ----------------------------------------------------------------------


def _scope_expression(within_district):
    """Return the SQL naming the peer group a dossier is ranked in."""
    if within_district:
        return literal("commune:") + cast(Agency.parent_id, String)
    return case(
        (
            AgencyLevel.code == "department",
            literal("department:") + DepartmentGroup.code,
        ),
        (AgencyLevel.code == "district", literal("district")),
        else_=literal("commune"),
    )


def _band_expression(year, value):
    """Return the SQL naming the band a value falls in, from the year's thresholds.

    A year has a handful of bands, so they become one CASE rather than a
    correlated lookup per ranked row.
    """
    limits = db.session.execute(
        select(Band.name, Band.min_value)
        .where(Band.year_id == year.id)
        .order_by(Band.min_value.desc())
    ).all()
    if not limits:
        return literal(None, type_=String)
    return case(
        *((value >= minimum, name) for name, minimum in limits),
        else_=literal(None, type_=String),
    )


def _rank(year, within_district=False):
    scope = _scope_expression(within_district)
    value = func.round(
        cast(ScoreRollup.final_points, Numeric(12, 6)) / ScoreRollup.max_points, 4
    )
    source = (
        select(
            ScoreRollup.year_id,
            ScoreRollup.submission_id,
            ScoreRollup.agency_id,
            scope,
            ScoreRollup.node_code,
            ScoreRollup.final_points,
            ScoreRollup.max_points,
            value,
            func.rank().over(
                partition_by=(scope, ScoreRollup.node_code),
                order_by=ScoreRollup.final_points.desc(),
            ),
            _band_expression(year, value),
        )
        .select_from(ScoreRollup)
        .join(Submission, Submission.id == ScoreRollup.submission_id)
        .join(Agency, Agency.id == ScoreRollup.agency_id)
        .join(AgencyLevel, AgencyLevel.id == Agency.level_id)
        .outerjoin(DepartmentGroup, DepartmentGroup.id == Agency.group_id)
        .where(ScoreRollup.year_id == year.id)
        .where(ScoreRollup.tier <= 1)
        .where(ScoreRollup.final_points.isnot(None))
        .where(Submission.status >= SubmissionStatus.FINALISED)
    )
    if within_district:
        source = source.where(AgencyLevel.code == "commune")
    columns = [
        "year_id",
        "submission_id",
        "agency_id",
        "scope",
        "node_code",
        "points",
        "max_points",
        "value",
        "rank",
        "band",
    ]
    return db.session.execute(insert(Ranking).from_select(columns, source))


STEPS = (
    ("clear", None),
    ("pillars", _rollup_pillars),
    ("totals", _rollup_totals),
    ("rankings", _rank),
    ("district rankings", lambda year: _rank(year, within_district=True)),
)


def recompute(year, progress=None):
    """Rebuild a year's roll-up and rankings; return {"rollup": n, "ranking": n}.

    `progress`, when given, is called with each step's name (the CLI's bar).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        # The roll-up groups a year's answers in memory; the default 4 MB spills
        # that to disk. Only this transaction gets more.
        db.session.execute(text(f"SET LOCAL work_mem = '{RECOMPUTE_WORK_MEM}'"))
    for name, step in STEPS:
        if step is None:
            db.session.execute(delete(Ranking).where(Ranking.year_id == year.id))
            db.session.execute(
                delete(ScoreRollup).where(ScoreRollup.year_id == year.id)
            )
        else:
            step(year)
        if progress is not None:
            progress(name)
    db.session.commit()
    counts = {
        "rollup": _count(ScoreRollup, year),
        "ranking": _count(Ranking, year),
    }
    logger.info("results of %s recomputed: %s", year.year, counts)
    return counts


def _count(model, year):
    return db.session.execute(
        select(func.count()).select_from(model).where(model.year_id == year.id)
    ).scalar()


# --- Reading results ------------------------------------------------------------


def scopes(year):
    """Return the ranking scopes of a year, departments first."""
    found = db.session.execute(
        select(Ranking.scope).where(Ranking.year_id == year.id).distinct()
    ).scalars()
    order = {"department": 0, "district": 1, "commune": 2}
    return sorted(found, key=lambda scope: (order.get(scope.split(":")[0], 3), scope))


def table(year, scope, node_code=TOTAL):
    """Return the live ranking rows of one peer group, best first."""
    return (
        db.session.execute(
            select(Ranking)
            .where(
                Ranking.year_id == year.id,
                Ranking.scope == scope,
                Ranking.node_code == node_code,
            )
            .order_by(Ranking.rank, Ranking.agency_id)
        )
        .scalars()
        .all()
    )


def node_codes(year, scope):
    """Return the node codes ranked in a scope: the total first, then pillars."""
    codes = db.session.execute(
        select(Ranking.node_code)
        .where(Ranking.year_id == year.id, Ranking.scope == scope)
        .distinct()
    ).scalars()
    return sorted(codes, key=lambda code: (code != TOTAL, code))


def rollup_of(submission):
    """Return {node code: ScoreRollup} of one dossier."""
    rows = db.session.execute(
        select(ScoreRollup).where(ScoreRollup.submission_id == submission.id)
    ).scalars()
    return {row.node_code: row for row in rows}


# --- Publication ------------------------------------------------------------------


def scope_submissions(year, scope):
    """Return the dossiers a publication scope covers."""
    statement = (
        select(Submission)
        .join(Agency, Agency.id == Submission.agency_id)
        .join(AgencyLevel, AgencyLevel.id == Agency.level_id)
        .where(Submission.year_id == year.id)
    )
    if scope == CITY:
        statement = statement.where(AgencyLevel.code != "commune")
    else:
        district_id = int(scope.split(":", 1)[1])
        statement = statement.where(Agency.parent_id == district_id)
    return db.session.execute(statement).scalars().all()


def current_publication(year, scope):
    """Return the publication of a scope now in force, or None."""
    return (
        db.session.execute(
            select(Publication)
            .where(
                Publication.year_id == year.id,
                Publication.scope == scope,
                Publication.superseded_at.is_(None),
            )
            .order_by(Publication.version.desc())
        )
        .scalars()
        .first()
    )


def why_not_publish(user, scope):
    """Return why the user may not publish this scope, or None."""
    if user is None:
        return _l("Log in to publish results.")
    if scope == CITY:
        if permissions.has_role(
            user, permissions.Role.ADMIN, permissions.Role.ORGANISER
        ):
            return None
        return _l("Only the organiser publishes the city's results.")
    district_id = int(scope.split(":", 1)[1])
    if permissions.has_role(user, permissions.Role.ADMIN) or (
        permissions.has_role(user, permissions.Role.DISTRICT_ORGANISER)
        and user.agency_id == district_id
    ):
        return None
    return _l("Only the district publishes its communes' results.")


def publish(year, scope, user, reason=None):
    """Publish the finalised results of a scope as a new, immutable version.

    :raises DomainError: when a dossier is not finalised, or a correction of an
        earlier version comes without a reason.
    """
    refusal = why_not_publish(user, scope)
    if refusal is not None:
        raise NotAllowed(refusal)

    dossiers = scope_submissions(year, scope)
    unfinished = [item for item in dossiers if item.status < SubmissionStatus.FINALISED]
    if not dossiers:
        raise DomainError(_l("There are no dossiers to publish."))
    if unfinished:
        raise DomainError(
            _l("%(count)s dossiers are not finalised yet.", count=len(unfinished)),
            errors=[f"{item.agency.code} {item.agency.name}" for item in unfinished],
        )
    previous = current_publication(year, scope)
    reason = (reason or "").strip() or None
    if previous is not None and reason is None:
        raise DomainError(
            _l(
                "Results of this scope are already published: give the reason for "
                "the correction."
            )
        )

    recompute(year)
    moment = clock.now()
    publication = Publication(
        year=year,
        scope=scope,
        version=previous.version + 1 if previous else 1,
        published_at=moment,
        published_by_id=user.id,
        reason=reason,
    )
    db.session.add(publication)
    if previous is not None:
        previous.superseded_at = moment
    db.session.flush()
    copied = _copy_results(publication, year, scope, [item.id for item in dossiers])

    for item in dossiers:
        item.status = SubmissionStatus.PUBLISHED
    activity.record(
        "results.published",
        _l(
            "Results of %(year)s (%(scope)s) published as version %(version)s.",
            year=year.year,
            scope=scope,
            version=publication.version,
        ),
        target=publication,
        changes={
            "reason": {"old": None, "new": reason},
            "rows": {"old": None, "new": copied},
        },
        user=user,
    )
    for agency_id in {item.agency_id for item in dossiers}:
        notify.notify_agency(
            agency_id,
            "results.published",
            _l("The DTI results of %(year)s are published", year=year.year),
            _l("Your agency's scores and rank are on the public results page."),
            link=f"/results/{year.year}",
        )
    db.session.commit()
    notify.deliver()
    logger.info(
        "results of %s (%s) published as version %s by user %s",
        year.year,
        scope,
        publication.version,
        user.id,
    )
    return publication


def _copy_results(publication, year, scope, submission_ids):
    """Copy rankings, roll-up and names into the publication; return the count."""
    level = aliased(AgencyLevel)
    group = aliased(DepartmentGroup)
    district = aliased(Agency)
    node = aliased(Indicator)
    ranking_scope = (
        Ranking.scope.notlike("commune:%")
        if scope == CITY
        else (Ranking.scope == "commune:" + scope.split(":", 1)[1])
    )
    rows = db.session.execute(
        select(
            Ranking,
            ScoreRollup,
            Agency,
            level.code,
            group.code,
            district.name,
            node.name,
        )
        .join(
            ScoreRollup,
            (ScoreRollup.submission_id == Ranking.submission_id)
            & (ScoreRollup.node_code == Ranking.node_code),
        )
        .join(Agency, Agency.id == Ranking.agency_id)
        .join(level, level.id == Agency.level_id)
        .outerjoin(group, group.id == Agency.group_id)
        .outerjoin(district, district.id == Agency.parent_id)
        .outerjoin(node, node.id == ScoreRollup.node_id)
        .where(Ranking.year_id == year.id, Ranking.submission_id.in_(submission_ids))
        .where(ranking_scope)
    ).all()
    for (
        ranking,
        rollup,
        agency,
        level_code,
        group_code,
        district_name,
        node_name,
    ) in rows:
        publication.results.append(
            PublishedResult(
                agency_id=agency.id,
                agency_code=agency.code,
                agency_name=agency.name,
                level_code=level_code,
                group_code=group_code,
                district_name=district_name,
                ranking_scope=ranking.scope,
                node_code=ranking.node_code,
                node_name=node_name or str(_l("Total")),
                self_points=rollup.self_points,
                round1_points=rollup.round1_points,
                final_points=ranking.points,
                max_points=ranking.max_points,
                value=ranking.value,
                rank=ranking.rank,
                band=ranking.band,
            )
        )
    db.session.flush()
    return len(rows)


def published_years():
    """Return the years that have at least one publication in force, newest first."""
    return (
        db.session.execute(
            select(AssessmentYear)
            .where(
                AssessmentYear.id.in_(
                    select(Publication.year_id).where(
                        Publication.superseded_at.is_(None)
                    )
                )
            )
            .order_by(AssessmentYear.year.desc())
        )
        .scalars()
        .all()
    )


def published_rows(year, node_code=TOTAL, agency_id=None):
    """Return the rows in force of a year's publications, best first per scope."""
    statement = (
        select(PublishedResult)
        .join(Publication, Publication.id == PublishedResult.publication_id)
        .where(Publication.year_id == year.id, Publication.superseded_at.is_(None))
    )
    if node_code is not None:
        statement = statement.where(PublishedResult.node_code == node_code)
    if agency_id is not None:
        statement = statement.where(PublishedResult.agency_id == agency_id)
    return (
        db.session.execute(
            statement.order_by(
                PublishedResult.ranking_scope,
                PublishedResult.rank,
                PublishedResult.agency_code,
            )
        )
        .scalars()
        .all()
    )
