"""The plugin manager: discovery through entry points, the deployment's set,
the admin's run-time switches, and calling hooks.

Plugins are registered once per process. Switching one off does not unregister it
(that would change one worker only): callers take a ``HookView`` for the current
disabled set, read from the database per request, and hooks are called through
``pm.subset_hook_caller`` without the disabled plugins.
"""

from __future__ import annotations

import inspect
import os
from importlib import metadata
from types import ModuleType
from typing import Any

import msgspec
import pluggy

from core import hookspecs

ENTRY_POINT_GROUP = "clintech.plugins"
OWN_DISTRIBUTION = "clintech-portal"


class PluginConfigError(Exception):
    """The deployment's plugin configuration cannot start."""


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


class PluginHost:
    """The deployment's plugins: ``PluginHost(("jilin", "hospital_default"))``."""

    def __init__(self, deployment: tuple[str, ...] | list[str], extra: dict[str, ModuleType] | None = None):
        self.pm = pluggy.PluginManager("clintech")
        self.pm.add_hookspecs(hookspecs)
        if os.environ.get("CLINTECH_TRACE_PLUGINS"):
            self.pm.trace.root.setwriter(print)
            self.pm.enable_tracing()
        self._entries = _installed()
        for name, module in (extra or {}).items():
            self._entries[name] = _Entry(name=name, version="test", source="test", module=module)
        unknown = [n for n in deployment if n not in self._entries]
        if unknown:
            raise PluginConfigError(
                f"CLINTECH_PLUGINS 中的插件未安装：{', '.join(unknown)}"
                f"（已安装：{', '.join(sorted(self._entries))}）"
            )
        self.deployment = tuple(deployment)
        for name in self.deployment:
            entry = self._entries[name]
            if entry.module is None:
                try:
                    entry.module = entry.entry_point.load()
                except Exception as exc:
                    raise PluginConfigError(f"插件 {name} 无法加载：{exc}") from exc
            try:
                self.pm.register(entry.module, name=name)
            except pluggy.PluginValidationError as exc:
                raise PluginConfigError(f"插件 {name} 不合规：{exc}") from exc
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginConfigError(f"插件实现了未定义的钩子：{exc}") from exc
        self._callers: dict[tuple[str, frozenset[str]], Any] = {}

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
        return HookView(self, frozenset(disabled) & frozenset(self.deployment))

    def _caller(self, hook: str, disabled: frozenset[str]):
        key = (hook, disabled)
        caller = self._callers.get(key)
        if caller is None:
            if disabled:
                remove = [self.pm.get_plugin(n) for n in disabled]
                caller = self.pm.subset_hook_caller(hook, remove_plugins=remove)
            else:
                caller = getattr(self.pm.hook, hook)
            self._callers[key] = caller
        return caller


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

    def call(self, hook: str, **kwargs: Any) -> Any:
        """Call a hook with keyword arguments; firstresult hooks return one answer."""
        return self.host._caller(hook, self.disabled)(**kwargs)

    async def collect(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call a collect-all hook, await any awaitable answers, drop ``None``."""
        results = []
        for result in self.call(hook, **kwargs):
            if inspect.isawaitable(result):
                result = await result
            if result is not None:
                results.append(result)
        return results

    def collect_flat(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call a synchronous collect-all hook whose answers are lists; flatten them."""
        return [item for answer in self.call(hook, **kwargs) if answer for item in answer]
