"""The plugin manager: discovery through entry points, the deployment's set,
the admin's run-time switches, and calling hooks.

Plugins are registered once per process. Switching one off does not unregister it
(that would change one worker only): callers take a ``HookView`` for the current
disabled set, read from the database per request. Every hook call goes through the
view, which calls each enabled plugin's implementation in pluggy's order (``tryfirst``,
``trylast``, registration), knows which plugin gave each answer, and converts every
answer to the hook's type in ``core.contract`` (a ``ContractError`` names the plugin,
the hook and the field). Nothing else touches pluggy's callers.

At load, ``PluginHost`` refuses (``PluginConfigError``, in Chinese, naming the plugin) a
plugin declaring another major ``CLINTECH_API`` than ``core.contract.HOOK_API_VERSION``,
a hook wrapper, and an answer that does not depend on the call and does not convert.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
from importlib import metadata
from types import ModuleType
from typing import Any, NamedTuple

import msgspec
import pluggy

from core import contract, hookspecs
from core.contract import ContractError
from core.settings import get_settings

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "clintech.plugins"
OWN_DISTRIBUTION = "clintech-portal"
# Built-in plugins registered in every deployment, whatever CLINTECH_PLUGINS says, and never
# switched off (datasette's ``default_*`` plugins are the model): the national rules and
# catalogues. Their hooks are ``trylast``, so any other plugin's answer wins.
DEFAULT_PLUGINS: tuple[tuple[str, str], ...] = (("national", "plugins.national"),)


class PluginConfigError(Exception):
    """The deployment's plugin configuration cannot start."""


class Answer(NamedTuple):
    """One plugin's (converted) answer to a hook."""

    plugin: str
    value: Any


class PluginInfo(msgspec.Struct, frozen=True):
    name: str
    version: str
    source: str  # built-in / third-party / test
    hooks: tuple[str, ...]
    in_deployment: bool
    description: str = ""


class _Entry(msgspec.Struct):
    name: str
    version: str
    source: str
    module: ModuleType | None = None
    entry_point: Any = None


