"""How values read on screen: dd/mm/yyyy dates, points, labels of codes."""

from decimal import Decimal


def format_date(value):
    """Return a date as dd/mm/yyyy, or an empty string."""
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y")


def format_datetime(value):
    """Return a datetime as dd/mm/yyyy HH:MM, or an empty string."""
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y %H:%M")


def format_points(value):
    """Return points without trailing zeros: 20, 12.5, 6.67."""
    if value is None:
        return ""
    value = Decimal(value)
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def blank_if_none(value):
    """Show an empty value as nothing rather than the word None."""
    return "" if value is None else value
