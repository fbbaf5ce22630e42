"""Holiday notices entered by the admin (a year's holidays and make-up working days)."""

from piccolo.columns import Boolean, Date, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class HolidayOverride(Table):
    """One day of a State Council holiday notice, entered by the admin (CAL-4)."""

    day = Date(unique=True)
    working = Boolean()  # True: make-up working day (调休上班); False: holiday
    note = Varchar(length=60, default="")
    entered_by = Varchar(length=60, default="")
    entered_at = Timestamptz(default=TimestamptzNow())
