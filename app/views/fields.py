"""Form fields that read and write dates the Vietnamese way (dd/mm/yyyy)."""

from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import fields
from wtforms import validators as checks
from wtforms.widgets import html_params

from ..services.scoring import format_params

DATE_FORMAT = "%d/%m/%Y"
DATETIME_FORMAT = "%d/%m/%Y %H:%M"


class DateInput:
    """A text input with a calendar button, in dd/mm/yyyy."""

    css_class = "dti_date"
    placeholder = "dd/mm/yyyy"

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("name", field.name)
        attributes = html_params(
            type="text",
            value=field._value(),
            placeholder=self.placeholder,
            autocomplete="off",
            **kwargs,
        )
        return Markup(
            f'<div class="input-group {self.css_class}">'
            '<span class="input-group-addon"><i class="fa fa-calendar"></i></span>'
            f'<input class="form-control" {attributes}></div>'
        )


class DateTimeInput(DateInput):
    """A text input for a date and a time, in dd/mm/yyyy hh:mm."""

    css_class = "dti_datetime"
    placeholder = "dd/mm/yyyy hh:mm"


class DateField(fields.DateField):
    """A date typed as dd/mm/yyyy."""

    widget = DateInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("format", DATE_FORMAT)
        kwargs.setdefault("invalid_value_message", _l("Enter the date as dd/mm/yyyy."))
        super().__init__(label, validators, **kwargs)


class DateTimeField(fields.DateTimeField):
    """A date and time typed as dd/mm/yyyy hh:mm (the time may be left out)."""

    widget = DateTimeInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("format", [DATETIME_FORMAT, DATE_FORMAT])
        kwargs.setdefault(
            "invalid_value_message",
            _l("Enter the date and time as dd/mm/yyyy hh:mm."),
        )
        super().__init__(label, validators, **kwargs)


def date_validators(nullable):
    """Return the validators for a date column that may or may not be empty."""
    if nullable:
        return [checks.Optional()]
    return [checks.InputRequired()]


class RuleParamsField(fields.StringField):
    """Rule parameters typed the spreadsheet way: "label=points; label=points".

    The text is parsed against the chosen rule when the indicator is saved.
    """

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if isinstance(self.data, dict):
            return format_params("", self.data)
        return self.data or ""
