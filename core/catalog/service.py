"""Catalogue use cases: sync plugin editions into tables, browse, choose, cite, import.

The API other areas use (admission, filing, cases):

* ``await choices(hooks, classes=..., q=...)`` — technologies new work may pick: the
  current editions of the enabled plugins only.
* ``await cite(hooks, technology_id)`` — check a choice and get the ``TechnologyRef``
  whose ``id`` the record stores (a foreign key to ``CatalogTechnology``); refuses an
  entry of a switched-off plugin, of a superseded edition, or a prohibited one (NAT-9).
* ``await get_cited(ref_id)`` — the technology a record cited, always, whatever became
  of its plugin or edition since.
* ``await add_hospital_routine(actor, institution_id, code=..., name=..., decided_on=...)``
  — a technology becomes routine in the hospital's own catalogue (HOSP-19);
  ``await hospital_routine(actor)`` lists the actor's institution's entries.

A new edition adds rows; it never rewrites the rows old records point at.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import inspect
import logging
import re
import weakref

import msgspec

from core import clock
from core.accounts.schemas import SYSTEM, Actor
from core.audit import service as audit
from core.catalog import rules
from core.catalog.loader import CatalogLoadError, LoadProblem
from core.catalog.schemas import (
    CLASSES,
    SCOPES,
    CatalogEdition,
    ImportSlot,
    QCIndicator,
    StaffRequirement,
    TechnologyEntry,
    TechnologyRef,
)
from core.catalog.tables import CatalogEdition as EditionRow
from core.catalog.tables import CatalogEditionSource as SourceRow
from core.catalog.tables import CatalogHospitalRoutine as RoutineRow
from core.catalog.tables import CatalogTechnology as TechRow
from core.db import Prepared, is_sqlite, write_transaction
from core.errors import DomainError, NotFound, Problem
from core.plugins import HookView, PluginHost

log = logging.getLogger("clintech.catalog")


# ---------------------------------------------------------------- loading from plugins


class PluginCatalog(msgspec.Struct):
    """What one plugin supplied, or why it failed (all or nothing)."""

    plugin: str
    editions: list[CatalogEdition] = []
    slots: list[ImportSlot] = []
    problems: list[LoadProblem] = []

    @property
    def ok(self) -> bool:
        return not self.problems


class CatalogReport(msgspec.Struct):
    """The deployment's catalogues as loaded: per plugin, and merged by ``scope:key``."""

    plugins: dict[str, PluginCatalog]
    merged: dict[str, CatalogEdition]
    suppliers: dict[str, list[str]]  # edition uid → plugins, deployment order

    def failures(self) -> dict[str, list[LoadProblem]]:
        return {name: pc.problems for name, pc in self.plugins.items() if pc.problems}

    def slots(self) -> list[tuple[str, ImportSlot]]:
        return [(name, slot) for name, pc in self.plugins.items() for slot in pc.slots]


def _hash(edition: CatalogEdition) -> str:
    return hashlib.sha256(msgspec.json.encode(edition.content(), order="sorted")).hexdigest()


