"""Shapes of catalogues that cross boundaries: what plugins supply, what callers get."""

from __future__ import annotations

import datetime as dt

import msgspec

CLASSES = ("prohibited", "restricted", "routine")
SCOPES = ("national", "provincial", "hospital")

CLASS_LABELS = {"prohibited": "禁止类", "restricted": "限制类", "routine": "常规类"}
SCOPE_LABELS = {"national": "国家级", "provincial": "省级", "hospital": "院级"}


class QCIndicator(msgspec.Struct, frozen=True):
    """One quality-control indicator (质控指标) of a technology."""

    name: str
    code: str = ""
    definition: str = ""


class TechnologyEntry(msgspec.Struct, frozen=True):
    """One technology (技术) of an edition, as a data file gives it."""

    code: str
    name: str
    tech_class: str
    surgery_levels: tuple[int, ...] = ()
    specification: str = ""
    qc_indicators: tuple[QCIndicator, ...] = ()
    note: str = ""


class CatalogEdition(msgspec.Struct, frozen=True):
    """One edition (版本) of a catalogue, loaded from a plugin's data file.

    ``key`` is the edition id (e.g. ``national-restricted-2022``); with ``scope`` it
    identifies the edition across plugins: two plugins shipping the same
    ``(scope, key)`` must ship identical content, and are merged.
    """

    key: str
    scope: str
    title: str
    entries: tuple[TechnologyEntry, ...]
    document: str = ""
    issuer: str = ""
    effective_on: dt.date | None = None
    superseded_on: dt.date | None = None
    superseded_by: str = ""
    supersedes: str = ""
    source: str = ""
    file: str = ""  # where it was read from; not part of the content

    @property
    def uid(self) -> str:
        return f"{self.scope}:{self.key}"

    def content(self) -> dict:
        """The edition without where it came from: what must match across plugins."""
        data = msgspec.to_builtins(self)
        data.pop("file", None)
        return data


class ImportSlot(msgspec.Struct, frozen=True):
    """An edition the sources do not list, which an admin imports from XLSX/CSV
    (e.g. the Henan provincial list). Declared by the plugin's data file."""

    key: str
    scope: str
    title: str
    default_class: str = "restricted"
    rule: str = ""
    note: str = ""
    file: str = ""


class TechnologyRef(msgspec.Struct, frozen=True):
    """A technology as callers see it: what a record stores the ``id`` of.

    ``edition_key``/``edition_title`` say which edition was cited; ``current`` is False
    once the edition is superseded (or not yet in force); ``available`` is False while
    every plugin that supplies it is switched off or the entry was withdrawn.
    """

    id: int
    code: str
    name: str
    tech_class: str
    scope: str
    edition_id: int
    edition_key: str
    edition_title: str
    effective_on: dt.date | None
    superseded_on: dt.date | None
    surgery_levels: tuple[int, ...] = ()
    specification: str = ""
    qc_indicators: tuple[QCIndicator, ...] = ()
    note: str = ""
    current: bool = True
    available: bool = True

    @property
    def class_label(self) -> str:
        return CLASS_LABELS.get(self.tech_class, self.tech_class)

    @property
    def scope_label(self) -> str:
        return SCOPE_LABELS.get(self.scope, self.scope)

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}（{self.edition_title}）"
