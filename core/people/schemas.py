"""Statuses of a physician's authorisation (医师授权, NAT-20) and their labels."""

from __future__ import annotations

import enum


class AuthorisationStatus(enum.StrEnum):
    """What the management body decided last (``Authorisation.status``). Whether it holds on
    a given day — not yet valid, expired, its technology suspended — is derived from its
    events and dates when read (``core.people.rules.status_on``), never stored."""

    active = "active"
    suspended = "suspended"
    revoked = "revoked"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


# The stored statuses, then the states derived on a day (core.people.rules.status_on and
# the physician's page).
STATUS_LABELS: dict[str, str] = {
    AuthorisationStatus.active: "有效", AuthorisationStatus.suspended: "暂停", AuthorisationStatus.revoked: "已取消",
    "expired": "已过期", "not_yet": "尚未生效", "technology": "技术暂停或停止，授权随之暂停"}
