"""Small forms of the custom screens (the CRUD forms are FAB's)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from .. import labels
from .fields import DateField, DateTimeField


class NewYearForm(FlaskForm):
    """Copy a year into a new draft year."""

    year = IntegerField(
        _l("New year assessed"),
        validators=[InputRequired(), NumberRange(min=2000, max=2100)],
        description=_l("The calendar year whose figures the new round assesses."),
    )
    name = StringField(
        _l("Name"),
        validators=[Length(max=150)],
        description=_l("Leave empty to reuse the old name with the new year."),
    )


class ReasonForm(FlaskForm):
    """A reason, required for changes that must be explained."""

    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("Recorded in the activity log and shown to everyone concerned."),
    )


class ImportForm(FlaskForm):
    """Upload an index set in the layout of the official annexes."""

    file = FileField(
        _l("File (CSV or XLSX)"),
        validators=[FileRequired(_l("Choose a CSV or XLSX file."))],
    )
    year = SelectField(_l("Assessment year"), validators=[InputRequired()])
    level = SelectField(_l("Level"), validators=[InputRequired()])
    group = SelectField(_l("Department group"))
    name = StringField(_l("Name of the set"), validators=[Length(max=255)])
    source = StringField(
        _l("Source"),
        validators=[Length(max=500)],
        description=_l("The decision the set comes from, e.g. QĐ 2088/QĐ-UBND."),
    )


class ConfirmImportForm(FlaskForm):
    """Apply an import that was previewed."""

    token = HiddenField(validators=[DataRequired()])


class CompareForm(FlaskForm):
    """Choose two years to compare."""

    class Meta:
        csrf = False

    old = SelectField(_l("From year"), coerce=int)
    new = SelectField(_l("To year"), coerce=int)


class EvidenceForm(FlaskForm):
    """Upload a PDF and describe the document it holds."""

    file = FileField(
        _l("PDF file"),
        validators=[FileRequired(_l("Choose a PDF file."))],
        description=_l(
            "A scan of a paper document or an electronic document with a digital "
            "signature."
        ),
    )
    doc_type = SelectField(
        _l("Document type"), choices=labels.choices(labels.DOCUMENT_TYPE)
    )
    doc_number = StringField(
        _l("Document number"),
        validators=[Length(max=100)],
        description=_l("As printed, e.g. 123/KH-UBND."),
    )
    doc_date = DateField(_l("Document date"), validators=[Optional()])
    issuer = StringField(_l("Issued by"), validators=[Length(max=255)])
    summary = TextAreaField(_l("Summary"), validators=[Length(max=2000)])


class MoveForm(FlaskForm):
    """New dates for a phase, and the reason everyone is told."""

    opens_at = DateTimeField(_l("Opens"), validators=[InputRequired()])
    closes_at = DateTimeField(_l("Closes"), validators=[InputRequired()])
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("Sent to every agency the phase governs."),
    )