async def load(host: PluginHost) -> CatalogReport:
    """Call every deployment plugin's ``register_catalogs`` on its own, so one plugin's
    broken files never stop the others; merge identical editions (same ``scope:key``,
    same content) and refuse a conflicting one with the whole of that plugin's catalogue."""
    order = {name: i for i, name in enumerate(host.deployment)}
    asks = sorted(host.view().each("register_catalogs"), key=lambda pair: order.get(pair[0], 99))
    plugins: dict[str, PluginCatalog] = {}
    for name, ask in asks:
        catalog = PluginCatalog(plugin=name)
        plugins[name] = catalog
        try:
            answer = ask()
            if inspect.isawaitable(answer):
                answer = await answer
            for item in answer or []:
                if isinstance(item, CatalogEdition):
                    catalog.editions.append(item)
                elif isinstance(item, ImportSlot):
                    catalog.slots.append(item)
                else:
                    raise TypeError(f"register_catalogs 返回了无法识别的对象：{type(item).__name__}")
        except CatalogLoadError as exc:
            catalog.problems = list(exc.problems)
        except Exception as exc:  # a plugin's bug must not take the others down
            catalog.problems = [LoadProblem(file=name, message=f"目录加载失败：{exc}")]
        if catalog.problems:
            catalog.editions, catalog.slots = [], []
    merged: dict[str, CatalogEdition] = {}
    suppliers: dict[str, list[str]] = {}
    hashes: dict[str, str] = {}
    for name, catalog in plugins.items():
        conflicts = []
        for edition in catalog.editions:
            if edition.uid in merged and hashes[edition.uid] != _hash(edition):
                conflicts.append(LoadProblem(
                    file=edition.file, field="key",
                    message=f"版本 {edition.key}（{edition.scope}）与插件 {suppliers[edition.uid][0]} "
                            f"提供的同一版本内容不一致；同一版本只能有一种内容"))
        if conflicts:
            catalog.problems, catalog.editions, catalog.slots = conflicts, [], []
            continue
        for edition in catalog.editions:
            merged.setdefault(edition.uid, edition)
            hashes[edition.uid] = _hash(edition)
            suppliers.setdefault(edition.uid, []).append(name)
    return CatalogReport(plugins=plugins, merged=merged, suppliers=suppliers)


def _tech_values(edition_id: int, uid: str, scope: str, position: int, entry: TechnologyEntry) -> dict:
    return {
        "uid": f"{uid}#{entry.code}", "edition": edition_id, "code": entry.code, "name": entry.name,
        "tech_class": entry.tech_class, "scope": scope, "surgery_levels": list(entry.surgery_levels),
        "specification": entry.specification, "qc_indicators": msgspec.to_builtins(entry.qc_indicators),
        "note": entry.note, "lead": msgspec.to_builtins(entry.lead) if entry.lead else {},
        "position": position, "withdrawn": False,
    }


async def _write_edition(edition: CatalogEdition, content_hash: str, *, origin: str, imported_by: str = ""
                         ) -> tuple[int, str]:
    """Insert or update one edition and its technologies (inside a transaction).
    Returns the edition id and what happened: ``added`` / ``changed`` / ``same``."""
    row = await EditionRow.select(EditionRow.id, EditionRow.content_hash).where(EditionRow.uid == edition.uid).first()
    values = {
        "uid": edition.uid, "key": edition.key, "scope": edition.scope, "title": edition.title,
        "issuer": edition.issuer, "document": edition.document, "effective_on": edition.effective_on,
        "superseded_on": edition.superseded_on, "superseded_by": edition.superseded_by,
        "supersedes": edition.supersedes, "source": edition.source, "origin": origin,
        "content_hash": content_hash, "entry_count": len(edition.entries), "imported_by": imported_by,
    }
    if row is None:
        edition_id = (await EditionRow.insert(EditionRow(**values)).returning(EditionRow.id))[0]["id"]
        if edition.entries:
            await TechRow.insert(*[TechRow(**_tech_values(edition_id, edition.uid, edition.scope, i, e))
                                   for i, e in enumerate(edition.entries)])
        return edition_id, "added"
    edition_id = row["id"]
    if row["content_hash"] == content_hash:
        return edition_id, "same"
    # The same edition id with changed content (a corrected typo): rows are updated in
    # place, never deleted, so citations stay valid; dropped codes are withdrawn.
    await EditionRow.update({getattr(EditionRow, k): v for k, v in values.items()}).where(EditionRow.id == edition_id)
    existing = {r["code"]: r["id"] for r in await TechRow.select(TechRow.id, TechRow.code)
                .where(TechRow.edition == edition_id)}
    for i, entry in enumerate(edition.entries):
        tech = _tech_values(edition_id, edition.uid, edition.scope, i, entry)
        if entry.code in existing:
            await TechRow.update({getattr(TechRow, k): v for k, v in tech.items()}).where(
                TechRow.id == existing.pop(entry.code))
        else:
            await TechRow.insert(TechRow(**tech))
    if existing:
        await TechRow.update({TechRow.withdrawn: True}).where(TechRow.id.is_in(list(existing.values())))
    return edition_id, "changed"


