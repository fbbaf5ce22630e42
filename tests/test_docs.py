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


# ---------------------------------------------------------------- the examples run


ROOT = DOCS.parent.parent


def _examples() -> list[tuple[int, str]]:
    """Every fenced python block of docs/plugins.md with its line number."""
    text = DOCS.read_text(encoding="utf-8")
    return [(text[: m.start()].count("\n") + 2, m.group(1))
            for m in re.finditer(r"^```python\n(.*?)^```", text, flags=re.M | re.S)]


def _prelude() -> dict:
    """What the fragments take for granted: the imports a plugin module has, its own
    folder (``__file__``: Jilin's, so the catalogue and templates exist) and its constants."""
    import datetime as dt

    from litestar import get
    from litestar.response import Template

    from core import hookimpl
    from core.accounts.schemas import Actor

    return {"__name__": "doc_example", "__file__": str(ROOT / "plugins" / "jilin" / "plugin.py"),
            "hookimpl": hookimpl, "Path": Path, "date": dt.date, "get": get, "Template": Template, "Actor": Actor,
            "MY_INSTITUTIONS": {17}, "MATERIALS": []}


def _arguments() -> dict:
    """Arguments as core passes them, chosen so each example has something to answer."""
    import datetime as dt

    from core.contract import (
        Actor,
        CaseInput,
        FilingCheck,
        InstitutionInfo,
        PersonCheck,
        PersonInfo,
        ProjectInfo,
        TechnologyInfo,
    )

    day = dt.date(2026, 5, 6)
    return {
        "project": ProjectInfo(id=1, institution_id=17, department_id=None, department_subject="外科", title="新技术",
                               path="round", tech_class="routine", outside_lists=False),
        "person": PersonInfo(id=1, display_name="张医生", years_as_resident=1),
        "case": CaseInput(case_id="C1", technology_code="G01", patient_key="P1", admitted_on=day, operated_on=day,
                          discharged_on=day, operators=["doc"]),
        "technology": TechnologyInfo(code="G01", name="同种胰岛移植技术", tech_class="restricted"),
        "institution": InstitutionInfo(id=17, name="示范医院", licence_no="L1", grade="三级甲等"),
        "user": Actor(id=1, username="admin", display_name="管理员", roles=("admin",)),
        "filing": FilingCheck(institution_id=17, technology_code="G01", technology_name="同种胰岛移植技术",
                              has_specification=True, self_assessment="对照规范自评", assessment_basis="specification",
                              assessment_reference="", lead=PersonCheck(name="乙", of_institution=True, visiting=True),
                              physicians=()),
    }


@pytest.mark.parametrize(("line", "code"), _examples(), ids=[f"line{n}" for n, _ in _examples()])
async def test_plugin_doc_examples_run(line, code):
    """Each example runs; the hooks it implements load as a plugin and answer, through the
    hook view, something the contract accepts (deadline rules: the obligation engine's check)."""
    import types

    from core.contract import CaseTechnology, QcTechnologyInfo
    from core.obligations.rules import check_rules

    namespace = _prelude()
    exec(compile("\n" * (line - 1) + code, "docs/plugins.md", "exec"), namespace)  # tracebacks cite the page
    impls = {name: fn for name, fn in namespace.items() if hasattr(fn, "clintech_impl")}
    if not impls:
        return  # the testing example: running it was the test
    module = types.ModuleType("doc_example")
    for name, value in namespace.items():
        if hasattr(value, "clintech_impl") or name == "CLINTECH_API":
            setattr(module, name, value)
    host = PluginHost(("doc",), extra={"doc": module})  # load-time checks of static answers
    hooks, args = host.view(), _arguments()
    for hook in impls:
        spec = _hooks()[hook].spec
        kwargs = {a: args[a] for a in spec.argnames}
        if hook == "qc_indicators":
            kwargs["technology"] = QcTechnologyInfo(code="G01", name="同种胰岛移植技术", tech_class="restricted")
        if hook == "restricted_scope":
            kwargs["technology"] = CaseTechnology(code="S6", name="消化内镜诊疗技术", tech_class="restricted",
                                                  surgery_levels=(3, 4), surgery_level=2)
        if spec.opts.get("firstresult"):
            answer = hooks.call(hook, **kwargs)
        else:
            # The example's own answer (the built-in national plugin answers too, last).
            answers = [a.value for a in await hooks.collect_answers(hook, **kwargs) if a.plugin == "doc"]
            assert len(answers) == 1, f"docs/plugins.md:{line}: {hook} gave no answer"
            answer = answers[0]
        assert answer, f"docs/plugins.md:{line}: {hook} answered nothing"
        if hook == "deadline_rules":
            assert check_rules([("doc", answer)])
