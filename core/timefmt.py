"""Times: stored in UTC, shown in Beijing time (Asia/Shanghai) everywhere — pages, PDFs,
XLSX, iCal and e-mail all format through these helpers (the ``local`` Jinja filter).

China keeps one offset all year (UTC+8, no daylight saving), so a fixed zone is exact
and needs no tz database.
"""

from __future__ import annotations

import datetime as dt

SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def as_utc(value: dt.datetime) -> dt.datetime:
    """A stored timestamp as an aware UTC datetime (SQLite hands back naive UTC)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def to_local(value: dt.datetime) -> dt.datetime:
    return as_utc(value).astimezone(SHANGHAI)


def local_time(value: dt.datetime | dt.date | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A timestamp as people read it: Beijing time, to the minute; a date stays a date;
    empty for none. An ISO string (a timestamp kept in JSON) is read first."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return to_local(value).strftime(fmt)
    return value.isoformat()


def local_date(value: dt.datetime) -> dt.date:
    """The Beijing calendar day of a stored timestamp."""
    return to_local(value).date()


def local_today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def local_naive(value: dt.datetime | None) -> dt.datetime | None:
    """Beijing time without tzinfo, for XLSX cells (spreadsheets have no time zones)."""
    return to_local(value).replace(tzinfo=None) if value is not None else None
