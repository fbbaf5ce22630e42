"""Today, for the whole portal: the real date; or the deployment's fixed one (``CLINTECH_TODAY``,
for demos and the test kit); or, inside ``frozen(day)``, a test's own."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

_frozen: list[dt.date] = []


def today() -> dt.date:
    if _frozen:
        return _frozen[-1]
    from core.settings import get_settings
    from core.timefmt import local_today

    return get_settings().today or local_today()


@contextlib.contextmanager
def frozen(day: dt.date) -> Iterator[dt.date]:
    """``with clock.frozen(date(2026, 5, 20)):`` — every ``today()`` answers ``day``."""
    _frozen.append(day)
    try:
        yield day
    finally:
        _frozen.pop()