async def sync(host: PluginHost, actor: Actor = SYSTEM) -> CatalogReport:
    """Load every plugin's catalogue and bring the tables in line (idempotent, audited).

    An edition is keyed by ``scope:key``; each plugin that ships it is a source row.
    A plugin that no longer ships an edition, or whose files fail to load, stops being
    its source, so the edition leaves new choices unless another plugin still ships it.
    Editions imported by an admin are left alone.
    """
    report = await load(host)
    for name, problems in report.failures().items():
        for problem in problems:
            log.error("插件 %s 的目录加载失败：%s", name, problem)
    for attempt in range(3):
        try:
            await _sync_tables(report, host, actor)
            break
        except Exception as exc:  # a concurrent worker synced the same rows first: read again
            if attempt == 2 or isinstance(exc, DomainError):
                raise
            log.info("目录同步重试：%s", exc)
    return report


async def _sync_tables(report: CatalogReport, host: PluginHost, actor: Actor) -> None:
    hashes = {uid: _hash(e) for uid, e in report.merged.items()}
    current = {r["uid"]: r["content_hash"] for r in await EditionRow.select(EditionRow.uid, EditionRow.content_hash)}
    sources = {r["uid"]: r for r in await SourceRow.select(
        SourceRow.uid, SourceRow.active, SourceRow.file, SourceRow.plugin, SourceRow.edition.origin.as_alias("origin")
    ).where(SourceRow.plugin.is_in(list(host.deployment)))}
    wanted = {f"{uid}@{plugin}" for uid, plugins in report.suppliers.items() for plugin in plugins}
    stale = [uid for uid, s in sources.items() if s["active"] and s["origin"] == "plugin" and uid not in wanted]
    if all(current.get(uid) == h for uid, h in hashes.items()) and all(
            uid in sources and sources[uid]["active"] for uid in wanted) and not stale:
        return
    async with write_transaction():
        ids = {}
        for uid, edition in report.merged.items():
            ids[uid], change = await _write_edition(edition, hashes[uid], origin="plugin")
            if change != "same":
                await audit.record(actor, f"catalog.edition.{change}", "catalog_edition", ids[uid],
                                   after={"uid": uid, "title": edition.title, "entries": len(edition.entries),
                                          "plugins": report.suppliers[uid]})
        for uid, edition in report.merged.items():
            for plugin in report.suppliers[uid]:
                source_uid = f"{uid}@{plugin}"
                file = report.plugins[plugin].editions and next(
                    (e.file for e in report.plugins[plugin].editions if e.uid == uid), "")
                if source_uid not in sources:
                    await SourceRow.insert(SourceRow(uid=source_uid, edition=ids[uid], plugin=plugin, file=file or "",
                                                     active=True))
                elif not sources[source_uid]["active"]:
                    await SourceRow.update({SourceRow.active: True, SourceRow.file: file or ""}).where(
                        SourceRow.uid == source_uid)
            # The successor's date of effect ends its predecessor, where the data leaves it open.
            if edition.supersedes and edition.effective_on:
                await EditionRow.update({EditionRow.superseded_on: edition.effective_on,
                                         EditionRow.superseded_by: edition.key}).where(
                    (EditionRow.uid == f"{edition.scope}:{edition.supersedes}")
                    & EditionRow.superseded_on.is_null())
        if stale:
            await SourceRow.update({SourceRow.active: False}).where(SourceRow.uid.is_in(stale))
            await audit.record(actor, "catalog.source.retired", "catalog_edition", None, after={"sources": stale})


_reports: weakref.WeakKeyDictionary[PluginHost, CatalogReport] = weakref.WeakKeyDictionary()
_locks: weakref.WeakKeyDictionary[PluginHost, asyncio.Lock] = weakref.WeakKeyDictionary()


