"""Reading a plugin's catalogue data files (TOML or JSON) into editions, validated.

A plugin's ``register_catalogs`` returns ``load_dir(HERE / "catalog")``. Every problem
found (duplicate code in an edition, unknown class or scope, missing name, bad date,
unknown field) is collected with the file, row and field it is in, and the whole
directory is refused with ``CatalogLoadError``: nothing half-loaded.

File shape (one edition per file)::

    [edition]
    key = "national-restricted-2022"      # the edition id
    scope = "national"                     # national / provincial / hospital
    title = "国家限制类技术目录（2022年版）"
    document = "国卫办医发〔2022〕6号"
    effective = 2022-04-20                 # optional: when it took effect
    superseded = 2023-01-01                # optional: when a successor replaced it
    superseded_by = "…"                    # optional: that successor's key
    supersedes = "national-restricted-2017"
    default_class = "restricted"           # class of entries that name none

    [[technology]]
    code = "G01"
    name = "异基因造血干细胞移植技术"
    surgery_levels = [3, 4]                # optional
    specification = "…"                    # optional
    qc_indicators = [{ name = "…" }]       # optional

A file with an ``[import_slot]`` table instead declares an edition an admin imports
from XLSX/CSV (``key``, ``scope``, ``title``, ``default_class``, ``rule``).
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import msgspec

from core.catalog import rules
from core.catalog.schemas import CatalogEdition, ImportSlot
from core.errors import Problem

EDITION_FIELDS = {"key", "scope", "title", "document", "issuer", "effective", "superseded", "superseded_by",
                  "supersedes", "default_class", "source"}
SLOT_FIELDS = {"key", "scope", "title", "default_class", "rule", "note"}
_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,80}$")


class LoadProblem(msgspec.Struct, frozen=True):
    """One thing wrong in a data file: where (file, row, field) and what (Chinese)."""

    file: str
    message: str
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file + (f" 第 {self.row} 行" if self.row else "")
        label = rules.FIELD_LABELS.get(self.field or "", self.field or "")
        return f"{where}" + (f" 字段「{label}」（{self.field}）" if self.field else "") + f"：{self.message}"


class CatalogLoadError(Exception):
    """A plugin's catalogue files are wrong; nothing of them is loaded."""

    def __init__(self, problems: list[LoadProblem]):
        self.problems = problems
        super().__init__("；".join(str(p) for p in problems))


def _display(path: Path) -> str:
    return "/".join(path.parts[-4:]) if len(path.parts) >= 4 else str(path)


def _entry_lines(text: str) -> list[int]:
    """Line numbers (1-based) of each ``[[technology]]`` header, in order."""
    return [i for i, line in enumerate(text.splitlines(), start=1) if line.strip().startswith("[[technology]]")]


