"""Results: the organiser's live rankings, bands and publications, and the public
results page that shows only what was published."""

from flask import Response, abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import (
    TOTAL,
    Agency,
    AssessmentYear,
    Band,
    Publication,
    PublishedResult,
    Submission,
)
from ..services import charts, dashboard, permissions, result_exports, results
from ..services.exceptions import DomainError
from .base import DtiModelView

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _year_from_request(default=None):
    years = (
        db.session.execute(select(AssessmentYear).order_by(AssessmentYear.year.desc()))
        .scalars()
        .all()
    )
    chosen = request.args.get("year", type=int) or request.form.get("year", type=int)
    year = next((item for item in years if item.id == chosen), None)
    return years, year or default or dashboard.current_year()


def scope_label(scope):
    """Return the words for a ranking scope such as "department:G1"."""
    kind, _sep, rest = scope.partition(":")
    if kind == "department":
        return str(_l("Departments, group %(group)s", group=rest))
    if kind == "district":
        return str(_l("Districts"))
    if kind == "commune" and rest:
        district = db.session.get(Agency, int(rest))
        return str(
            _l("Communes of %(district)s", district=district.name if district else rest)
        )
    if kind == "city":
        return str(_l("Departments and districts"))
    return str(_l("Communes, city-wide"))


def _chart_rows(rows):
    return [
        {
            "label": row.agency.name if hasattr(row, "agency") else row.agency_name,
            "value": row.value,
            "rank": row.rank,
            "band": row.band,
        }
        for row in rows
    ]


class RankingView(BaseView):
    """The organiser's results: recompute, read, export, publish."""

    route_base = "/ranking"
    default_view = "index"
    base_permissions = [
        "can_index",
        "can_recompute",
        "can_export",
        "can_publish",
        "can_agency",
    ]

    @expose("/")
    @has_access
    def index(self):
        years, year = _year_from_request()
        scopes = results.scopes(year) if year else []
        scope = request.args.get("scope") or (scopes[0] if scopes else None)
        node = request.args.get("node") or TOTAL
        rows = results.table(year, scope, node) if scope else []
        user = permissions.current_user()
        publish_scopes = _publish_scopes(year, user) if year else []
        return self.render_template(
            "dti/results/ranking.html",
            years=years,
            year=year,
            scopes=scopes,
            scope=scope,
            node=node,
            nodes=_nodes(year, scope),
            rows=rows,
            chart=charts.ranking_chart(
                _chart_rows(rows), scope_label(scope) if scope else ""
            ),
            scope_label=scope_label,
            publish_scopes=publish_scopes,
            title=_l("Rankings"),
        )

    @expose("/recompute", methods=["POST"])
    @has_access
    def recompute(self):
        _years, year = _year_from_request()
        counts = results.recompute(year)
        flash(
            str(
                _l(
                    "Results of %(year)s recomputed: %(ranks)s ranks.",
                    year=year.year,
                    ranks=counts["ranking"],
                )
            ),
            "success",
        )
        return redirect(url_for(".index", year=year.id))

    @expose("/publish", methods=["POST"])
    @has_access
    def publish(self):
        _years, year = _year_from_request()
        scope = request.form.get("scope", "")
        try:
            publication = results.publish(
                year, scope, permissions.current_user(), request.form.get("reason")
            )
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
            for problem in error.errors[:20]:
                flash(problem, "warning")
        else:
            flash(
                str(
                    _l(
                        "%(scope)s published as version %(version)s.",
                        scope=scope_label(scope),
                        version=publication.version,
                    )
                ),
                "success",
            )
        return redirect(url_for(".index", year=year.id))

    @expose("/export/<kind>/<fmt>")
    @has_access
    def export(self, kind, fmt):
        """Rankings, the score matrix or the gap report, as CSV or XLSX."""
        _years, year = _year_from_request()
        if kind not in ("ranking", "scores", "gap") or fmt not in ("csv", "xlsx"):
            abort(404)
        if kind == "ranking":
            rows = result_exports.ranking_rows(year, request.args.get("scope") or None)
        elif kind == "scores":
            rows = result_exports.score_rows(year)
        else:
            rows = result_exports.gap_rows(year)
        name = f"dti-{year.year}-{kind}"
        if fmt == "csv":
            return result_exports.csv_response(rows, name)
        return Response(
            result_exports.xlsx_bytes(rows, kind),
            mimetype=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )

    @expose("/agency/<int:submission_id>")
    @has_access
    def agency(self, submission_id):
        """One dossier's pillars and rounds, and its trend over the years."""
        submission = db.session.get(Submission, submission_id)
        if submission is None or not permissions.can_see(
            permissions.current_user(), submission
        ):
            abort(404)
        rollup = results.rollup_of(submission)
        pillars = [
            row
            for row in sorted(rollup.values(), key=lambda item: item.node_code)
            if row.tier == 1
        ]
        return self.render_template(
            "dti/results/agency.html",
            submission=submission,
            rollup=rollup,
            pillar_chart=charts.pillar_chart(
                [_pillar_row(row, kind="final_points") for row in pillars],
                _l("Pillars"),
            ),
            comparison_chart=charts.comparison_chart(
                [_comparison_row(row) for row in [*pillars, rollup.get(TOTAL)] if row],
                _l("Self-assessment, round 1 and final"),
            ),
            trend_chart=charts.trend_chart(
                _live_trend(submission.agency_id), _l("Trend")
            ),
            title=_l("Results of an agency"),
        )