async def ensure_synced(host: PluginHost) -> CatalogReport:
    """Sync once per process and host (at start-up, or at the first catalogue use)."""
    if host in _reports:
        return _reports[host]
    lock = _locks.setdefault(host, asyncio.Lock())
    async with lock:
        if host not in _reports:
            _reports[host] = await sync(host)
    return _reports[host]


async def resync(host: PluginHost, actor: Actor) -> CatalogReport:
    """Re-read the plugins' files now (admin action, ``clintech catalog sync``)."""
    report = await sync(host, actor)
    _reports[host] = report
    return report


# ---------------------------------------------------------------- reading


class EditionInfo(msgspec.Struct, frozen=True):
    """An edition as pages show it, with its state for today."""

    id: int
    uid: str
    key: str
    scope: str
    title: str
    document: str
    issuer: str
    effective_on: dt.date | None
    superseded_on: dt.date | None
    superseded_by: str
    supersedes: str
    source: str
    origin: str
    entry_count: int
    plugins: tuple[str, ...]
    current: bool
    available: bool


async def editions(hooks: HookView, *, on: dt.date | None = None, include_unavailable: bool = False
                   ) -> list[EditionInfo]:
    """Every synced edition with its plugins, whether it is current on ``on`` (default
    today) and whether an enabled plugin supplies it; unavailable ones only on request."""
    await ensure_synced(hooks.host)
    on = on or clock.today()
    rows = await EditionRow.select().order_by(EditionRow.scope).order_by(EditionRow.key)
    plugins: dict[int, list[str]] = {}
    for s in await SourceRow.select(SourceRow.edition, SourceRow.plugin).where(SourceRow.active == True):  # noqa: E712
        plugins.setdefault(s["edition"], []).append(s["plugin"])
    out = []
    for r in rows:
        names = tuple(sorted(plugins.get(r["id"], [])))
        # A measure a regulator took (EVAL-8) is the deployment's own data, no plugin's.
        available = r["origin"] == MEASURE_ORIGIN or any(hooks.is_enabled(n) for n in names)
        if not available and not include_unavailable:
            continue
        out.append(EditionInfo(
            id=r["id"], uid=r["uid"], key=r["key"], scope=r["scope"], title=r["title"], document=r["document"],
            issuer=r["issuer"], effective_on=r["effective_on"], superseded_on=r["superseded_on"],
            superseded_by=r["superseded_by"], supersedes=r["supersedes"], source=r["source"], origin=r["origin"],
            entry_count=r["entry_count"], plugins=names,
            current=rules.is_current(r["effective_on"], r["superseded_on"], on), available=available))
    order = {s: i for i, s in enumerate(SCOPES)}
    return sorted(out, key=lambda e: (order.get(e.scope, 9), not e.current, e.key))


class CatalogQuery(msgspec.Struct, frozen=True):
    """The browser's and the API's filters. ``edition``: empty for the current editions,
    an edition uid (``national:national-restricted-2017``) for that one, ``all`` for every
    edition an enabled plugin supplies."""

    q: str = ""
    tech_class: str = ""
    scope: str = ""
    edition: str = ""


def _like(column, text: str):
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return column.like(pattern) if is_sqlite() else column.ilike(pattern)


def _ref(row: dict, edition: dict, *, on: dt.date, available: bool) -> TechnologyRef:
    return TechnologyRef(
        id=row["id"], code=row["code"], name=row["name"], tech_class=row["tech_class"], scope=row["scope"],
        edition_id=edition["id"], edition_key=edition["key"], edition_title=edition["title"],
        effective_on=edition["effective_on"], superseded_on=edition["superseded_on"],
        surgery_levels=tuple(row["surgery_levels"] or ()), specification=row["specification"],
        qc_indicators=tuple(msgspec.convert(row["qc_indicators"] or [], list[QCIndicator])), note=row["note"],
        lead=msgspec.convert(row["lead"], StaffRequirement) if row.get("lead") else None,
        current=rules.is_current(edition["effective_on"], edition["superseded_on"], on),
        available=available and not row["withdrawn"])


