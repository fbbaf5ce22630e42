"""The Jinja environment: plugin template folders first, then ours; ``default:`` reaches ours.

A plugin's template replaces a core page only when the plugin declares it in
``template_overrides``; any other clash (with a core page or with another plugin's
template) stops the start with a message naming the plugin and the template.
"""

from __future__ import annotations

import functools
from pathlib import Path

from jinja2 import (
    BytecodeCache,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    select_autoescape,
)
from jinja2.bccache import Bucket
from markupsafe import Markup, escape

from core.accounts.roles import ROLE_LABELS
from core.messages import audit_action, audit_sentence, hook_labels, record_type, t
from core.settings import get_settings
from core.tenancy.rules import LEVELS
from core.timefmt import local_time

TEMPLATES = Path(__file__).parent / "templates"


class TemplateClashError(Exception):
    """Plugin templates that would silently replace a page they did not declare."""


def _names(folder: Path) -> set[str]:
    """The template names a folder serves ("obligations/index.html")."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def plugin_template_dirs(host) -> list[str]:
    """The enabled deployment's plugin template folders, in hook order, after checking
    that each plugin replaces only the core pages it declares (``template_overrides``)
    and that no two plugins serve the same name. Raises ``TemplateClashError`` naming
    the plugin and the template."""
    hooks = host.view()
    declared: dict[str, set[str]] = {}
    for plugin, names in hooks.answers("template_overrides"):
        declared[plugin] = {str(n) for n in names}
    core_names = _names(TEMPLATES)
    problems: list[str] = []
    owner: dict[str, str] = {}
    dirs: list[str] = []
    answers = hooks.answers("template_dirs")  # in call order, with the plugin behind each
    for plugin, folders in answers:
        served: set[str] = set()
        for folder in folders:
            dirs.append(str(folder))
            served |= _names(Path(folder))
        wanted = declared.get(plugin, set())
        for name in sorted(served):
            if name in owner:
                problems.append(f"插件 {plugin} 的模板 {name} 与插件 {owner[name]} 的同名模板冲突")
                continue
            owner[name] = plugin
            if name in core_names and name not in wanted:
                problems.append(f"插件 {plugin} 的模板 {name} 与系统页面同名，但未在 template_overrides 中声明覆盖")
        for name in sorted(wanted - served):
            problems.append(f"插件 {plugin} 声明覆盖模板 {name}，但其模板目录中没有该文件")
        for name in sorted(wanted - core_names):
            problems.append(f"插件 {plugin} 声明覆盖的模板 {name} 不是系统页面")
    for plugin in sorted(set(declared) - {a.plugin for a in answers}):
        for name in sorted(declared[plugin]):
            problems.append(f"插件 {plugin} 声明覆盖模板 {name}，但没有提供模板目录（template_dirs）")
    if problems:
        raise TemplateClashError("；".join(problems))
    return dirs


# The obligation states of the per-institution count table, in its column order.
COUNT_STATES = ("overdue", "due_soon", "open", "done_on_time", "done_late", "exempt", "waived")


def count_rows(counts: list[dict]) -> Markup:
    """The rows of the per-institution obligation count table (``obligations/_counts.html``),
    built here rather than in a template loop: a province's regulator sees a row for each of
    its (up to a thousand) institutions, and the loop cost more than the page's queries.
    The institution's name is escaped and links to its page; the counts are integers."""
    row = ('<tr data-institution="{}"><td><a href="/institutions/{}">{}</a></td>'
           + "".join(f'<td data-status="{s}">{{}}</td>' for s in COUNT_STATES) + "<td>{}</td></tr>")
    return Markup("\n".join(
        row.format(int(c["institution"]), int(c["institution"]), escape(c["name"]),
                   *(int(c["counts"][s]) for s in COUNT_STATES), int(c["total"])) for c in counts))


try:  # markupsafe's own C escaping, without building a ``Markup`` per value (which cost more)
    from markupsafe import _escape_inner
except ImportError:  # another markupsafe: the public function
    _escape_inner = None


def _text(value) -> str:
    """``escape(value)`` as a plain string (a ``Markup`` value stays as it is)."""
    if type(value) is str and _escape_inner is not None:
        return _escape_inner(value)
    return str(escape(value))


