"""docs/plugins.md documents every hook of core/hookspecs.py (datasette's pattern)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.plugins import PluginHost

DOCS = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"


def _hooks() -> dict[str, object]:
    pm = PluginHost(()).pm
    return {name: getattr(pm.hook, name) for name in dir(pm.hook) if not name.startswith("_")}


def _sections() -> dict[str, str]:
    """``#### `hook(args)` `` heading → the text up to the next heading."""
    text = DOCS.read_text(encoding="utf-8")
    parts = re.split(r"^#### `(\w+)\(([^)]*)\)`\s*$", text, flags=re.M)
    return {parts[i]: f"({parts[i + 1]})\n" + parts[i + 2] for i in range(1, len(parts) - 2, 3)}


@pytest.mark.parametrize("hook", sorted(_hooks()))
def test_plugin_hooks_are_documented(hook):
    """Every hook has a section with its signature, its kind, every argument and an example."""
    sections = _sections()
    assert hook in sections, f"docs/plugins.md has no '#### `{hook}(…)`' section for the hook {hook}"
    caller = _hooks()[hook]
    section = sections[hook]
    signature = section.splitlines()[0]
    for arg in caller.spec.argnames:
        assert re.search(rf"\b{arg}\b", signature), f"{hook}: argument {arg} missing from the heading"
        assert section.count(arg) >= 2, f"{hook}: argument {arg} is not explained"
    documented = [a.strip() for a in signature.strip("()").split(",") if a.strip()]
    assert documented == list(caller.spec.argnames), f"{hook}: heading arguments differ from the hookspec"
    kind = "*First result" if caller.spec.opts.get("firstresult") else "*Collect all"
    assert kind in section, f"{hook}: the section must say '{kind.strip('*')}'"
    assert "```python" in section and f"def {hook}(" in section, f"{hook}: the section needs an example"


def test_docs_name_no_hook_that_does_not_exist():
    stale = sorted(set(_sections()) - set(_hooks()))
    assert not stale, f"docs/plugins.md documents hooks that core/hookspecs.py no longer has: {stale}"


def test_every_hookspec_has_a_docstring():
    for name, caller in _hooks().items():
        assert (caller.spec.function.__doc__ or "").strip(), f"core/hookspecs.py: {name} has no docstring"
