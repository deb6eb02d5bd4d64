"""Screens over assessment years, phase calendars, fields and index sets."""

import secrets
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    request,
    session,
    url_for,
)
from flask_appbuilder import action, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectChoice, SelectField

from .. import labels
from ..extensions import db
from ..models import (
    AgencyLevel,
    AssessmentYear,
    DepartmentGroup,
    Field,
    IndexSet,
    Indicator,
    IndicatorKind,
    Phase,
    PhaseExtension,
    YearStatus,
)
from ..services import (
    activity,
    calendar,
    index_io,
    index_tree,
    notify,
    permissions,
    scoring,
    setup,
    years,
)
from ..services.exceptions import DomainError, NotAllowed
from .base import DtiModelView
from .fields import RuleParamsField
from .formatting import format_points
from .forms import (
    CompareForm,
    ConfirmImportForm,
    ImportForm,
    MoveForm,
    NewYearForm,
    ReasonForm,
)


def _label_of(mapping):
    return lambda code: labels.label(mapping, code)


class AssessmentYearModelView(DtiModelView):
    """The yearly rounds: the year assessed, its data period and its state."""

    datamodel = SQLAInterface(AssessmentYear)
    record_label = _l("Assessment year")
    list_title = _l("Assessment years")
    show_title = _l("Assessment year")
    add_title = _l("Add assessment year")
    edit_title = _l("Edit assessment year")

    list_columns = ["year", "name", "data_start", "data_end", "status"]
    search_columns = ["year", "name", "status"]
    base_order = ("year", "desc")
    add_columns = ["year", "name", "data_start", "data_end", "status", "note"]
    edit_columns = add_columns
    show_columns = [*add_columns, "copied_from", "created_on", "changed_on"]
    label_columns = {
        "year": _l("Year assessed"),
        "name": _l("Name"),
        "data_start": _l("Data period from"),
        "data_end": _l("Data period to"),
        "status": _l("State"),
        "note": _l("Note"),
        "copied_from": _l("Copied from"),
        "created_on": _l("Created on"),
        "changed_on": _l("Changed on"),
    }
    description_columns = {
        "year": _l("The calendar year whose figures are assessed, e.g. 2022."),
        "data_start": _l("Figures must describe this period: normally 1 January."),
        "data_end": _l("Normally 31 December of the year assessed."),
        "status": _l(
            "Being prepared: index sets and calendar may change freely. Running: "
            "the round is under way. Closed: results published."
        ),
    }
    formatters_columns = {"status": _label_of(labels.YEAR_STATUS)}
    export_formatters = formatters_columns
    add_form_extra_fields = {
        "status": SelectField(
            _l("State"), choices=labels.choices(labels.YEAR_STATUS), coerce=int
        )
    }
    edit_form_extra_fields = add_form_extra_fields
    search_form_extra_fields = {
        "status": SelectField(_l("State"), choices=labels.choices(labels.YEAR_STATUS))
    }

    base_permissions = [
        *DtiModelView.base_permissions,
        "open_round",
        "copy_year",
        "can_new_year",
        "can_compare",
    ]

    def pre_add(self, item):
        setup.check_year(item)

    def pre_update(self, item):
        setup.check_year(item)
        super().pre_update(item)

    @action(
        "open_round",
        _l("Open the self-assessment"),
        _l(
            "Check every index set of this year and open a dossier for every active "
            "agency?"
        ),
        "fa-play",
        multiple=False,
    )
    def open_round(self, item):
        """Open the year's round once every index set checks out."""
        try:
            opened = years.open_round(item)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
            for problem in error.errors[:20]:
                flash(problem, "warning")
        else:
            flash(
                str(
                    _l(
                        "Year %(year)s is open: %(count)s dossiers created.",
                        year=item.year,
                        count=opened,
                    )
                ),
                "success",
            )
        return redirect(url_for(".show", pk=item.id))

    @action(
        "copy_year",
        _l("Copy to a new year"),
        "",
        "fa-copy",
        multiple=False,
    )
    def copy_year(self, item):
        """Go to the form that copies this year into a new draft year."""
        return redirect(url_for(".new_year", pk=item.id))

    @expose("/new-year/<int:pk>", methods=["GET", "POST"])
    @has_access
    def new_year(self, pk):
        """Copy a year into a new draft: sets, fields, appraisers, calendar."""
        source = self.datamodel.get(pk, self._base_filters)
        if source is None:
            abort(404)
        form = NewYearForm()
        if request.method == "GET":
            form.year.data = source.year + 1
        if form.validate_on_submit():
            try:
                target = years.clone_year(
                    source, form.year.data, form.name.data or None
                )
            except DomainError as error:
                db.session.rollback()
                flash(str(error.message), "danger")
            else:
                flash(
                    str(
                        _l(
                            "Year %(year)s created as a draft from %(source)s.",
                            year=target.year,
                            source=source.year,
                        )
                    ),
                    "success",
                )
                return redirect(url_for(".show", pk=target.id))
        return self.render_template(
            "dti/year/new_year.html", form=form, source=source, title=self.show_title
        )

    @expose("/compare/")
    @has_access
    def compare(self):
        """Show what differs between two years' index sets."""
        all_years = (
            db.session.execute(
                select(AssessmentYear).order_by(AssessmentYear.year.desc())
            )
            .scalars()
            .all()
        )
        form = CompareForm(request.args)
        options = [(year.id, str(year.year)) for year in all_years]
        form.old.choices = options
        form.new.choices = options
        comparison = None
        old = db.session.get(AssessmentYear, form.old.data) if form.old.data else None
        new = db.session.get(AssessmentYear, form.new.data) if form.new.data else None
        if old is None and len(all_years) >= 2:
            old, new = all_years[1], all_years[0]
            form.old.data, form.new.data = old.id, new.id
        if old is not None and new is not None:
            comparison = years.compare_years(old, new)
        return self.render_template(
            "dti/year/compare.html",
            form=form,
            old=old,
            new=new,
            comparison=comparison,
            change_labels=years.CHANGE_LABELS,
            title=_l("Compare index sets"),
        )