def query_problems(query: CatalogQuery) -> list[Problem]:
    """Unknown filter values, named by field (the API answers them with 422)."""
    problems = []
    if query.tech_class and query.tech_class not in CLASSES:
        problems.append(Problem(f"未知类别：{query.tech_class}", "tech_class"))
    if query.scope and query.scope not in SCOPES:
        problems.append(Problem(f"未知范围：{query.scope}", "scope"))
    return problems


async def search(hooks: HookView, query: CatalogQuery, *, on: dt.date | None = None, limit: int = 500
                 ) -> list[TechnologyRef]:
    """Technologies of the enabled plugins' editions matching ``query``, in catalogue order."""
    on = on or clock.today()
    known = await editions(hooks, on=on)
    if query.edition == "all":
        chosen = known
    elif query.edition:
        chosen = [e for e in known if e.uid == query.edition]
    else:
        chosen = [e for e in known if e.current]
    if query.scope:
        chosen = [e for e in chosen if e.scope == query.scope]
    if not chosen:
        return []
    by_id = {e.id: msgspec.to_builtins(e) | {"effective_on": e.effective_on, "superseded_on": e.superseded_on}
             for e in chosen}
    select = TechRow.select().where(TechRow.edition.is_in(list(by_id)))
    if query.edition == "" or query.edition == "all":
        select = select.where(TechRow.withdrawn == False)  # noqa: E712
    if query.tech_class:
        select = select.where(TechRow.tech_class == query.tech_class)
    if text := query.q.strip():
        select = select.where(_like(TechRow.code, text) | _like(TechRow.name, text))
    rows = await select.order_by(TechRow.edition).order_by(TechRow.position).limit(limit).output(load_json=True)
    order = {e.id: i for i, e in enumerate(chosen)}
    rows.sort(key=lambda r: (order[r["edition"]], r["position"]))
    return [_ref(r, by_id[r["edition"]], on=on, available=True) for r in rows]


async def choices(hooks: HookView, *, classes: tuple[str, ...] | list[str] | None = None, q: str = "",
                  on: dt.date | None = None) -> list[TechnologyRef]:
    """Technologies new work may cite: the editions current on ``on`` (default today) of
    the enabled plugins only, optionally of some classes, matching ``q`` (code or name).

    A switched-off plugin's catalogue leaves these choices at once and comes back when
    it is switched on (an edition two plugins ship stays while either is on).
    """
    found = await search(hooks, CatalogQuery(q=q), on=on)
    return [t for t in found if classes is None or t.tech_class in classes]


# A cited technology and its edition by id (every case batch asks for its projects'
# technologies): built once (``core.db.Prepared``).
_TECH_QUERY = Prepared(lambda technology_id: TechRow.select().where(
    TechRow.id == technology_id).first().output(load_json=True), 1)
_EDITION_QUERY = Prepared(lambda edition_id: EditionRow.select().where(EditionRow.id == edition_id).first(), 1)


async def _load_one(technology_id: int) -> tuple[dict, dict]:
    row = await _TECH_QUERY.run(technology_id)
    if row is None:
        raise NotFound("未找到该技术")
    edition = await _EDITION_QUERY.run(row["edition"])
    return row, edition


async def _available(hooks: HookView | None, edition_id: int) -> bool:
    if hooks is None:
        return True
    if await EditionRow.exists().where((EditionRow.id == edition_id) & (EditionRow.origin == MEASURE_ORIGIN)):
        return True
    rows = await SourceRow.select(SourceRow.plugin).where(
        (SourceRow.edition == edition_id) & (SourceRow.active == True))  # noqa: E712
    return any(hooks.is_enabled(r["plugin"]) for r in rows)


async def get_cited(ref_id: int, hooks: HookView | None = None, *, on: dt.date | None = None) -> TechnologyRef:
    """The technology a record cited (``ref_id`` is what ``cite`` returned as ``id``).

    Always resolves an existing citation, even when its plugin is switched off, its
    edition superseded or its entry withdrawn; ``current``/``available`` say so
    (``available`` is computed only when ``hooks`` is given). Unknown id: ``NotFound``.
    """
    row, edition = await _load_one(ref_id)
    return _ref(row, edition, on=on or clock.today(), available=await _available(hooks, edition["id"]))


