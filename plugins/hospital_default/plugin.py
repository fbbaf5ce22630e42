"""The default hospital policy (seed 000 and the procedure in seed 002, rules HOSP-*)."""

from __future__ import annotations

from plugins.hospital_default.admission import STEPS  # noqa: F401  (the yearly round, for readers of plugin.STEPS)