class PhaseModelView(DtiModelView):
    """The phase calendar: when each phase of a year opens and closes."""

    datamodel = SQLAInterface(Phase)
    record_label = _l("Phase")
    list_title = _l("Phase calendar")
    show_title = _l("Phase")
    add_title = _l("Add phase")
    edit_title = _l("Edit phase")

    list_columns = ["year", "kind", "district", "opens_at", "closes_at"]
    export_columns = [
        "year.year",
        "kind",
        "district.name",
        "opens_at",
        "closes_at",
        "note",
    ]
    search_columns = ["year", "kind", "district", "opens_at", "closes_at"]
    order_columns = ["year", "kind", "opens_at", "closes_at"]
    base_order = ("opens_at", "asc")
    add_columns = ["year", "kind", "district", "opens_at", "closes_at", "note"]
    edit_columns = add_columns
    label_columns = {
        "year": _l("Assessment year"),
        "year.year": _l("Assessment year"),
        "kind": _l("Phase"),
        "district": _l("District calendar"),
        "district.name": _l("District calendar"),
        "opens_at": _l("Opens"),
        "closes_at": _l("Closes"),
        "note": _l("Note"),
    }
    description_columns = {
        "district": _l(
            "Leave empty for the city's calendar. A district sets its own dates "
            "for its communes' round here."
        ),
        "closes_at": _l("Actions are refused after this moment (local time)."),
    }
    formatters_columns = {"kind": _label_of(labels.PHASE_KIND)}
    export_formatters = formatters_columns
    add_form_extra_fields = {
        "kind": SelectField(
            _l("Phase"), choices=labels.choices(labels.PHASE_KIND), coerce=int
        )
    }
    edit_form_extra_fields = add_form_extra_fields
    search_form_extra_fields = {
        "kind": SelectField(_l("Phase"), choices=labels.choices(labels.PHASE_KIND))
    }

    base_permissions = [*DtiModelView.base_permissions, "can_move"]

    def pre_add(self, item):
        setup.check_phase(item)
        _refuse(calendar.why_not_manage(permissions.current_user(), item.district_id))

    def pre_update(self, item):
        setup.check_phase(item)
        _refuse(calendar.why_not_manage(permissions.current_user(), item.district_id))
        # A running round's dates move only with a reason and a notice to everyone.
        moved = {"opens_at", "closes_at"} & set(activity.changes_of(item))
        if moved and item.year.status >= YearStatus.OPEN:
            raise DomainError(
                _l(
                    "The round of %(year)s is running: use “Move the deadline” so a "
                    "reason is recorded and the agencies are told.",
                    year=item.year.year,
                )
            )
        super().pre_update(item)

    def pre_delete(self, item):
        _refuse(calendar.why_not_manage(permissions.current_user(), item.district_id))
        super().pre_delete(item)

    @expose("/move/<int:pk>", methods=["GET", "POST"])
    @has_access
    def move(self, pk):
        """Move a phase's dates with a reason; every agency it governs is told."""
        phase = self.datamodel.get(pk, self._base_filters)
        if phase is None:
            abort(404)
        form = MoveForm()
        if request.method == "GET":
            form.opens_at.data, form.closes_at.data = phase.opens_at, phase.closes_at
        if form.validate_on_submit():
            try:
                count = calendar.move_phase(
                    phase,
                    form.opens_at.data,
                    form.closes_at.data,
                    form.reason.data,
                    permissions.current_user(),
                )
            except DomainError as error:
                db.session.rollback()
                flash(str(error.message), "danger")
            else:
                flash(
                    str(
                        _l("Deadline moved; %(count)s agencies notified.", count=count)
                    ),
                    "success",
                )
                return redirect(url_for("CampaignView.board", year=phase.year_id))
        return self.render_template(
            "dti/campaign/move.html",
            form=form,
            phase=phase,
            title=_l("Move the deadline"),
        )