async def cite(hooks: HookView, technology_id: int, *, on: dt.date | None = None,
               allow_prohibited: bool = False) -> TechnologyRef:
    """Check that new work may cite ``technology_id`` on ``on`` (default today) and
    return the reference to store. Refuses (``DomainError``) an entry whose plugins are
    all switched off or that was withdrawn, one of a superseded (or not yet effective)
    edition, and a prohibited technology unless ``allow_prohibited`` (NAT-5, NAT-9).
    Unknown id: ``NotFound``.
    """
    await ensure_synced(hooks.host)
    ref = await get_cited(technology_id, hooks, on=on)
    problems = rules.citation_problems(tech_class=ref.tech_class, current=ref.current, available=ref.available,
                                       allow_prohibited=allow_prohibited)
    if problems:
        raise DomainError(problems)
    return ref


class HistoryItem(msgspec.Struct, frozen=True):
    """The same technology in another edition of its lineage (matched by name or code)."""

    id: int
    code: str
    name: str
    edition_title: str
    effective_on: dt.date | None
    superseded_on: dt.date | None
    same_name: bool
    same_code: bool
    this: bool


async def history(technology_id: int) -> list[HistoryItem]:
    """The technology across the editions of its lineage (``supersedes`` chain), oldest
    first. Codes move between editions (G05 is 同种异体皮肤移植 in 2017 and 性别重置 in
    2022), so entries match by name or by code, and say which."""
    row, edition = await _load_one(technology_id)
    all_editions = {e["key"]: e for e in await EditionRow.select().where(EditionRow.scope == edition["scope"])}
    lineage = {edition["key"]}
    frontier = [edition["key"]]
    while frontier:
        key = frontier.pop()
        e = all_editions.get(key)
        linked = [e["supersedes"], e["superseded_by"]] if e else []
        linked += [k for k, other in all_editions.items() if key in (other["supersedes"], other["superseded_by"])]
        for k in linked:
            if k and k in all_editions and k not in lineage:
                lineage.add(k)
                frontier.append(k)
    ids = {all_editions[k]["id"]: all_editions[k] for k in lineage}
    rows = await TechRow.select(TechRow.id, TechRow.code, TechRow.name, TechRow.edition).where(
        TechRow.edition.is_in(list(ids)) & ((TechRow.code == row["code"]) | (TechRow.name == row["name"])))
    items = [HistoryItem(id=r["id"], code=r["code"], name=r["name"], edition_title=ids[r["edition"]]["title"],
                         effective_on=ids[r["edition"]]["effective_on"],
                         superseded_on=ids[r["edition"]]["superseded_on"], same_name=r["name"] == row["name"],
                         same_code=r["code"] == row["code"], this=r["id"] == technology_id) for r in rows]
    return sorted(items, key=lambda i: (i.effective_on or dt.date.min, i.id))


# ---------------------------------------------------------------- admin import (a provincial list)


class ImportInput(msgspec.Struct, frozen=True):
    """What the admin submits with an import file."""

    slot: str  # "<plugin>/<slot key>"
    label: str  # the edition's version, e.g. 2024
    effective_on: dt.date


_LABEL = re.compile(r"^[0-9a-z][0-9a-z.-]{0,30}$")
IMPORT_HEADERS = {
    "编码": "code", "技术名称": "name", "类别": "class", "手术级别限制": "surgery_levels",
    "管理规范": "specification", "质控指标": "qc_indicators", "备注": "note",
}


def validate_rows(rows: list[tuple[int, dict]], *, default_class: str,
                  rule: str = "") -> tuple[list[TechnologyEntry], list[Problem]]:
    """Every import row checked (row numbers as in the file); problems name row and field,
    and cite ``rule`` — the import slot's own rule, from the plugin's data file."""
    entries, problems, seen = [], [], set()
    for row_no, raw in rows:
        values = dict(raw)
        indicators = str(values.get("qc_indicators") or "")
        values["qc_indicators"] = [p.strip() for p in re.split(r"[;；\n]", indicators) if p.strip()]
        entry, found = rules.validate_entry(values, default_class=default_class, seen=seen)
        for p in found:
            label = rules.FIELD_LABELS.get(p.field or "", p.field or "")
            problems.append(Problem(f"第 {row_no} 行「{label}」：{p.message}", p.field, rule or None))
        if entry:
            entries.append(entry)
    if not rows:
        problems.append(Problem("文件中没有任何技术条目", "file"))
    return entries, problems


