"""Index years: a new year in minutes, comparing years, freezing and versions.

A year's index sets may change freely while the year is being prepared. Once
its self-assessment opens they are frozen: changing one takes an explicit new
version, opened with a reason and closed again after the tree checks out, and
both ends are written to the activity log with what changed.
"""

import logging
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import (
    ActivityLog,
    Agency,
    Answer,
    AssessmentYear,
    Band,
    Field,
    IndexSet,
    Indicator,
    IndicatorKind,
    Phase,
    PhaseKind,
    Submission,
    YearStatus,
)
from . import activity, answers, clock, index_tree, scoring
from .exceptions import DomainError

logger = logging.getLogger(__name__)


# --- Freezing and versions ---------------------------------------------------------


def self_assessment_opens(year):
    """Return when the city's self-assessment of a year opens, or None."""
    return db.session.execute(
        select(Phase.opens_at).where(
            Phase.year_id == year.id,
            Phase.kind == PhaseKind.SELF_ASSESSMENT,
            Phase.district_id.is_(None),
        )
    ).scalar()


def is_frozen(index_set):
    """Tell whether a set is frozen: its year runs or its self-assessment opened."""
    year = index_set.year
    if year.status >= YearStatus.OPEN:
        return True
    opens = self_assessment_opens(year)
    return opens is not None and opens <= clock.now()


def check_editable(index_set):
    """Refuse changes to a frozen set that has no open version.

    :raises DomainError: naming the set and how to change it properly.
    """
    if index_set is None or index_set.revision_open or not is_frozen(index_set):
        return
    raise DomainError(
        _l(
            "Index set %(name)s is frozen since its self-assessment opened. Open a new "
            "version with a reason to change it.",
            name=index_set.name,
        )
    )


def snapshot(index_set):
    """Return the set's indicators as plain values, to compare versions later."""
    return [
        {
            "code": indicator.code,
            "name": indicator.name,
            "max_points": str(scoring.points(indicator.max_points)),
            "rule_type": indicator.rule_type,
            "rule_params": indicator.rule_params or {},
            "field": indicator.field.code if indicator.field else None,
            "evidence_required": indicator.evidence_required,
        }
        for indicator in index_set.indicators
    ]


