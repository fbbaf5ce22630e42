"""The default hospital policy (seed 000 and the procedure in seed 002, rules HOSP-*)."""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from plugins import deadlines
from plugins.hospital_default.admission import STEPS  # noqa: F401  (the yearly round, for readers of plugin.STEPS)

HERE = Path(__file__).parent


@hookimpl
def deadline_rules():
    """HOSP-7 ethics proof 3 months after admission, HOSP-10 one week of publicity,
    HOSP-17 the annual QC report each January of the monitoring period."""
    return deadlines.load(HERE / "deadlines.toml")
