"""The Jinja environment: plugin template folders first, then ours; ``default:`` reaches ours.

A plugin's template replaces a core page only when the plugin declares it in
``template_overrides``; any other clash (with a core page or with another plugin's
template) stops the start with a message naming the plugin and the template.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape
from markupsafe import Markup, escape

from core.accounts.roles import ROLE_LABELS
from core.messages import audit_action, audit_sentence, hook_labels, record_type, t
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
    The institution's name is escaped; the counts are integers."""
    row = ('<tr data-institution="{}"><td>{}</td>'
           + "".join(f'<td data-status="{s}">{{}}</td>' for s in COUNT_STATES) + "<td>{}</td></tr>")
    return Markup("\n".join(
        row.format(int(c["institution"]), escape(c["name"]), *(int(c["counts"][s]) for s in COUNT_STATES),
                   int(c["total"])) for c in counts))


def build_environment(plugin_dirs: list[str]) -> Environment:
    ours = FileSystemLoader(str(TEMPLATES))
    env = Environment(
        loader=ChoiceLoader([*(FileSystemLoader(d) for d in plugin_dirs), ours, PrefixLoader({"default": ours}, delimiter=":")]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": True}
    from web.site import site

    env.globals.update(t=t, ROLE_LABELS=ROLE_LABELS, REGION_LEVELS=LEVELS, hook_labels=hook_labels, site=site,
                       count_rows=count_rows, COUNT_STATES=COUNT_STATES)
    # ``{{ value | local }}``: a stored UTC timestamp in Beijing time (core/timefmt.py).
    from core.plugins import plugin_label

    env.filters.update(plugin_label=plugin_label, audit_action=audit_action, audit_sentence=audit_sentence, record_type=record_type, local=local_time)
    return env