def _todo_row(task) -> str:
    if task.due_on:
        when = task.due_on.isoformat()
        if task.days_left is not None:
            left = (f"剩余 {int(task.days_left)} 个工作日" if task.days_left >= 0
                    else f"逾期 {int(-task.days_left)} 个工作日")
            when += f'<br><span class="muted">{left}</span>'
    elif task.since:
        when = f'<span class="muted">自 {task.since.isoformat()} 起</span>'
    else:
        when = '<span class="muted">—</span>'
    what = f'<a href="{_text(task.link)}">{_text(task.title)}</a>'
    if task.institution:
        what += f'<br><span class="muted">{_text(task.institution)}</span>'
    basis = f'<span class="tag">{_text(task.rule)}</span>' if task.rule else ""
    if task.article:
        basis += f'<details><summary class="muted">条文</summary><p class="article">{_text(task.article)}</p></details>'
    return (f'    <tr data-task="{_text(task.key)}" data-state="{_text(task.state)}">\n'
            f"      <td>{when}</td>\n"
            f"      <td>{_text(task.source_label)}</td>\n"
            f"      <td>{what}</td>\n"
            f"      <td>{_text(task.action)}</td>\n"
            f"      <td>{basis}</td>\n"
            f'      <td><span class="state state-{_text(task.state)}">{_text(task.state_label)}</span></td>\n'
            "    </tr>")


def todo_rows(tasks) -> Markup:
    """The rows of the to-do list (``dashboard/_todo.html``, ``core.dashboard.todo.Task``),
    built here rather than in a template loop: the dashboard is every user's first page
    and the loop cost more than the rest of its rendering. Every text is escaped; the
    dates and day counts are the task's own."""
    return Markup("\n".join(_todo_row(task) for task in tasks))


def _field(item, name: str):
    """``item.name`` as Jinja reads it: a dict's key or an object's attribute (a plugin's
    menu item may be either); ``None`` when absent."""
    if isinstance(item, dict):
        return item.get(name)
    return getattr(item, name, None)


@functools.lru_cache(maxsize=512)
def _nav_markup(items: tuple[tuple[str, str, str, bool], ...]) -> str:
    lines = ["    <ul>"]
    for label, href, count, current in items:
        badge = f' <span class="badge">{count}</span>' if count else ""
        mark = 'aria-current="page"' if current else ""
        lines.append(f'      <li><a href="{href}" {mark}>{label}{badge}</a></li>')
    lines.append("    </ul>")
    return "\n".join(lines)


def nav_items(nav, current_path) -> Markup:
    """The side navigation's list (``base.html``), built here rather than in a template loop:
    every page draws its 20-odd items. The markup is kept per distinct navigation (labels,
    links, badge counts — each escaped — and which item is the current page), so a role
    change, a plugin switch or a new count draws anew; nothing is kept but what it shows."""
    items = tuple((_text(_field(i, "label")), _text(href := _field(i, "href")),
                   _text(c) if (c := _field(i, "count")) else "", current_path == href) for i in nav)
    return Markup(_nav_markup(items))


class SharedCompiledTemplates(BytecodeCache):
    """Compiled templates shared by every environment of the process that
    ``build_environment`` makes (they all have the same options, filters and globals, which
    is what sharing Jinja's bytecode requires). Keyed, as Jinja's own caches are, by the
    template's name and file and checked against its source's checksum, so a plugin's
    override (another file) or a changed file compiles afresh. A served portal builds one
    environment and gains nothing; a test run builds many apps (the kit's per plugin set, the
    live servers', and those tests build for themselves), and compiling every template again
    for each was ~10 s of a SQLite half's GIL time (py-spy, issue 9)."""

    def __init__(self) -> None:
        self._compiled: dict[str, tuple[str, object]] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        found = self._compiled.get(bucket.key)
        if found is not None and found[0] == bucket.checksum:
            bucket.code = found[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._compiled[bucket.key] = (bucket.checksum, bucket.code)


_COMPILED = SharedCompiledTemplates()


def build_environment(plugin_dirs: list[str]) -> Environment:
    ours = FileSystemLoader(str(TEMPLATES))
    env = Environment(
        bytecode_cache=_COMPILED,
        loader=ChoiceLoader([*(FileSystemLoader(d) for d in plugin_dirs), ours, PrefixLoader({"default": ours}, delimiter=":")]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates change with a deployment, not while it runs: no stat of every template
        # file at every render, except in development (CLINTECH_DEBUG=1).
        auto_reload=get_settings().debug,
    )
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": True}
    from web.assets import asset
    from web.site import site

    env.globals.update(t=t, ROLE_LABELS=ROLE_LABELS, REGION_LEVELS=LEVELS, hook_labels=hook_labels, site=site,
                       count_rows=count_rows, COUNT_STATES=COUNT_STATES, todo_rows=todo_rows,
                       nav_items=nav_items, asset=asset)
    # ``{{ value | local }}``: a stored UTC timestamp in Beijing time (core/timefmt.py).
    from core.plugins import plugin_label

    env.filters.update(plugin_label=plugin_label, audit_action=audit_action, audit_sentence=audit_sentence, record_type=record_type, local=local_time)
    return env