def _refuse(reason):
    if reason is not None:
        raise NotAllowed(reason)


class PhaseExtensionModelView(DtiModelView):
    """Later deadlines granted to single agencies, each with its reason."""

    datamodel = SQLAInterface(PhaseExtension)
    record_label = _l("Extension")
    list_title = _l("Extensions")
    show_title = _l("Extension")
    add_title = _l("Grant an extension")
    edit_title = _l("Edit extension")

    list_columns = ["year", "agency", "kind", "closes_at", "reason"]
    export_columns = [
        "year.year",
        "agency.code",
        "agency.name",
        "kind",
        "closes_at",
        "reason",
    ]
    search_columns = ["year", "agency", "kind", "closes_at"]
    base_order = ("closes_at", "desc")
    add_columns = ["year", "agency", "kind", "closes_at", "reason"]
    edit_columns = ["closes_at", "reason"]
    label_columns = {
        "year": _l("Assessment year"),
        "year.year": _l("Assessment year"),
        "agency": _l("Agency"),
        "agency.code": _l("Agency code"),
        "agency.name": _l("Agency"),
        "kind": _l("Phase"),
        "closes_at": _l("New deadline"),
        "reason": _l("Reason"),
    }
    description_columns = {
        "closes_at": _l("Later than the phase's own deadline."),
        "reason": _l("Recorded and sent to the agency with the notice."),
    }
    formatters_columns = {"kind": _label_of(labels.PHASE_KIND)}
    export_formatters = formatters_columns
    add_form_extra_fields = {
        "kind": SelectField(
            _l("Phase"), choices=labels.choices(labels.PHASE_KIND), coerce=int
        )
    }
    search_form_extra_fields = {
        "kind": SelectField(_l("Phase"), choices=labels.choices(labels.PHASE_KIND))
    }

    def pre_add(self, item):
        calendar.check_extension(item, permissions.current_user())
        calendar.announce_extension(item, permissions.current_user())

    def post_add(self, item):
        super().post_add(item)
        notify.deliver()

    def pre_update(self, item):
        calendar.check_extension(item, permissions.current_user())
        calendar.announce_extension(item, permissions.current_user())
        super().pre_update(item)

    def post_update(self, item):
        notify.deliver()


class FieldModelView(DtiModelView):
    """Fields of indicators and which agency appraises each, per year."""

    datamodel = SQLAInterface(Field)
    record_label = _l("Field")
    list_title = _l("Fields")
    show_title = _l("Field")
    add_title = _l("Add field")
    edit_title = _l("Edit field")

    list_columns = ["year", "code", "name", "appraiser_agency"]
    export_columns = [
        "year.year",
        "code",
        "name",
        "appraiser_agency.name",
        "description",
    ]
    search_columns = ["year", "code", "name", "appraiser_agency"]
    base_order = ("code", "asc")
    add_columns = [
        "year",
        "code",
        "name",
        "appraiser_agency",
        "appraisers",
        "description",
    ]
    edit_columns = add_columns
    label_columns = {
        "year": _l("Assessment year"),
        "year.year": _l("Assessment year"),
        "code": _l("Code"),
        "name": _l("Name"),
        "appraiser_agency": _l("Appraising agency"),
        "appraiser_agency.name": _l("Appraising agency"),
        "appraisers": _l("Appraiser accounts"),
        "description": _l("Description"),
    }
    description_columns = {
        "appraiser_agency": _l("The department assigned to appraise this field."),
        "appraisers": _l("Accounts of the appraising agency that appraise this field."),
    }

    def pre_add(self, item):
        setup.check_field(item)

    def pre_update(self, item):
        setup.check_field(item)
        super().pre_update(item)


