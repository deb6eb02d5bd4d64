"""The console's notion of "now", in the city's local time.

Deadlines in the organiser's letters are local dates and times, so the database
stores naive local datetimes. Tests freeze the clock by replacing `now`.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def now():
    """Return the current local time in Vietnam, without tzinfo."""
    return datetime.now(TIMEZONE).replace(tzinfo=None, microsecond=0)


def today():
    """Return the current local date in Vietnam."""
    return now().date()
