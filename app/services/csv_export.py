"""Stream query results as CSV that Excel opens correctly and safely.

The rows are read in batches through SQLAlchemy Core, never as ORM objects, so a
100,000-row export neither loads everything into memory nor runs a query per row.
"""

import csv
import datetime
import decimal
import enum
import io
import logging

from flask import Response, stream_with_context
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    Numeric,
    String,
    Text,
    asc,
    case,
    cast,
    desc,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.orm import aliased

from ..extensions import db
from . import clock

logger = logging.getLogger(__name__)

BOM = "\ufeff"
BATCH_ROWS = 1000
FLUSH_BYTES = 64 * 1024

# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Return a cell value that a spreadsheet will not run as a formula.

    Only text is changed; numbers stay numbers, so "-5" typed as text is
    quoted but the number -5 is not.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def cell(value):
    """Return the text written to the CSV for one value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, decimal.Decimal):
        return (
            format(value.normalize(), "f")
            if value == value.to_integral()
            else str(value)
        )
    if isinstance(value, datetime.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dict | list):
        return neutralise(str(value))
    return neutralise(value) if isinstance(value, str) else str(value)


def build_select(model, columns, order=("", ""), keep_json=()):
    """Return a Core SELECT of `columns` (plain or dotted) over `model`.

    Each relation on a dotted path is joined once, as an outer join, so rows
    without a parent or a group still export. JSON columns come out as their
    stored text, which is what a spreadsheet shows anyway, except those in
    `keep_json`, which a formatter reads as data.
    """
    joins = {}
    selected = []
    for path in columns:
        column = _resolve(model, path, joins)
        if isinstance(column.type, JSON) and path not in keep_json:
            # CAST, not a type: PostgreSQL's driver would parse json into a dict.
            column = cast(column, Text)
        elif isinstance(column.type, Numeric) and path not in keep_json:
            # Floats are cheap to read (PostgreSQL's driver builds a Decimal for a
            # numeric); the column's scale gives the digits back.
            column = type_coerce(cast(column, Float), _Points(column.type.scale or 0))
        elif _is_text(column.type) and path not in keep_json:
            column = type_coerce(_neutralised(column), _SafeText())
        selected.append(column.label(path))

    statement = select(*selected).select_from(model)
    for target, relationship_attribute in joins.values():
        statement = statement.outerjoin(target, relationship_attribute.of_type(target))

    order_column, direction = order
    if order_column:
        expression = _resolve(model, order_column, joins, allow_new=False)
        if expression is not None:
            sort = desc if direction == "desc" else asc
            statement = statement.order_by(sort(expression))
    return statement.order_by(model.id)


def _is_text(column_type):
    """Tell whether a column holds free text (an Enum is a String to SQLAlchemy)."""
    return isinstance(column_type, String | Text) and not isinstance(column_type, Enum)


def _neutralised(column):
    """Return a text column whose formula-like cells the database prefixes with '.

    The same rule as `neutralise`, run in SQL: one Python call per cell was the
    largest cost of a million-row export.
    """
    first = func.substr(column, 1, 1)
    return case((first.in_(_FORMULA_STARTS), literal("'") + column), else_=column)


class _SafeText(Text):
    """Text the query has already made safe for a spreadsheet."""


class _Points(Float):
    """A Numeric column read as a float, remembering how many decimals it has."""

    def __init__(self, scale):
        super().__init__()
        self.scale = scale


def _decimal_text(scale):
    """Return a formatter writing a number with at most `scale` decimals."""
    pattern = f"%.{scale}f"

    def _text(value):
        if value is None:
            return None
        if value == (whole := int(value)):
            return whole
        text = pattern % value
        return text.rstrip("0").rstrip(".") if "." in text else text

    return _text


def _converter(column_type, formatter):
    """Return what turns one value of a column into a cell; None: write it as is."""
    if formatter is not None:
        return lambda value: cell(formatter(value))
    if isinstance(column_type, _SafeText | Integer):
        return None
    if isinstance(column_type, _Points):
        return _decimal_text(column_type.scale)
    if isinstance(column_type, DateTime):
        return lambda value: "" if value is None else value.strftime("%d/%m/%Y %H:%M")
    if isinstance(column_type, Date):
        return lambda value: "" if value is None else value.strftime("%d/%m/%Y")
    if isinstance(column_type, String | Text):
        return lambda value: "" if value is None else neutralise(value)
    if isinstance(column_type, Boolean):
        return lambda value: "" if value is None else ("1" if value else "0")
    return cell


def _row_converter(converters):
    """Return a function converting one row; csv writes ints and None natively."""
    active = [(index, convert) for index, convert in enumerate(converters) if convert]

    def convert_row(row):
        values = list(row)
        for index, convert in active:
            values[index] = convert(values[index])
        return values

    return convert_row


def _resolve(model, path, joins, allow_new=True):
    """Return the column expression for a plain or dotted column name."""
    parts = path.split(".")
    current = model
    prefix = ()
    for relation_name in parts[:-1]:
        prefix = prefix + (relation_name,)
        if prefix not in joins:
            if not allow_new:
                return None
            attribute = getattr(current, relation_name)
            target = aliased(attribute.property.mapper.class_, name="_".join(prefix))
            joins[prefix] = (target, attribute)
        current = joins[prefix][0]
    column = getattr(current, parts[-1], None)
    if column is None or not hasattr(column, "expression"):
        raise ValueError(f"{path} is not a column of {model.__name__}")
    return column


def stream_csv(query, model, columns, labels, filename, formatters=None, order=None):
    """Return a streamed CSV response of the rows an ORM query selects.

    `query` carries the list's filters and row scope. With filters, only its ids
    are used, so the export selects exactly what the screen would whatever joins
    it made; without (`query` is None) the whole table is exported.
    """
    formatters = formatters or {}
    statement = build_select(model, columns, order or ("", ""), keep_json=formatters)
    if query is not None:
        ids = query.with_entities(model.id).order_by(None).subquery()
        statement = statement.where(model.id.in_(select(ids.c.id)))
    convert_row = _row_converter(
        [
            _converter(column.type, formatters.get(path))
            for path, column in zip(columns, statement.selected_columns, strict=True)
        ]
    )
    stamp = clock.now().strftime("%Y%m%d-%H%M")

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write(BOM)
        writer.writerow([neutralise(label) for label in labels])
        count = 0
        connection = db.session.connection()
        result = connection.execute(statement.execution_options(yield_per=BATCH_ROWS))
        for rows in result.partitions():
            writer.writerows(map(convert_row, rows))
            count += len(rows)
            if buffer.tell() >= FLUSH_BYTES:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
        logger.info("exported %s rows of %s", count, model.__tablename__)

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}-{stamp}.csv"',
            "X-Content-Type-Options": "nosniff",
        },
    )
