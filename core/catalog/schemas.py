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


class StaffRequirement(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a technology's management specification (管理规范) requires of the physician who
    leads it (HOSP-5: 该项限制类技术临床应用管理规范中对于人员资质及培训的相关硬性要求), as
    catalogue data (``[technology.lead]`` in a plugin's data file):

    - ``certificates``: certificate names the lead must hold in force (e.g. a
      specification's training certificate), as medical affairs records them;
    - ``titles``: professional titles of which the lead must hold one (e.g. 副主任医师);
    - ``min_years``: whole years of clinical practice, counted from the issue date of the
      lead's practice certificate (医师执业证书);
    - ``source``: where the requirement is written (the specification and its article).

    Ship only what a source states: a technology whose specification's text is not in the
    data has no ``lead`` (None), and the pages say no requirement is declared."""

    certificates: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()
    min_years: int = 0
    source: str = ""

    def unmet(self, *, qualifications: tuple[str, ...] | list[str], title: str,
              years_in_practice: int | None) -> list[str]:
        """What the lead lacks, in Chinese (empty when every requirement is met): read
        against the lead's real certificates in force, title and years of practice."""
        missing = [c for c in self.certificates if c not in qualifications]
        if self.titles and title not in self.titles and not set(self.titles) & set(qualifications):
            missing.append(f"{'或'.join(self.titles)}职称（当前：{title or '未登记'}）")
        if self.min_years:
            if years_in_practice is None:
                missing.append(f"临床工作满{self.min_years}年（未登记医师执业证书的发证日期，无法核对）")
            elif years_in_practice < self.min_years:
                missing.append(f"临床工作满{self.min_years}年（当前 {years_in_practice} 年）")
        return missing

    def describe(self) -> str:
        """The requirement in one Chinese line."""
        parts = [f"持有{'、'.join(self.certificates)}"] if self.certificates else []
        if self.titles:
            parts.append(f"具有{'或'.join(self.titles)}职称")
        if self.min_years:
            parts.append(f"临床工作满{self.min_years}年")
        return "；".join(parts) + (f"（{self.source}）" if self.source else "")


class TechnologyEntry(msgspec.Struct, frozen=True):
    """One technology (技术) of an edition, as a data file gives it. ``lead``: its
    specification's requirements of the technology lead (HOSP-5), None when not stated."""

    code: str
    name: str
    tech_class: str
    surgery_levels: tuple[int, ...] = ()
    specification: str = ""
    qc_indicators: tuple[QCIndicator, ...] = ()
    note: str = ""
    lead: StaffRequirement | None = None


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
        for entry in data.get("entries") or ():
            if entry.get("lead") is None:
                entry.pop("lead", None)  # editions without lead requirements keep their hash
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
    lead: StaffRequirement | None = None
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