async def import_slots(hooks: HookView) -> list[tuple[str, ImportSlot]]:
    """The editions enabled plugins let an admin import: ``[(plugin, slot), …]``."""
    report = await ensure_synced(hooks.host)
    return [(name, slot) for name, slot in report.slots() if hooks.is_enabled(name)]


async def import_edition(actor: Actor, hooks: HookView, data: ImportInput, rows: list[tuple[int, dict]],
                         *, filename: str = "") -> int:
    """Import an edition an enabled plugin declares (e.g. a provincial list
    whose rows the sources do not print) from parsed file rows. All or nothing: any wrong row refuses the whole file
    with a problem per row and field. The new edition supersedes the slot's previous
    import from its date of effect. Audited. Returns the edition id."""
    slots = {f"{name}/{slot.key}": (name, slot) for name, slot in await import_slots(hooks)}
    problems = []
    if data.slot not in slots:
        problems.append(Problem("请选择要导入的目录", "slot"))
    if not _LABEL.match(data.label.strip().lower()):
        problems.append(Problem("「版本」应为数字、小写字母、点或横线，如 2024", "label"))
    if problems:
        raise DomainError(problems)
    plugin, slot = slots[data.slot]
    entries, row_problems = validate_rows(rows, default_class=slot.default_class, rule=slot.rule)
    if row_problems:
        raise DomainError(row_problems)
    label = data.label.strip().lower()
    edition = CatalogEdition(
        key=f"{slot.key}-{label}", scope=slot.scope, title=f"{slot.title}（{label}版）", entries=tuple(entries),
        document=f"管理员导入：{filename}" if filename else "管理员导入", effective_on=data.effective_on,
        source=f"{slot.note}（{slot.rule}）" if slot.rule else slot.note, file=filename)
    if await EditionRow.exists().where(EditionRow.uid == edition.uid):
        raise DomainError(Problem(f"版本 {label} 已导入过；已导入的版本不能覆盖（记录可能已引用），请使用新的版本号",
                                  "label"))
    previous = await EditionRow.select().where(
        EditionRow.key.like(f"{slot.key}-%") & (EditionRow.scope == slot.scope) & (EditionRow.origin == "import")
        & EditionRow.superseded_on.is_null())
    for p in previous:
        if p["effective_on"] and p["effective_on"] >= data.effective_on:
            raise DomainError(Problem(f"施行日期应晚于现行版本《{p['title']}》的施行日期 {p['effective_on']}",
                                      "effective_on"))
    async with write_transaction():
        edition_id, _ = await _write_edition(edition, _hash(edition), origin="import", imported_by=actor.username)
        await SourceRow.insert(SourceRow(uid=f"{edition.uid}@{plugin}", edition=edition_id, plugin=plugin,
                                         file=filename, active=True))
        for p in previous:
            await EditionRow.update({EditionRow.superseded_on: data.effective_on,
                                     EditionRow.superseded_by: edition.key}).where(EditionRow.id == p["id"])
        await audit.record(actor, "catalog.import", "catalog_edition", edition_id,
                           before={"superseded": [p["uid"] for p in previous]} if previous else None,
                           after={"uid": edition.uid, "title": edition.title, "entries": len(entries),
                                  "file": filename, "plugin": plugin, "effective_on": data.effective_on})
    return edition_id


# ---------------------------------------------------------------- a regulator's measure (EVAL-8)

MEASURE_ORIGIN = "evaluation"