class IndexSetModelView(DtiModelView):
    """The index set each level (and department group) answers in a year."""

    datamodel = SQLAInterface(IndexSet)
    record_label = _l("Index set")
    list_title = _l("Index sets")
    show_title = _l("Index set")
    add_title = _l("Add index set")
    edit_title = _l("Edit index set")

    list_columns = ["year", "level", "group", "name", "max_points", "version"]
    export_columns = [
        "year.year",
        "level.code",
        "group.code",
        "name",
        "max_points",
        "version",
        "source",
    ]
    search_columns = ["year", "level", "group", "name", "source"]
    order_columns = ["year", "level", "group", "name"]
    base_order = ("name", "asc")
    add_columns = ["year", "level", "group", "name", "max_points", "source", "note"]
    edit_columns = add_columns
    show_columns = [*add_columns, "version", "created_on", "changed_on"]
    label_columns = {
        "year": _l("Assessment year"),
        "year.year": _l("Assessment year"),
        "level": _l("Level"),
        "level.code": _l("Level"),
        "group": _l("Department group"),
        "group.code": _l("Department group"),
        "name": _l("Name"),
        "max_points": _l("Maximum points"),
        "version": _l("Version"),
        "source": _l("Source"),
        "note": _l("Note"),
        "created_on": _l("Created on"),
        "changed_on": _l("Changed on"),
    }
    description_columns = {
        "group": _l("Department sets only: the group of departments this set is for."),
        "max_points": _l("The total the set is built to: 1,000 for most sets."),
        "source": _l(
            "The decision the content comes from, or a note that it is illustrative."
        ),
    }
    formatters_columns = {"max_points": format_points}
    show_template = "dti/index_set/show.html"
    base_permissions = [
        *DtiModelView.base_permissions,
        "can_export",
        "can_import_set",
        "can_new_version",
        "can_close_version",
    ]

    def pre_add(self, item):
        setup.check_index_set(item)

    def pre_update(self, item):
        setup.check_index_set(item)
        years.check_editable(item)
        super().pre_update(item)

    def pre_delete(self, item):
        years.check_editable(item)
        index_io.check_replaceable(item)
        super().pre_delete(item)

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        """The set as a tree, with its totals and every problem found in it."""
        index_set = self.datamodel.get(pk, self._base_filters)
        if index_set is None:
            abort(404)
        widgets = self._show(pk)
        problems = index_tree.problems_of_set(index_set)
        by_code = {}
        for problem in problems:
            by_code.setdefault(problem.row, []).append(problem)
        return self.render_template(
            self.show_template,
            pk=pk,
            title=self.show_title,
            widgets=widgets,
            related_views=self._related_views,
            index_set=index_set,
            problems=problems,
            problems_by_row=by_code,
            frozen=years.is_frozen(index_set),
            rule_names=scoring.RULE_NAMES,
            kinds=IndicatorKind,
        )

    @expose("/export/<int:pk>/<fmt>")
    @has_access
    def export(self, pk, fmt):
        """Download the set in the annex layout, as CSV or XLSX."""
        index_set = self.datamodel.get(pk, self._base_filters)
        if index_set is None or fmt not in ("csv", "xlsx"):
            abort(404)
        name = f"bo-chi-so-{index_set.year.year}-{index_set.level.code}"
        if index_set.group:
            name += f"-{index_set.group.code}"
        if fmt == "csv":
            body = index_io.export_csv(index_set).encode("utf-8")
            mimetype = "text/csv"
        else:
            body = index_io.export_xlsx(index_set)
            mimetype = (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            )
        return Response(
            body,
            mimetype=mimetype,
            headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
        )

    @expose("/new-version/<int:pk>", methods=["GET", "POST"])
    @has_access
    def new_version(self, pk):
        """Open a new version of a frozen set, with the reason for it."""
        index_set = self.datamodel.get(pk, self._base_filters)
        if index_set is None:
            abort(404)
        form = ReasonForm()
        if form.validate_on_submit():
            try:
                years.open_version(index_set, form.reason.data)
            except DomainError as error:
                db.session.rollback()
                flash(str(error.message), "danger")
            else:
                flash(
                    str(
                        _l(
                            "Version %(version)s opened: the set may now be changed.",
                            version=index_set.version,
                        )
                    ),
                    "success",
                )
                return redirect(url_for(".show", pk=index_set.id))
        return self.render_template(
            "dti/index_set/version.html",
            form=form,
            index_set=index_set,
            title=_l("New version of an index set"),
        )

    @expose("/close-version/<int:pk>", methods=["POST"])
    @has_access
    def close_version(self, pk):
        """Freeze the set again once it checks out."""
        index_set = self.datamodel.get(pk, self._base_filters)
        if index_set is None:
            abort(404)
        try:
            changes = years.close_version(index_set)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
            for problem in error.errors[:20]:
                flash(problem, "warning")
        else:
            flash(
                str(
                    _l(
                        "Version %(version)s closed with %(count)s changes.",
                        version=index_set.version,
                        count=len(changes),
                    )
                ),
                "success",
            )
        return redirect(url_for(".show", pk=index_set.id))

    @expose("/import/", methods=["GET", "POST"])
    @has_access
    def import_set(self):
        """Upload a set, see every problem or a preview, then confirm."""
        form = ImportForm()
        self._fill_import_choices(form)
        confirm = ConfirmImportForm()
        result = pending = None

        if request.method == "POST" and "token" in request.form:
            return self._confirm_import(confirm)

        if form.validate_on_submit():
            upload = form.file.data
            data = upload.read()
            try:
                year = db.session.get(AssessmentYear, int(form.year.data))
                result = index_io.import_index_set(
                    data,
                    upload.filename or "upload.csv",
                    year.year,
                    form.level.data,
                    form.group.data or None,
                    dry_run=True,
                )
            except DomainError as error:
                db.session.rollback()
                flash(str(error.message), "danger")
            else:
                if result.ok:
                    pending = self._keep_upload(data, upload.filename, form, year)
                    confirm.token.data = pending["token"]
        return self.render_template(
            "dti/index_set/import.html",
            form=form,
            confirm=confirm,
            result=result,
            pending=pending,
            kinds=IndicatorKind,
            title=_l("Import an index set"),
        )

    def _fill_import_choices(self, form):
        form.year.choices = [
            (str(year.id), str(year.year))
            for year in db.session.execute(
                select(AssessmentYear).order_by(AssessmentYear.year.desc())
            ).scalars()
        ]
        form.level.choices = [
            (level.code, level.name)
            for level in db.session.execute(
                select(AgencyLevel).order_by(AgencyLevel.rank)
            ).scalars()
        ]
        form.group.choices = [("", "–")] + [
            (group.code, str(group))
            for group in db.session.execute(
                select(DepartmentGroup).order_by(DepartmentGroup.code)
            ).scalars()
        ]

    def _imports_dir(self):
        folder = Path(current_app.instance_path) / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _keep_upload(self, data, filename, form, year):
        """Keep a previewed file until it is confirmed, bound to this session."""
        token = secrets.token_urlsafe(16)
        (self._imports_dir() / token).write_bytes(data)
        pending = {
            "token": token,
            "filename": filename or "upload.csv",
            "year": year.year,
            "level": form.level.data,
            "group": form.group.data or None,
            "name": form.name.data or None,
            "source": form.source.data or None,
        }
        session["dti_import"] = pending
        return pending

    def _confirm_import(self, confirm):
        pending = session.get("dti_import")
        if not confirm.validate_on_submit() or not pending:
            abort(400)
        if pending["token"] != confirm.token.data:
            abort(400)

        path = self._imports_dir() / pending["token"]
        if not path.exists():
            flash(str(_l("The previewed file has expired; upload it again.")), "danger")
            return redirect(url_for(".import_set"))
        try:
            result = index_io.import_index_set(
                path.read_bytes(),
                pending["filename"],
                pending["year"],
                pending["level"],
                pending["group"],
                name=pending["name"],
                source=pending["source"],
            )
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
            return redirect(url_for(".import_set"))
        finally:
            path.unlink(missing_ok=True)
            session.pop("dti_import", None)

        if not result.ok:
            flash(str(_l("The file has problems; nothing was imported.")), "danger")
            return redirect(url_for(".import_set"))
        flash(
            str(
                _l(
                    "Index set imported: %(count)s components, %(total)s points.",
                    count=len(result.components),
                    total=format_points(result.total),
                )
            ),
            "success",
        )
        target = index_io.find_set(
            *index_io.find_target(pending["year"], pending["level"], pending["group"])
        )
        return redirect(url_for(".show", pk=target.id))


