"""Statuses of a physician's authorisation (医师授权, NAT-20) and their labels."""

from __future__ import annotations

import enum
from typing import Any

import msgspec


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


class PhysicianArchive(msgspec.Struct, frozen=True):
    """One physician's technology archive (NAT-19) as its page and PDF show it
    (``service.archive``): the person, certificates, authorisations with their history,
    cases performed (by technology; complications and adverse events as ``incidents``),
    operator findings, training and examinations, the province's reviews (transfers) and
    transitional applications, and what the reader may do (``may_manage``, ``is_self``,
    with the technologies each may choose)."""

    person: dict[str, Any]
    certificates: list[dict[str, Any]]
    authorisations: list[dict[str, Any]]
    cases: list[dict[str, Any]]
    by_technology: list[tuple[str, int]]
    incidents: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    training: list[dict[str, Any]]
    exams: list[dict[str, Any]]
    may_manage: bool
    trained_records: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    applications: list[dict[str, Any]]
    is_self: bool
    technologies: list[dict[str, Any]]
    technologies_self: list[dict[str, Any]]

    def context(self) -> dict[str, Any]:
        """The page's template variables."""
        return {f: getattr(self, f) for f in self.__struct_fields__}