def _nodes(year, scope):
    if not year or not scope:
        return []
    return results.node_codes(year, scope)


def _pillar_row(row, kind):
    return {
        "label": row.node_code,
        "points": getattr(row, kind),
        "max_points": row.max_points,
    }


def _comparison_row(row):
    return {
        "label": str(_l("Total")) if row.node_code == TOTAL else row.node_code,
        "self": row.self_points,
        "round1": row.round1_points,
        "final": row.final_points,
        "max_points": row.max_points,
    }


def _live_trend(agency_id):
    rows = db.session.execute(
        select(AssessmentYear.year, results.Ranking.value)
        .join(results.Ranking, results.Ranking.year_id == AssessmentYear.id)
        .where(
            results.Ranking.agency_id == agency_id, results.Ranking.node_code == TOTAL
        )
        .where(results.Ranking.scope.notlike("commune:%"))
        .order_by(AssessmentYear.year)
    ).all()
    return [{"label": str(year), "value": value} for year, value in rows]


def _publish_scopes(year, user):
    """Return the publication scopes the user may publish, with their state."""
    choices = [results.CITY] + [
        f"district:{district_id}"
        for district_id in db.session.execute(
            select(Agency.parent_id).where(Agency.parent_id.isnot(None)).distinct()
        ).scalars()
    ]
    found = []
    for scope in choices:
        if results.why_not_publish(user, scope) is not None:
            continue
        current = results.current_publication(year, scope)
        label = (
            results.CITY if scope == results.CITY else "commune:" + scope.split(":")[1]
        )
        found.append({"scope": scope, "label": scope_label(label), "current": current})
    return found


class BandModelView(DtiModelView):
    """The classification bands of each year (Tốt, Khá…) by minimum DTI value."""

    datamodel = SQLAInterface(Band)
    record_label = _l("Band")
    list_title = _l("Classification bands")
    show_title = _l("Band")
    add_title = _l("Add band")
    edit_title = _l("Edit band")
    list_columns = ["year", "name", "min_value"]
    export_columns = ["year.year", "name", "min_value"]
    search_columns = ["year", "name"]
    base_order = ("min_value", "desc")
    add_columns = ["year", "name", "min_value"]
    edit_columns = add_columns
    label_columns = {
        "year": _l("Assessment year"),
        "year.year": _l("Assessment year"),
        "name": _l("Band"),
        "min_value": _l("Minimum DTI value"),
    }
    description_columns = {
        "min_value": _l(
            "Between 0 and 1: the DTI value (points ÷ maximum) that earns it."
        ),
    }

    def pre_add(self, item):
        _check_band(item)

    def pre_update(self, item):
        _check_band(item)
        super().pre_update(item)


def _check_band(band):
    if band.min_value is None or not 0 <= band.min_value <= 1:
        raise DomainError(_l("The minimum DTI value of a band lies between 0 and 1."))