class IndicatorModelView(DtiModelView):
    """The nodes of every index set: pillars, main and component indicators."""

    datamodel = SQLAInterface(Indicator)
    record_label = _l("Indicator")
    list_title = _l("Indicators")
    show_title = _l("Indicator")
    add_title = _l("Add indicator")
    edit_title = _l("Edit indicator")

    list_columns = ["index_set", "code", "name", "kind", "max_points", "field"]
    export_columns = [
        "index_set.name",
        "code",
        "parent.code",
        "kind",
        "name",
        "max_points",
        "field.code",
        "evidence_required",
        "rule_type",
        "rule_params",
        "method_text",
        "evidence_text",
        "data_source",
        "verifying_unit",
    ]
    search_columns = ["index_set", "code", "name", "field", "rule_type"]
    order_columns = ["code", "name", "max_points"]
    base_order = ("position", "asc")
    page_size = 50
    add_columns = [
        "index_set",
        "parent",
        "kind",
        "code",
        "name",
        "position",
        "max_points",
        "field",
        "evidence_required",
        "rule_type",
        "rule_params",
        "method_text",
        "evidence_text",
        "data_source",
        "verifying_unit",
    ]
    edit_columns = add_columns
    label_columns = {
        "index_set": _l("Index set"),
        "index_set.name": _l("Index set"),
        "parent": _l("Parent"),
        "parent.code": _l("Parent"),
        "kind": _l("Tier"),
        "code": _l("Number"),
        "name": _l("Indicator"),
        "position": _l("Order"),
        "max_points": _l("Maximum points"),
        "field": _l("Field"),
        "field.code": _l("Field"),
        "evidence_required": _l("Evidence required"),
        "rule_type": _l("Scoring rule"),
        "rule_params": _l("Rule parameters"),
        "method_text": _l("Method of scoring"),
        "evidence_text": _l("Evidence"),
        "data_source": _l("Data source"),
        "verifying_unit": _l("Verifying unit"),
    }
    description_columns = {
        "parent": _l(
            "Main indicators sit under a pillar, components under a main one."
        ),
        "code": _l("The number in the official annex, e.g. 1.2."),
        "field": _l(
            "Components only: the field whose appraisers check this indicator."
        ),
        "evidence_required": _l(
            "A scored answer needs either an evidence file or a written explanation."
        ),
        "method_text": _l("The annex's own words on how the points are given."),
    }
    formatters_columns = {
        "kind": _label_of(labels.INDICATOR_KIND),
        "max_points": format_points,
    }
    export_formatters = {
        "kind": _label_of(labels.INDICATOR_KIND),
        "rule_params": lambda params: scoring.format_params("", params),
    }
    add_form_extra_fields = {
        "kind": SelectField(
            _l("Tier"), choices=labels.choices(labels.INDICATOR_KIND), coerce=int
        ),
        "rule_type": SelectField(
            _l("Scoring rule"),
            choices=[SelectChoice("", "–")]
            + [SelectChoice(code, words) for code, words in scoring.RULE_NAMES.items()],
            description=_l("Components only. How the agency's figures become points."),
        ),
        "rule_params": RuleParamsField(
            _l("Rule parameters"),
            description=_l(
                "For a choice or sum of parts: label=points; label=points. For count "
                "thresholds: count=points from the highest down, e.g. 4=20; 3=15."
            ),
        ),
    }
    edit_form_extra_fields = add_form_extra_fields

    def pre_add(self, item):
        self._check(item)

    def post_add(self, item):
        years.component_added(item)
        super().post_add(item)

    def pre_update(self, item):
        self._check(item)
        super().pre_update(item)

    def pre_delete(self, item):
        years.check_editable(item.index_set)
        years.check_component_removable(item)
        super().pre_delete(item)

    def _check(self, item):
        """Check the indicator's place in its set and its rule before saving."""
        years.check_editable(item.index_set)
        setup.check_indicator(item)
        if isinstance(item.rule_params, str):
            item.rule_params = scoring.parse_params(item.rule_type, item.rule_params)
        item.rule_type = item.rule_type or None
        if item.kind == IndicatorKind.COMPONENT and item.rule_type:
            try:
                item.rule_params = (
                    scoring.check_params(
                        item.rule_type, item.rule_params, item.max_points
                    )
                    or None
                )
            except scoring.RuleError as error:
                raise DomainError(
                    _l(
                        "Indicator %(code)s: %(message)s",
                        code=item.code,
                        message=error.message,
                    )
                ) from error