def _own_version() -> str:
    try:
        return metadata.version(OWN_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "?"


def _installed() -> dict[str, _Entry]:
    found: dict[str, _Entry] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist
        own = dist is not None and dist.name == OWN_DISTRIBUTION
        found[ep.name] = _Entry(
            name=ep.name,
            version=dist.version if dist is not None else "?",
            source="built-in" if own else "third-party",
            entry_point=ep,
        )
    return found


# A plugin's name as people read it, from the first words of its module docstring
# ("国家规定：…" → "国家规定"); filled as hosts load plugins, read by ``plugin_label``.
_LABELS: dict[str, str] = {}


def _label_of(module: ModuleType | None, name: str) -> str:
    first = ((module.__doc__ or "") if module is not None else "").strip().splitlines()[:1]
    head = first[0].split("：", 1)[0].strip() if first else ""
    return head if head and head != first[0].strip() and len(head) <= 20 else name


def plugin_label(name: str) -> str:
    """How pages name a plugin: "国家规定" — its code name only if its docstring gives none."""
    return _LABELS.get(name, name)


class PluginHost:
    """The deployment's plugins: ``PluginHost(("jilin", "hospital_default"))``."""

    def __init__(self, deployment: tuple[str, ...] | list[str], extra: dict[str, ModuleType] | None = None):
        self.pm = pluggy.PluginManager("clintech")
        self.pm.add_hookspecs(hookspecs)
        self.trace = get_settings().trace_plugins
        self._entries = _installed()
        self.defaults = tuple(name for name, _ in DEFAULT_PLUGINS)
        for name, module_name in DEFAULT_PLUGINS:
            self._entries[name] = _Entry(name=name, version=_own_version(), source="default",
                                         module=importlib.import_module(module_name))
        for name, module in (extra or {}).items():
            self._entries[name] = _Entry(name=name, version="test", source="test", module=module)
        unknown = [n for n in deployment if n not in self._entries]
        if unknown:
            raise PluginConfigError(
                f"CLINTECH_PLUGINS 中的插件未安装：{', '.join(unknown)}"
                f"（已安装：{', '.join(sorted(self._entries))}）"
            )
        self.deployment = (*self.defaults, *(n for n in deployment if n not in self.defaults))
        for name in self.deployment:
            entry = self._entries[name]
            if entry.module is None:
                try:
                    entry.module = entry.entry_point.load()
                except Exception as exc:
                    raise PluginConfigError(f"插件 {name} 无法加载：{exc}") from exc
            problem = contract.api_version_problem(name, getattr(entry.module, "CLINTECH_API", None))
            if problem:
                raise PluginConfigError(problem)
            _LABELS[name] = _label_of(entry.module, name)
            try:
                self.pm.register(entry.module, name=name)
            except pluggy.PluginValidationError as exc:
                raise PluginConfigError(f"插件 {name} 不合规：{exc}") from exc
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginConfigError(f"插件实现了未定义的钩子：{exc}") from exc
        self._impls: dict[tuple[str, frozenset[str]], list[Any]] = {}
        self._check_answers()

    def _check_answers(self) -> None:
        """Refuse hook wrappers, and answers that do not depend on the call and do not
        convert (``core.contract.HOOKS[hook].probes``), naming the plugin."""
        for hook in self.hook_names():
            rules = contract.HOOKS.get(hook)
            for impl in self.impls(hook):
                if impl.hookwrapper or impl.wrapper:
                    raise PluginConfigError(f"插件 {impl.plugin_name} 的钩子 {hook} 是包装器（wrapper），本系统不支持")
                if rules is None or rules.probes is None or not rules.checked:
                    continue
                for kwargs in rules.probes():
                    try:
                        answer = _invoke(impl, hook, kwargs)
                    except Exception:  # depends on the call after all: checked when called
                        log.debug("probe of %s.%s raised", impl.plugin_name, hook, exc_info=True)
                        continue
                    if inspect.isawaitable(answer):
                        _close(answer)
                        if _firstresult(self.pm, hook) or hook in SYNC_HOOKS:
                            raise PluginConfigError(str(ContractError(
                                impl.plugin_name, hook, "", "须为同步函数（不能是 async def）")))
                        continue
                    try:
                        contract.convert(impl.plugin_name, hook, answer)
                    except ContractError as exc:
                        raise PluginConfigError(str(exc)) from None

    # ------------------------------------------------------------ introspection

    def hooks_of(self, name: str) -> tuple[str, ...]:
        """The hooks a plugin implements; for one outside the deployment, read from its
        module without registering it (the admin page shows what switching it in would add)."""
        module = self.pm.get_plugin(name)
        if module is not None:
            return tuple(sorted(c.name for c in self.pm.get_hookcallers(module) or []))
        entry = self._entries.get(name)
        if entry is None:
            return ()
        if entry.module is None:
            try:
                entry.module = entry.entry_point.load()
            except Exception:  # a broken third-party plugin must not break the admin page
                return ()
        marker = f"{self.pm.project_name}_impl"
        return tuple(sorted(
            attr for attr in dir(entry.module)
            if hasattr(getattr(entry.module, attr, None), marker) and hasattr(self.pm.hook, attr)
        ))

    def plugins(self) -> list[PluginInfo]:
        """Every installed plugin: name, version, source, hooks — for the admin page and CLI."""
        out = []
        for name, entry in sorted(self._entries.items()):
            doc = ""
            if entry.module is not None:
                doc = (inspect.getdoc(entry.module) or "").splitlines()[0] if entry.module.__doc__ else ""
            out.append(
                PluginInfo(
                    name=name,
                    version=entry.version,
                    source=entry.source,
                    hooks=self.hooks_of(name),
                    in_deployment=name in self.deployment,
                    description=doc,
                )
            )
        return out

    def view(self, disabled: frozenset[str] = frozenset()) -> HookView:
        """The hooks without the ``disabled`` plugins; a default plugin is never disabled."""
        return HookView(self, frozenset(disabled) & (frozenset(self.deployment) - frozenset(self.defaults)))

    def hook_names(self) -> list[str]:
        """Every hook of the contract (``core/hookspecs.py``)."""
        return sorted(n for n in dir(self.pm.hook) if not n.startswith("_"))

    def impls(self, hook: str, disabled: frozenset[str] = frozenset()) -> list[Any]:
        """The implementations of ``hook`` outside ``disabled``, in the order pluggy calls
        them (``tryfirst`` first, ``trylast`` last, later registrations first)."""
        key = (hook, disabled)
        found = self._impls.get(key)
        if found is None:
            caller = getattr(self.pm.hook, hook)
            found = [i for i in reversed(caller.get_hookimpls()) if i.plugin_name not in disabled]
            self._impls[key] = found
        return found


# Collect-all hooks whose answers are read synchronously (documented in core/hookspecs.py).
SYNC_HOOKS = frozenset({"register_catalogs", "deadline_rules", "reporting_channels", "disclosure_fields",
                        "template_dirs", "register_routes", "warning_rules", "credit_items"})


def _firstresult(pm: pluggy.PluginManager, hook: str) -> bool:
    return bool((getattr(pm.hook, hook).spec.opts or {}).get("firstresult"))


def _invoke(impl: Any, hook: str, kwargs: dict[str, Any]) -> Any:
    try:
        args = [kwargs[name] for name in impl.argnames]
    except KeyError as exc:
        raise TypeError(f"调用钩子 {hook} 缺少参数 {exc}（插件 {impl.plugin_name}）") from None
    return impl.function(*args)


def _close(awaitable: Any) -> None:
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()


class HookView:
    """The hooks as seen with one disabled set; cheap, built per request."""

    def __init__(self, host: PluginHost, disabled: frozenset[str]):
        self.host = host
        self.disabled = disabled
        # Values derived from this view that one request may need several times
        # (e.g. the deployment's work calendar); a view lives for one request or job run.
        self.memo: dict[str, Any] = {}

    @property
    def enabled(self) -> tuple[str, ...]:
        return tuple(n for n in self.host.deployment if n not in self.disabled)

    def is_enabled(self, name: str) -> bool:
        return name in self.host.deployment and name not in self.disabled

    # ------------------------------------------------------------ calling hooks

    def _raw(self, hook: str, kwargs: dict[str, Any], first: bool) -> list[tuple[str, Any]]:
        out = []
        for impl in self.host.impls(hook, self.disabled):
            answer = _invoke(impl, hook, kwargs)
            if self.host.trace:
                print(f"[plugins] {hook}({', '.join(kwargs)}) ← {impl.plugin_name}: {answer!r}")
            if answer is None:
                continue
            out.append((impl.plugin_name, answer))
            if first:
                break
        return out

    def _sync(self, hook: str, plugin: str, answer: Any) -> Any:
        if inspect.isawaitable(answer):
            _close(answer)
            raise ContractError(plugin, hook, "", "须为同步函数（不能是 async def）")
        return contract.convert(plugin, hook, answer)

    def each(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """``(plugin, ask)`` per enabled implementation, in call order: ``ask()`` calls that
        plugin alone and returns its raw answer, for a caller that isolates each plugin's
        failures (the catalogue loader) and converts the answer itself."""
        return [(impl.plugin_name, functools.partial(_invoke, impl, hook, kwargs))
                for impl in self.host.impls(hook, self.disabled)]

    def answers(self, hook: str, **kwargs: Any) -> list[Answer]:
        """Every enabled plugin's answer to a synchronous hook, converted, with the plugin
        that gave it, in call order; ``None`` answers are dropped. A firstresult hook
        gives at most one."""
        first = _firstresult(self.host.pm, hook)
        return [Answer(p, self._sync(hook, p, a)) for p, a in self._raw(hook, kwargs, first)]

    def first(self, hook: str, **kwargs: Any) -> Answer | None:
        """The first non-None answer (firstresult hooks), with the plugin that gave it."""
        found = [Answer(p, self._sync(hook, p, a)) for p, a in self._raw(hook, kwargs, True)]
        return found[0] if found else None

    def call(self, hook: str, **kwargs: Any) -> Any:
        """Call a synchronous hook with keyword arguments: a firstresult hook gives its
        one answer (or None), a collect-all hook the list of answers; converted."""
        found = self.answers(hook, **kwargs)
        if _firstresult(self.host.pm, hook):
            return found[0].value if found else None
        return [a.value for a in found]

    async def collect_answers(self, hook: str, **kwargs: Any) -> list[Answer]:
        """A collect-all hook whose answers may be awaitable: awaited, converted, with plugins."""
        out = []
        for plugin, answer in self._raw(hook, kwargs, False):
            if inspect.isawaitable(answer):
                answer = await answer
            if answer is not None:
                out.append(Answer(plugin, contract.convert(plugin, hook, answer)))
        return out

    async def collect(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call a collect-all hook, await any awaitable answers, drop ``None``; converted."""
        return [a.value for a in await self.collect_answers(hook, **kwargs)]

    def collect_flat(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call a synchronous collect-all hook whose answers are lists; flatten them."""
        return [item for answer in self.call(hook, **kwargs) if answer for item in answer]
