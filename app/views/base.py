"""The ModelView every DTI screen builds on.

It adds what FAB leaves out: the row scope of `services.permissions` on every
list, show, edit, delete, form dropdown and export; a CSV export of the filtered
list; a cap on the page size; dd/mm/yyyy dates; refusals that keep what the user
typed; and an activity-log entry for every add, edit and delete.
"""

import logging

from flask import abort, current_app, flash, request
from flask_appbuilder import ModelView, expose
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.urltools import get_filter_args, get_order_args
from flask_appbuilder.widgets import ListWidget
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, DateTime, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import joinedload
from wtforms import StringField

from ..extensions import db
from ..models import Agency
from ..services import activity, permissions
from ..services.csv_export import stream_csv
from ..services.exceptions import DomainError
from .fields import DateField, DateTimeField, date_validators
from .formatting import blank_if_none, format_date, format_datetime

logger = logging.getLogger(__name__)


class ScopeFilter(BaseFilter):
    """Keep only the rows the current user may see (see services.permissions)."""

    name = "row scope"

    def apply(self, query, value):
        condition = permissions.row_scope(self.model, permissions.current_user())
        if condition is None:
            return query
        return query.filter(condition)


SCOPE = [["id", ScopeFilter, None]]


class FilterRelatedText(BaseFilter):
    """Filter a relation by text typed against the related record's own words.

    FAB's relation filter renders a dropdown of every related row; with 12,500
    agencies (or a million answers) that page would never load. The related
    model's `search_text(value)` says what the text matches.
    """

    name = _l("Matches")
    arg_name = "rt"

    def apply(self, query, value):
        value = (value or "").strip()
        if not value:
            return query
        relation = getattr(self.model, self.column_name).property
        target = relation.mapper.class_
        (local, remote), *_rest = relation.local_remote_pairs
        matching = select(remote).where(target.search_text(value))
        return query.filter(local.in_(matching))


class EagerInterface(SQLAInterface):
    """FAB's data interface, loading the list's related rows in the same query.

    Without it every related object shown in a list is fetched on first use:
    one query per row, more as the page grows.
    """

    def __init__(self, obj, options=()):
        super().__init__(obj)
        self.options = list(options)

    def query(
        self,
        filters=None,
        order_column="",
        order_direction="",
        page=None,
        page_size=None,
        select_columns=None,
        outer_default_load=False,
    ):
        query = self.session.query(self.obj)
        count = self.query_count(query, filters, select_columns)
        query = self.apply_all(
            query.options(*self.options),
            filters,
            order_column,
            order_direction,
            page,
            page_size,
            select_columns,
            outer_default_load,
        )
        return count, query.all()

    def apply_order_by(self, query, order_column, order_direction, **kwargs):
        """Sort by a many-to-one relation through the related row's label column.

        FAB passes the relation itself to ORDER BY, which SQLAlchemy refuses.
        """
        relation = self.obj.__mapper__.relationships.get(order_column or "")
        if relation is not None and relation.direction.name == "MANYTOONE":
            order_column = f"{order_column}.{sort_column(relation.mapper.class_)}"
        return super().apply_order_by(query, order_column, order_direction, **kwargs)


def sort_column(model):
    """Return the column a list sorts by when it sorts by a relation to `model`."""
    explicit = getattr(model, "sort_column", None)
    if isinstance(explicit, str):
        return explicit

    for name in ("name", "year", "username", "code"):
        if name in model.__table__.columns:
            return name
    return model.__mapper__.primary_key[0].key


class DtiListWidget(ListWidget):
    """FAB's list table with an export button in its header."""

    template = "dti/widgets/list.html"