async def add_measure_edition(actor: Actor, *, key: str, scope: str, title: str, issuer: str, document: str,
                              effective_on: dt.date, entry: TechnologyEntry, source: str = "") -> str:
    """A new edition of one entry that a regulator's evaluation conclusion puts in the
    catalogue (EVAL-8: prohibited, restricted, or a revised specification and QC
    indicators), current from ``effective_on``. In the caller's write transaction;
    audited (``catalog.measure``). Editions are never rewritten: the same ``key`` twice is
    refused. Returns the edition's uid."""
    edition = CatalogEdition(key=key, scope=scope, title=title, entries=(entry,), document=document, issuer=issuer,
                             effective_on=effective_on, source=source)
    if await EditionRow.exists().where(EditionRow.uid == edition.uid):
        raise DomainError(Problem("该评估的管理措施已写入目录", None, "EVAL-8"))
    edition_id, _ = await _write_edition(edition, _hash(edition), origin=MEASURE_ORIGIN,
                                         imported_by=actor.username[:60])
    await audit.record(actor, "catalog.measure", "catalog_edition", edition_id,
                       after={"uid": edition.uid, "title": title, "code": entry.code, "name": entry.name,
                              "class": entry.tech_class, "effective_on": effective_on, "document": document})
    return edition.uid


# ---------------------------------------------------------------- the hospital's routine technologies (HOSP-19)


async def add_hospital_routine(actor: Actor, institution_id: int, *, code: str, name: str, decided_on: dt.date,
                               technology_ref: int | None = None, project_id: int | None = None,
                               note: str = "") -> int:
    """Enter a technology in the institution's own catalogue of routine technologies
    (院级常规技术目录) after medical affairs decided, on the summary of its monitoring
    period, that it becomes routine (HOSP-19). Returns the entry's id.

    Only medical affairs of that institution (or the admin) may; an institution outside
    the actor's tenant answers ``NotFound`` like a missing one. Idempotent per
    institution and code: the same technology decided routine again keeps its first
    entry (and its first decision date). Audited inside the caller's transaction
    (``catalog.hospital_routine``). Only that institution's users see the entry
    (``hospital_routine``).
    """
    from core.errors import Forbidden
    from core.tenancy.service import require_institution

    await require_institution(actor, institution_id)
    if not (actor.is_admin or actor.has("medical_affairs")):
        raise Forbidden("只有医务处可以将技术转为常规技术管理（HOSP-19）")
    code = code.strip().upper()
    name = name.strip()
    if not code or not name:
        raise DomainError(Problem("转为常规技术须有技术编码和名称", "code" if not code else "name", "HOSP-19"))
    uid = f"{institution_id}:{code}"[:80]
    async with write_transaction():
        existing = await RoutineRow.select(RoutineRow.id).where(RoutineRow.uid == uid).first()
        if existing is not None:
            return existing["id"]
        rows = await RoutineRow.insert(RoutineRow(
            uid=uid, institution=institution_id, code=code[:40], name=name[:200], technology_ref=technology_ref,
            project=project_id, decided_on=decided_on, decided_by=actor.display_name[:60], note=note.strip(),
        )).returning(RoutineRow.id)
        entry_id = rows[0]["id"]
        await audit.record(actor, "catalog.hospital_routine", "catalog_hospital_routine", entry_id,
                           after={"code": code, "name": name, "decided_on": decided_on, "project": project_id,
                                  "technology_ref": technology_ref}, institution_id=institution_id)
    return entry_id


async def hospital_routine(actor: Actor) -> list[dict]:
    """The actor's institution's routine technologies (HOSP-19), newest decision first;
    empty for anyone without an institution (regulators, the admin): a hospital's own
    catalogue is never shown to another institution."""
    if actor.institution_id is None:
        return []
    return await RoutineRow.select(
        RoutineRow.id, RoutineRow.code, RoutineRow.name, RoutineRow.technology_ref, RoutineRow.project,
        RoutineRow.decided_on, RoutineRow.decided_by, RoutineRow.note,
    ).where(RoutineRow.institution == actor.institution_id).order_by(RoutineRow.decided_on, ascending=False
                                                                     ).order_by(RoutineRow.id, ascending=False)
