"""Henan's checks on a case report (HN-3: 及时、准确、完整、逐例报送)."""

from __future__ import annotations

from core import hookimpl
from core.errors import Problem

# What the Henan platform needs filled for a report to be complete (HN-3).
REQUIRED = {"indication": "适应症", "outcome": "转归"}


@hookimpl
def validate_case(case):
    """HN-3: a case report is complete — indication and outcome filled."""
    return [Problem(f"河南省病例报送须完整填写「{label}」", field, "HN-3")
            for field, label in REQUIRED.items() if not str(getattr(case, field, "") or "").strip()]