class DtiModelView(ModelView):
    """Base for every console ModelView; see the module docstring."""

    list_widget = DtiListWidget
    page_size = 25
    # FAB's own file download ignores row scopes, so no view offers it; views
    # with @action add the action's name here.
    base_permissions = [
        "can_list",
        "can_show",
        "can_add",
        "can_edit",
        "can_delete",
        "can_csv",
    ]
    # Columns exported to CSV: plain or dotted ("agency.name"); defaults to the list.
    export_columns = None
    # Python formatters for exported values, by column (enum codes to labels…).
    export_formatters = None
    # Human name of one record, for activity-log summaries.
    record_label = _l("Record")

    def __init__(self, **kwargs):
        # FAB builds its forms and filters in __init__, so these come first.
        model = self.datamodel.obj
        if permissions.is_scoped(model):
            self.base_filters = list(self.base_filters or []) + SCOPE
        self._scope_relation_fields()
        self._date_fields()
        self._text_search_fields()
        self._eager_list()
        super().__init__(**kwargs)
        self._date_formatters()
        self._text_search_filters()

    # --- Set-up -----------------------------------------------------------

    def _scope_relation_fields(self):
        """Limit every relation dropdown to the rows the user may see."""
        for relation in self.datamodel.obj.__mapper__.relationships:
            if not permissions.is_scoped(relation.mapper.class_):
                continue
            for attribute in (
                "add_form_query_rel_fields",
                "edit_form_query_rel_fields",
                "search_form_query_rel_fields",
            ):
                fields = dict(getattr(self, attribute) or {})
                fields[relation.key] = list(fields.get(relation.key, [])) + SCOPE
                setattr(self, attribute, fields)

    def _eager_list(self):
        """Join the many-to-one relations the list shows into its one query."""
        model = self.datamodel.obj
        relations = model.__mapper__.relationships
        options = [
            joinedload(getattr(model, column))
            for column in self.list_columns or []
            if column in relations and relations[column].direction.name == "MANYTOONE"
        ]
        self.datamodel = EagerInterface(model, options)

    def _text_relations(self):
        """Return the searched relations whose target is searched by text."""
        names = []
        for column in self.search_columns or []:
            relation = self.datamodel.obj.__mapper__.relationships.get(column)
            if relation is None or relation.direction.name != "MANYTOONE":
                continue
            if hasattr(relation.mapper.class_, "search_text"):
                names.append(column)
        return names

    def _text_search_fields(self):
        """Give text-searched relations a text box instead of a dropdown."""
        fields = dict(self.search_form_extra_fields or {})
        for column in self._text_relations():
            fields.setdefault(
                column,
                StringField(
                    self.label_columns.get(column, column)
                    if self.label_columns
                    else column
                ),
            )
        self.search_form_extra_fields = fields

    def _text_search_filters(self):
        """Replace FAB's dropdown filters of those relations by a text filter."""
        for column in self._text_relations():
            text_filter = FilterRelatedText(column, self.datamodel)
            self._filters._search_filters[column] = [text_filter]
            self._filters._all_filters[column] = [text_filter]

    def _date_fields(self):
        """Type dates as dd/mm/yyyy in every add and edit form."""
        labels = self.label_columns or {}
        descriptions = self.description_columns or {}
        for attribute in ("add_form_extra_fields", "edit_form_extra_fields"):
            extra = dict(getattr(self, attribute) or {})
            for column in self.datamodel.obj.__table__.columns:
                if column.key in extra:
                    continue
                if isinstance(column.type, DateTime):
                    field_class = DateTimeField
                elif isinstance(column.type, Date):
                    field_class = DateField
                else:
                    continue
                extra[column.key] = field_class(
                    labels.get(column.key, column.key),
                    validators=date_validators(column.nullable),
                    description=descriptions.get(column.key, ""),
                )
            setattr(self, attribute, extra)

    def _date_formatters(self):
        """Show dates as dd/mm/yyyy and empty values as blanks, not "None"."""
        formatters = dict(self.formatters_columns or {})
        for column in self.datamodel.obj.__table__.columns:
            if column.key in formatters:
                continue
            if isinstance(column.type, DateTime):
                formatters[column.key] = format_datetime
            elif isinstance(column.type, Date):
                formatters[column.key] = format_date
            elif column.nullable:
                formatters[column.key] = blank_if_none
        for relation in self.datamodel.obj.__mapper__.relationships:
            formatters.setdefault(relation.key, blank_if_none)
        self.formatters_columns = formatters

    # --- Lists ------------------------------------------------------------

    def _get_list_widget(self, filters, page_size=None, **kwargs):
        """Cap the page size: a URL asking for 100,000 rows gets the cap."""
        limit = current_app.config.get("DTI_LIST_MAX_PAGE_SIZE", 100)
        page_size = page_size or self.page_size
        page_size = max(1, min(page_size, limit))
        return super()._get_list_widget(filters, page_size=page_size, **kwargs)

    # --- CSV export -------------------------------------------------------

    @expose("/csv/")
    @has_access
    def csv(self):
        """Stream every row the current search and filters select, as CSV."""
        get_filter_args(self._filters)
        joined = self._filters.get_joined_filters(self._base_filters)
        order_column, order_direction = get_order_args().get(
            self.__class__.__name__, ("", "")
        )
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order

        query = self.datamodel.session.query(self.datamodel.obj)
        query = self.datamodel.apply_all(query, joined, order_column, order_direction)
        if not self._narrows(joined):
            # Nothing to narrow: export the table without matching ids.
            query = None
        columns = self.export_columns or self.list_columns
        labels = [str(self.label_columns.get(column, column)) for column in columns]
        name = self.route_base.strip("/").replace("/", "-") or "export"
        return stream_csv(
            query,
            self.datamodel.obj,
            columns,
            labels,
            filename=name,
            formatters=self.export_formatters,
            order=(order_column, order_direction),
        )

    def _narrows(self, filters):
        """Tell whether any filter (or the user's row scope) limits the rows."""
        user = permissions.current_user()
        for active in filters.filters:
            if not isinstance(active, ScopeFilter):
                return True
            if permissions.row_scope(self.datamodel.obj, user) is not None:
                return True
        return False

    # --- Forms that keep what was typed -----------------------------------

    def _add(self):
        """Add a record; a refusal re-shows the form with the user's input."""
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        form = self.add_form.refresh()
        if request.method != "POST":
            self.update_redirect()
            return self._get_add_widget(form=form, exclude_cols=exclude_cols)

        self._fill_form_exclude_cols(exclude_cols, form)
        if not form.validate():
            return self._get_add_widget(form=form, exclude_cols=exclude_cols)

        self.process_form(form, True)
        item = self.datamodel.obj()
        try:
            form.populate_obj(item)
            self.pre_add(item)
            db.session.add(item)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "danger")
            return self._get_add_widget(form=form, exclude_cols=exclude_cols)
        except IntegrityError:
            db.session.rollback()
            logger.warning(
                "add %s refused by a database constraint", self.datamodel.obj
            )
            flash(str(self.add_integrity_error_message), "danger")
            return self._get_add_widget(form=form, exclude_cols=exclude_cols)

        self.post_add(item)
        flash(str(self.add_row_message), "success")
        return None

    def _edit(self, pk):
        """Edit a record; a refusal re-shows the form with the user's input."""
        if request.method != "POST":
            return super()._edit(pk)

        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)

        form = self.edit_form.refresh(request.form)
        self._fill_form_exclude_cols(exclude_cols, form)
        form._id = self.datamodel.get_pk_value(item)
        if not form.validate():
            return self._get_edit_widget(form=form, exclude_cols=exclude_cols)

        self.process_form(form, False)
        try:
            # Filling relation fields loads rows; an autoflush then would wipe
            # the change history the activity log reads in pre_update.
            with db.session.no_autoflush:
                form.populate_obj(item)
                self.pre_update(item)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "danger")
            return self._get_edit_widget(form=form, exclude_cols=exclude_cols)
        except IntegrityError:
            db.session.rollback()
            flash(str(self.edit_integrity_error_message), "danger")
            return self._get_edit_widget(form=form, exclude_cols=exclude_cols)

        self.post_update(item)
        flash(str(self.edit_row_message), "success")
        return None

    def _delete(self, pk):
        """Delete a record unless a rule or a reference forbids it."""
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)

        try:
            self.pre_delete(item)
            db.session.delete(item)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "danger")
        except SQLAlchemyError:
            db.session.rollback()
            logger.warning("delete of %s %s refused by the database", item, pk)
            flash(str(self.delete_integrity_error_message), "danger")
        else:
            self.post_delete(item)
            flash(str(self.delete_row_message), "success")
        self.update_redirect()

    # --- Activity log -----------------------------------------------------

    def agency_of(self, item):
        """Return the agency id a record belongs to, for the activity log."""
        if isinstance(item, Agency):
            return item.id
        if hasattr(item, "agency_id"):
            return item.agency_id
        submission = getattr(item, "submission", None)
        if submission is None and getattr(item, "answer", None) is not None:
            submission = item.answer.submission
        return getattr(submission, "agency_id", None)

    def _event(self, verb):
        return f"{self.datamodel.obj.__tablename__}.{verb}"

    def post_add(self, item):
        activity.record(
            self._event("created"),
            _l("%(record)s %(label)s created.", record=self.record_label, label=item),
            target=item,
            agency_id=self.agency_of(item),
            changes=activity.snapshot_of(item),
        )
        db.session.commit()

    def pre_update(self, item):
        changes = activity.changes_of(item)
        if changes:
            activity.record(
                self._event("updated"),
                _l(
                    "%(record)s %(label)s updated.",
                    record=self.record_label,
                    label=item,
                ),
                target=item,
                agency_id=self.agency_of(item),
                changes=changes,
            )

    def pre_delete(self, item):
        activity.record(
            self._event("deleted"),
            _l("%(record)s %(label)s deleted.", record=self.record_label, label=item),
            target=item,
            agency_id=self.agency_of(item),
            changes=activity.snapshot_of(item),
        )