def open_version(index_set, reason):
    """Start a new version of a frozen set, so the organiser may change it."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give the reason for the new version."))
    if index_set.revision_open:
        raise DomainError(
            _l(
                "Version %(version)s of %(name)s is already open.",
                version=index_set.version,
                name=index_set.name,
            )
        )

    index_set.version += 1
    index_set.revision_open = True
    index_set.revision_reason = reason
    activity.record(
        "index_set.version_opened",
        _l(
            "Version %(version)s of index set %(name)s opened: %(reason)s",
            version=index_set.version,
            name=index_set.name,
            reason=reason,
        ),
        target=index_set,
        changes={"snapshot": snapshot(index_set), "reason": reason},
    )
    db.session.commit()
    logger.info("index set %s version %s opened", index_set.id, index_set.version)


def close_version(index_set):
    """Close an open version once the tree checks out; log what changed.

    Scores of answers already given are recomputed under the new rules.
    """
    if not index_set.revision_open:
        raise DomainError(
            _l("No version of index set %(name)s is open.", name=index_set.name)
        )
    problems = index_tree.problems_of_set(index_set)
    if problems:
        raise DomainError(
            _l(
                "Index set %(name)s still has %(count)s problems; fix them first.",
                name=index_set.name,
                count=len(problems),
            ),
            errors=[problem.message for problem in problems],
        )

    opened = (
        db.session.execute(
            select(ActivityLog)
            .where(
                ActivityLog.action == "index_set.version_opened",
                ActivityLog.target_id == index_set.id,
            )
            .order_by(ActivityLog.id.desc())
        )
        .scalars()
        .first()
    )
    before = (opened.changes or {}).get("snapshot", []) if opened else []
    changes = compare_snapshots(before, snapshot(index_set))

    index_set.revision_open = False
    rescored = rescore_set(index_set)
    activity.record(
        "index_set.version_closed",
        _l(
            "Version %(version)s of index set %(name)s closed: %(count)s changes, "
            "%(rescored)s answers rescored.",
            version=index_set.version,
            name=index_set.name,
            count=len(changes),
            rescored=rescored,
        ),
        target=index_set,
        changes={"changes": [change.as_dict() for change in changes]},
    )
    db.session.commit()
    return changes


def rescore_set(index_set):
    """Recompute the self score of every answered component of a set."""
    rows = db.session.execute(
        select(Answer)
        .join(Indicator, Indicator.id == Answer.indicator_id)
        .where(Indicator.index_set_id == index_set.id, Answer.figures.isnot(None))
    ).scalars()
    count = 0
    touched = set()
    for answer in rows:
        try:
            score = answers.score_answer(answer.indicator, answer.figures)
        except scoring.RuleError:
            # Figures the new rule cannot read: the agency must answer again.
            score = None
        if score != answer.self_score:
            answer.self_score = score
            count += 1
            touched.add(answer.submission_id)
    db.session.flush()
    answers.refresh_all_totals(sorted(touched))
    answers.recompute_relative(index_set.year)
    return count


# --- Comparing sets ---------------------------------------------------------------


@dataclass
class Change:
    """One difference between two versions or years of an index set."""

    kind: str  # added, removed, renamed, reweighted, reruled, moved
    code: str
    old: object = None
    new: object = None

    def as_dict(self):
        return {"kind": self.kind, "code": self.code, "old": self.old, "new": self.new}


CHANGE_LABELS = {
    "added": _l("Added"),
    "removed": _l("Removed"),
    "renamed": _l("Renamed"),
    "reweighted": _l("Re-weighted"),
    "reruled": _l("Re-ruled"),
    "refielded": _l("Field changed"),
}


def compare_snapshots(before, after):
    """Return the changes from one list of indicator values to another."""
    old = {row["code"]: row for row in before}
    new = {row["code"]: row for row in after}
    changes = []
    for code, row in new.items():
        if code not in old:
            changes.append(Change("added", code, None, row["name"]))
            continue
        previous = old[code]
        if previous["name"] != row["name"]:
            changes.append(Change("renamed", code, previous["name"], row["name"]))
        if previous["max_points"] != row["max_points"]:
            changes.append(
                Change("reweighted", code, previous["max_points"], row["max_points"])
            )
        if (previous["rule_type"], previous["rule_params"]) != (
            row["rule_type"],
            row["rule_params"],
        ):
            changes.append(
                Change(
                    "reruled",
                    code,
                    _rule_text(previous["rule_type"], previous["rule_params"]),
                    _rule_text(row["rule_type"], row["rule_params"]),
                )
            )
        if previous.get("field") != row.get("field"):
            changes.append(
                Change("refielded", code, previous.get("field"), row["field"])
            )
    for code, row in old.items():
        if code not in new:
            changes.append(Change("removed", code, row["name"], None))
    return sorted(changes, key=lambda change: (_code_key(change.code), change.kind))


def _rule_text(rule_type, params):
    if not rule_type:
        return ""
    text = scoring.format_params(rule_type, params)
    return f"{rule_type}: {text}" if text else rule_type


def _code_key(code):
    """Sort numbers the way the annex reads them: 1.2 before 1.10."""
    return [int(part) if part.isdigit() else part for part in code.split(".")]


def compare_sets(old_set, new_set):
    """Return the changes between two index sets (either may be None)."""
    before = snapshot(old_set) if old_set is not None else []
    after = snapshot(new_set) if new_set is not None else []
    return compare_snapshots(before, after)


def sets_by_target(year):
    """Return {(level code, group code): index set} of a year."""
    sets = db.session.execute(select(IndexSet).where(IndexSet.year_id == year.id))
    return {
        (index_set.level.code, index_set.group.code if index_set.group else None): (
            index_set
        )
        for index_set in sets.scalars()
    }


def compare_years(old_year, new_year):
    """Return [(old set, new set, changes)] for every set of either year."""
    old_sets, new_sets = sets_by_target(old_year), sets_by_target(new_year)
    targets = sorted(
        set(old_sets) | set(new_sets), key=lambda key: (key[0], key[1] or "")
    )
    return [
        (
            old_sets.get(key),
            new_sets.get(key),
            compare_sets(old_sets.get(key), new_sets.get(key)),
        )
        for key in targets
    ]


# --- A new year in minutes -----------------------------------------------------------


def _next_year(moment, years):
    """Return the same date and time `years` later (29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def clone_year(source, year_number, name=None):
    """Copy a year's fields, appraisers, index sets and calendar into a new draft.

    The calendar moves by the difference in years. Nothing of the source changes.
    :raises DomainError: if the target year exists already.
    """
    exists = db.session.execute(
        select(AssessmentYear.id).where(AssessmentYear.year == year_number)
    ).scalar()
    if exists is not None:
        raise DomainError(
            _l("Assessment year %(year)s already exists.", year=year_number)
        )
    shift = year_number - source.year

    target = AssessmentYear(
        year=year_number,
        name=name or source.name.replace(str(source.year), str(year_number)),
        data_start=date(year_number, 1, 1),
        data_end=date(year_number, 12, 31),
        status=YearStatus.DRAFT,
        copied_from=source,
        note=source.note,
    )
    db.session.add(target)
    for phase in source.phases:
        target.phases.append(
            Phase(
                kind=phase.kind,
                district_id=phase.district_id,
                opens_at=_next_year(phase.opens_at, shift),
                closes_at=_next_year(phase.closes_at, shift),
                note=phase.note,
            )
        )

    fields = {}
    for field in db.session.execute(
        select(Field).where(Field.year_id == source.id)
    ).scalars():
        copy = Field(
            year=target,
            code=field.code,
            name=field.name,
            description=field.description,
            appraiser_agency_id=field.appraiser_agency_id,
            appraisers=list(field.appraisers),
        )
        db.session.add(copy)
        fields[field.id] = copy

    sets = db.session.execute(select(IndexSet).where(IndexSet.year_id == source.id))
    for index_set in sets.scalars():
        _clone_set(index_set, target, fields)
    for band in db.session.execute(
        select(Band).where(Band.year_id == source.id)
    ).scalars():
        db.session.add(Band(year=target, name=band.name, min_value=band.min_value))

    db.session.flush()
    activity.record(
        "assessment_year.created",
        _l(
            "Assessment year %(year)s created from %(source)s.",
            year=year_number,
            source=source.year,
        ),
        target=target,
    )
    db.session.commit()
    logger.info("year %s cloned from %s", year_number, source.year)
    return target


def _clone_set(index_set, target, fields):
    copy = IndexSet(
        year=target,
        level_id=index_set.level_id,
        group_id=index_set.group_id,
        name=index_set.name.replace(str(index_set.year.year), str(target.year)),
        source=index_set.source,
        max_points=index_set.max_points,
        note=index_set.note,
    )
    db.session.add(copy)
    copies = {}
    for indicator in index_set.indicators:
        new = Indicator(
            kind=indicator.kind,
            code=indicator.code,
            name=indicator.name,
            position=indicator.position,
            max_points=indicator.max_points,
            field=fields.get(indicator.field_id),
            evidence_required=indicator.evidence_required,
            rule_type=indicator.rule_type,
            rule_params=indicator.rule_params,
            method_text=indicator.method_text,
            evidence_text=indicator.evidence_text,
            data_source=indicator.data_source,
            verifying_unit=indicator.verifying_unit,
            parent=copies.get(indicator.parent_id),
        )
        copy.indicators.append(new)
        copies[indicator.id] = new
    return copy


# --- Opening a round ---------------------------------------------------------------


def open_round(year):
    """Open a year's self-assessment: check every set, then open every dossier.

    :raises DomainError: listing the sets that still have problems.
    """
    sets = db.session.execute(select(IndexSet).where(IndexSet.year_id == year.id))
    sets = sets.scalars().all()
    if not sets:
        raise DomainError(_l("Year %(year)s has no index sets.", year=year.year))

    invalid = []
    for index_set in sets:
        problems = index_tree.problems_of_set(index_set)
        if problems:
            invalid.append(
                str(
                    _l(
                        "%(name)s: %(count)s problems (first: %(first)s)",
                        name=index_set.name,
                        count=len(problems),
                        first=problems[0].message,
                    )
                )
            )
    if invalid:
        raise DomainError(
            _l(
                "Year %(year)s cannot open: some index sets are not valid.",
                year=year.year,
            ),
            errors=invalid,
        )

    opened = 0
    agencies = db.session.execute(select(Agency).where(Agency.active.is_(True)))
    for agency in agencies.scalars():
        has_one = db.session.execute(
            select(Submission.id).where(
                Submission.agency_id == agency.id, Submission.year_id == year.id
            )
        ).scalar()
        if has_one is not None:
            continue
        try:
            answers.open_submission(agency, year)
        except DomainError:
            logger.warning(
                "no index set applies to agency %s in %s", agency.id, year.year
            )
            continue
        opened += 1

    year.status = YearStatus.OPEN
    activity.record(
        "assessment_year.opened",
        _l(
            "Year %(year)s opened: %(count)s dossiers created.",
            year=year.year,
            count=opened,
        ),
        target=year,
    )
    db.session.commit()
    return opened


def component_added(indicator):
    """Give every open dossier of the set an empty answer for a new component."""
    if indicator.kind != IndicatorKind.COMPONENT:
        return
    submissions = db.session.execute(
        select(Submission).where(Submission.index_set_id == indicator.index_set_id)
    ).scalars()
    for submission in submissions:
        submission.answers.append(Answer(indicator=indicator))
    db.session.flush()


def check_component_removable(indicator):
    """Refuse to remove an indicator that answers or children depend on."""
    if indicator.children:
        raise DomainError(
            _l("Indicator %(code)s still has indicators under it.", code=indicator.code)
        )
    answered = db.session.execute(
        select(Answer.id).where(
            Answer.indicator_id == indicator.id, Answer.figures.isnot(None)
        )
    ).first()
    if answered is not None:
        raise DomainError(
            _l(
                "Indicator %(code)s has been answered by agencies and cannot be "
                "removed.",
                code=indicator.code,
            )
        )
    for answer in db.session.execute(
        select(Answer).where(Answer.indicator_id == indicator.id)
    ).scalars():
        db.session.delete(answer)
