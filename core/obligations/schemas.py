"""Obligation statuses: what is stored (``Obligation.status``) and its labels.

"Due soon" and "overdue" are not stored: they are derived from the due date and today
when read (``core.obligations.rules.status_of``, labels ``obligation.status.*``)."""

from __future__ import annotations

import enum


class ObligationStatus(enum.StrEnum):
    """What happened to an obligation (``Obligation.status``)."""

    open = "open"
    done = "done"
    waived = "waived"  # by hand, with a reason (medical affairs, or the regulator for its own)
    exempt = "exempt"  # a plugin's exemption (grandfathering), with its evidence

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {ObligationStatus.open: "待办", ObligationStatus.done: "已办结", ObligationStatus.waived: "已豁免",
                 ObligationStatus.exempt: "依规豁免"}