class PublicationModelView(DtiModelView):
    """Every publication, current or superseded, kept for the record."""

    datamodel = SQLAInterface(Publication)
    list_title = _l("Publications")
    show_title = _l("Publication")
    base_permissions = ["can_list", "can_show", "can_csv"]
    list_columns = [
        "year",
        "scope",
        "version",
        "published_at",
        "published_by",
        "superseded_at",
    ]
    export_columns = [
        "year.year",
        "scope",
        "version",
        "published_at",
        "reason",
        "superseded_at",
    ]
    search_columns = ["year", "scope", "version"]
    base_order = ("published_at", "desc")
    show_columns = [*list_columns, "reason"]
    label_columns = {
        "year": _l("Assessment year"),
        "year.year": _l("Assessment year"),
        "scope": _l("Scope"),
        "version": _l("Version"),
        "published_at": _l("Published on"),
        "published_by": _l("Published by"),
        "superseded_at": _l("Superseded on"),
        "reason": _l("Reason for the correction"),
    }


# --- The public results page ------------------------------------------------------


class ResultsView(BaseView):
    """Published results, open to everyone: no login, nothing unpublished."""

    route_base = "/results"
    default_view = "index"

    @expose("/")
    def index(self):
        years = results.published_years()
        if len(years) == 1:
            return redirect(url_for(".year", year=years[0].year))
        return self.render_template(
            "dti/results/public_index.html", years=years, title=_l("DTI results")
        )

    @expose("/<int:year>")
    def year(self, year):
        assessment = _published_year(year)
        rows = results.published_rows(assessment)
        groups = {}
        for row in rows:
            groups.setdefault(row.ranking_scope, []).append(row)
        sections = [
            {
                "scope": scope,
                "label": scope_label(scope),
                "rows": groups[scope],
                "chart": charts.ranking_chart(
                    _chart_rows(groups[scope]), scope_label(scope)
                ),
            }
            for scope in sorted(groups, key=_scope_order)
        ]
        publications = (
            db.session.execute(
                select(Publication)
                .where(Publication.year_id == assessment.id)
                .order_by(Publication.scope, Publication.version.desc())
            )
            .scalars()
            .all()
        )
        return self.render_template(
            "dti/results/public_year.html",
            year=assessment,
            sections=sections,
            publications=publications,
            title=_l("DTI results %(year)s", year=year),
        )

    @expose("/<int:year>/agency/<int:agency_id>")
    def agency(self, year, agency_id):
        assessment = _published_year(year)
        rows = results.published_rows(assessment, node_code=None, agency_id=agency_id)
        if not rows:
            abort(404)
        own = {}
        for row in rows:
            # One scope is enough for the scores; communes appear in two.
            own.setdefault(row.node_code, row)
        total = own.get(TOTAL)
        pillars = [row for code, row in sorted(own.items()) if code != TOTAL]
        trend = [
            {"label": str(item.year), "value": value}
            for item, value in _published_trend(agency_id)
        ]
        return self.render_template(
            "dti/results/public_agency.html",
            year=assessment,
            scope_label=scope_label,
            total=total,
            ranks=[row for row in rows if row.node_code == TOTAL],
            pillars=pillars,
            pillar_chart=charts.pillar_chart(
                [
                    {
                        "label": row.node_name,
                        "points": row.final_points,
                        "max_points": row.max_points,
                    }
                    for row in pillars
                ],
                _l("Pillars"),
            ),
            comparison_chart=charts.comparison_chart(
                [
                    {
                        "label": row.node_name,
                        "self": row.self_points,
                        "round1": row.round1_points,
                        "final": row.final_points,
                        "max_points": row.max_points,
                    }
                    for row in [*pillars, total]
                    if row is not None
                ],
                _l("Self-assessment, round 1 and final"),
            ),
            trend_chart=charts.trend_chart(trend, _l("DTI value by year")),
            title=total.agency_name if total else _l("DTI results"),
        )


def _scope_order(scope):
    order = {"department": 0, "district": 1, "commune": 2}
    return (order.get(scope.split(":")[0], 3), scope)


def _published_year(number):
    year = db.session.execute(
        select(AssessmentYear).where(AssessmentYear.year == number)
    ).scalar()
    if year is None or year not in results.published_years():
        abort(404)
    return year


def _published_trend(agency_id):
    return db.session.execute(
        select(AssessmentYear, PublishedResult.value)
        .join(Publication, Publication.year_id == AssessmentYear.id)
        .join(PublishedResult, PublishedResult.publication_id == Publication.id)
        .where(
            Publication.superseded_at.is_(None),
            PublishedResult.agency_id == agency_id,
            PublishedResult.node_code == TOTAL,
        )
        .order_by(AssessmentYear.year)
    ).all()