def _read(path: Path) -> tuple[dict, list[int]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        return tomllib.loads(text), _entry_lines(text)
    return json.loads(text), []


def _problem(file: str, p: Problem, row: int | None) -> LoadProblem:
    return LoadProblem(file=file, message=p.message, row=row, field=p.field)


def load_file(path: Path) -> CatalogEdition | ImportSlot:
    """One data file → an edition (or an import slot); ``CatalogLoadError`` if wrong."""
    name = _display(path)
    try:
        data, lines = _read(path)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CatalogLoadError([LoadProblem(file=name, message=f"文件格式错误：{exc}")]) from exc
    if "import_slot" in data:
        return _slot(name, data["import_slot"])
    head = data.get("edition")
    if not isinstance(head, dict):
        raise CatalogLoadError([LoadProblem(file=name, message="缺少 [edition] 表（目录版本信息）")])
    problems: list[LoadProblem] = []
    for field in sorted(set(head) - EDITION_FIELDS):
        problems.append(LoadProblem(file=name, message=f"未知字段 {field}", field=field))
    key = str(head.get("key") or "").strip()
    if not _KEY.match(key):
        problems.append(LoadProblem(file=name, message=f"版本编号应为小写字母、数字和 -_. 组成，而不是 {key!r}",
                                    field="key"))
    scope, problem = rules.validate_scope(head.get("scope"))
    if problem:
        problems.append(_problem(name, problem, None))
    title = str(head.get("title") or "").strip()
    if not title:
        problems.append(LoadProblem(file=name, message="「目录名称」不能为空", field="title"))
    dates = {}
    for field in ("effective", "superseded"):
        dates[field], problem = rules.parse_date(head.get(field), field)
        if problem:
            problems.append(_problem(name, problem, None))
    if dates["effective"] and dates["superseded"] and dates["superseded"] <= dates["effective"]:
        problems.append(LoadProblem(file=name, message="废止日期应晚于施行日期", field="superseded"))
    default_class = str(head.get("default_class") or "")
    entries = []
    seen: set[str] = set()
    raw_entries = data.get("technology") or []
    if not raw_entries:
        problems.append(LoadProblem(file=name, message="目录没有任何技术条目（[[technology]]）", field="technology"))
    for index, raw in enumerate(raw_entries):
        row = lines[index] if index < len(lines) else index + 1
        entry, found = rules.validate_entry(raw, default_class=default_class, seen=seen)
        problems.extend(_problem(name, p, row) for p in found)
        if entry:
            entries.append(entry)
    if problems:
        raise CatalogLoadError(problems)
    return CatalogEdition(
        key=key, scope=scope or "", title=title, entries=tuple(entries),
        document=str(head.get("document") or ""), issuer=str(head.get("issuer") or ""),
        effective_on=dates["effective"], superseded_on=dates["superseded"],
        superseded_by=str(head.get("superseded_by") or ""), supersedes=str(head.get("supersedes") or ""),
        source=str(head.get("source") or ""), file=name,
    )


def _slot(name: str, head: dict) -> ImportSlot:
    problems = [LoadProblem(file=name, message=f"未知字段 {f}", field=f) for f in sorted(set(head) - SLOT_FIELDS)]
    key = str(head.get("key") or "").strip()
    if not _KEY.match(key):
        problems.append(LoadProblem(file=name, message=f"版本编号格式不正确：{key!r}", field="key"))
    scope, problem = rules.validate_scope(head.get("scope"))
    if problem:
        problems.append(_problem(name, problem, None))
    default_class = rules.CLASS_ALIASES.get(str(head.get("default_class") or "restricted"))
    if default_class is None:
        problems.append(LoadProblem(file=name, message=f"未知类别 {head.get('default_class')!r}", field="class"))
    if not str(head.get("title") or "").strip():
        problems.append(LoadProblem(file=name, message="「目录名称」不能为空", field="title"))
    if problems:
        raise CatalogLoadError(problems)
    return ImportSlot(key=key, scope=scope or "", title=str(head["title"]).strip(),
                      default_class=default_class or "restricted", rule=str(head.get("rule") or ""),
                      note=str(head.get("note") or ""), file=name)


def load_dir(folder: Path | str, *also: Path) -> list[CatalogEdition | ImportSlot]:
    """Every ``*.toml`` / ``*.json`` data file of ``folder`` in name order, then the
    files ``also`` names (e.g. the national editions in ``plugins/national/`` that a
    province's documents cite).

    All files are checked; if any is wrong, ``CatalogLoadError`` lists every problem
    of every file and nothing is returned. Two files with the same edition are an error.
    """
    folder = Path(folder)
    found: list[CatalogEdition | ImportSlot] = []
    problems: list[LoadProblem] = []
    keys: dict[str, str] = {}
    own = sorted(p for p in folder.iterdir() if p.suffix in (".toml", ".json")) if folder.is_dir() else []
    for path in [*own, *also]:
        try:
            item = load_file(path)
        except CatalogLoadError as exc:
            problems.extend(exc.problems)
            continue
        uid = f"{item.scope}:{item.key}"
        if uid in keys:
            problems.append(LoadProblem(file=item.file, message=f"版本 {item.key} 已在 {keys[uid]} 中定义",
                                        field="key"))
        keys[uid] = item.file
        found.append(item)
    if problems:
        raise CatalogLoadError(problems)
    return found
