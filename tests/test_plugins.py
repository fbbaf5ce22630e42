"""The plugin contract: discovery, the deployment's set, switches, and every hook's call path.

Hooks that no built-in plugin answers yet are proven through ``tests/plugins/contract.py``,
registered with ``PluginHost(..., extra={"contract": contract})``.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import html
import os
import re
import subprocess
import sys
import types
from importlib import metadata
from pathlib import Path

import pytest
from msgspec.structs import replace as dataclass_replace

from core import hookimpl
from core.contract import (
    ApprovalStep,
    CaseInput,
    Channel,
    ContractError,
    DemoRegion,
    DisclosureField,
    FilingFormSpec,
    FormSpec,
    InstitutionInfo,
    Material,
    PanelStep,
    PersonInfo,
    Problem,
    ProjectInfo,
    PublicityStep,
    QcIndicator,
    QcTechnologyInfo,
    ReviewStep,
    TechnologyInfo,
)
from core.plugins import PluginConfigError, PluginHost
from tests.plugins import contract, contract_web, hospital_override, unknown_hook

TESTS = Path(__file__).resolve().parent
CLINTECH = Path(sys.executable).parent / "clintech"


def project(institution_id: int = 1, path: str = "round", tech_class: str = "routine") -> ProjectInfo:
    """A project as core hands it to the hospital hooks."""
    return ProjectInfo(id=1, institution_id=institution_id, department_id=None, department_subject="外科",
                       title="测试项目", path=path, tech_class=tech_class, outside_lists=False)


def person(years_as_resident: int) -> PersonInfo:
    return PersonInfo(id=1, display_name="张医生", years_as_resident=years_as_resident)


def case(operated_on: dt.date, discharged_on: dt.date) -> CaseInput:
    return CaseInput(case_id="C1", technology_code="G01", patient_key="P1", admitted_on=operated_on,
                     operated_on=operated_on, discharged_on=discharged_on, operators=["doc"])


TECH = TechnologyInfo(code="G01", name="同种胰岛移植技术", tech_class="restricted")
INST = InstitutionInfo(id=1, name="测试医院", licence_no="L1", grade="三级甲等")
OURS = contract.INSTITUTION  # the institution the contract plugin answers for


def contract_host(*names: str) -> PluginHost:
    """The contract test plugin, alone unless ``names`` add real ones: its answers are its own."""
    return PluginHost((*names, "contract"), extra={"contract": contract})


# ---------------------------------------------------------------- the contract is complete


@functools.cache
def _test_function_names() -> frozenset[str]:
    """The test functions of tests/ (read once per run: every hook's test below asks)."""
    names = set()
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                names.add(node.name)
    return frozenset(names)


@pytest.mark.parametrize("hook", sorted(n for n in dir(PluginHost(()).pm.hook) if not n.startswith("_")))
def test_plugin_hooks_have_tests(hook):
    """Every hook of core/hookspecs.py is named by some test function (``test_hook_<name>…``)."""
    assert any(hook in name for name in _test_function_names()), (
        f"No test names the hook {hook}: add e.g. test_hook_{hook}_… (tests/plugins/contract.py can "
        "implement it if no real plugin does yet)"
    )


def test_every_hook_has_its_typed_contract():
    """Each hook of core/hookspecs.py is annotated with core.contract's types and has an
    entry in core.contract.HOOKS (how core converts and checks its answers)."""
    import typing

    from core import contract, hookspecs

    names = PluginHost(()).hook_names()
    assert sorted(contract.HOOKS) == names
    for name in names:
        hints = typing.get_type_hints(getattr(hookspecs, name))
        assert hints.get("return") not in (None, typing.Any), f"{name}: annotate its answer"
        assert all(h is not typing.Any for k, h in hints.items() if k != "return"), f"{name}: type its arguments"
        rules = contract.HOOKS[name]
        if rules.checked:
            assert rules.answer is not typing.Any, f"{name}: checked hooks convert to a type"


# ---------------------------------------------------------------- discovery and the deployment's set


def test_entry_points_list_the_built_in_plugins_with_version():
    host = PluginHost(("jilin", "hospital_default"))
    info = {p.name: p for p in host.plugins()}
    version = metadata.version("clintech-portal")
    for name in ("jilin", "henan", "hospital_default"):
        assert info[name].source == "built-in"
        assert info[name].version == version
        assert info[name].hooks, f"{name} shows no hooks"
    assert info["jilin"].in_deployment and not info["henan"].in_deployment
    assert "filing_materials" in info["henan"].hooks  # read from the module without registering it
    assert host.pm.get_plugin("henan") is None


def test_a_third_party_distribution_is_discovered_through_its_entry_point(tmp_path, monkeypatch):
    dist = tmp_path / "shenzhen_plugin-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: shenzhen-plugin\nVersion: 1.2.3\n")
    (dist / "entry_points.txt").write_text("[clintech.plugins]\nshenzhen = tests.plugins.third_party\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    host = PluginHost(("shenzhen",))
    info = {p.name: p for p in host.plugins()}["shenzhen"]
    assert (info.source, info.version, info.hooks) == ("third-party", "1.2.3", ("disclosure_fields",))
    # "title" is accepted for "label" (core.contract.DisclosureField); its answer first, the
    # built-in national plugin's minimum last.
    assert host.view().collect_flat("disclosure_fields")[0] == DisclosureField(key="case_count", label="累计例数")


def test_an_unknown_plugin_in_clintech_plugins_is_refused_in_chinese():
    with pytest.raises(PluginConfigError) as exc:
        PluginHost(("jilin", "guangdong"))
    assert "CLINTECH_PLUGINS" in str(exc.value) and "未安装" in str(exc.value) and "guangdong" in str(exc.value)


def test_a_plugin_implementing_an_unknown_hook_is_refused_at_start_up():
    with pytest.raises(PluginConfigError) as exc:
        PluginHost(("jilin", "misspelt"), extra={"misspelt": unknown_hook})
    assert "未定义的钩子" in str(exc.value) and "filing_materialz" in str(exc.value)


def test_an_implementation_with_an_argument_the_hook_lacks_is_refused():
    module = types.ModuleType("bad_args")

    @hookimpl
    def menu_items(user, tenant):
        return []

    module.menu_items = menu_items
    with pytest.raises(PluginConfigError) as exc:
        PluginHost(("bad_args",), extra={"bad_args": module})
    assert "不合规" in str(exc.value)


def test_the_app_refuses_to_start_with_an_unknown_hook():
    from web.app import create_app

    with pytest.raises(PluginConfigError):
        create_app(PluginHost(("misspelt",), extra={"misspelt": unknown_hook}))


# ---------------------------------------------------------------- province plugins


@pytest.mark.rule("JL-12")
def test_hook_filing_materials_jilin_are_the_six_of_jl_12_in_order():
    """JL-12: form, self-assessment, first case, argumentation, lead's credentials, physicians."""
    materials = PluginHost(("jilin", "hospital_default")).view().call(
        "filing_materials", technology=TECH, institution=INST)
    assert all(isinstance(m, Material) for m in materials)
    assert [m.key for m in materials] == [
        "form", "self_assessment", "first_case", "argumentation", "lead_credentials", "physicians"]
    assert all(m.rule == "JL-12" and m.required for m in materials)
    assert "备案表" in materials[0].title and "医师名单" in materials[5].title


@pytest.mark.rule("HN-2.2b")
def test_hook_filing_materials_henan_are_the_five_of_hn_2_2b_in_order():
    """HN-2.2b: the five scans in the order the Henan platform wants them."""
    materials = PluginHost(("henan", "hospital_default")).view().call(
        "filing_materials", technology=TECH, institution=INST)
    assert [m.key for m in materials] == ["form", "assessment", "argumentation", "lead_credentials", "other"]
    assert all(m.rule == "HN-2.2b" for m in materials)
    assert materials[0].title == "河南省限制类医疗技术临床应用备案表"
    assert [m.required for m in materials] == [True, True, True, True, False]


def test_hook_filing_materials_first_result_falls_through_a_none_answer():
    host = contract_host("jilin")
    ours = dataclass_replace(INST, id=OURS)
    assert [m.key for m in host.view().call("filing_materials", technology=TECH, institution=ours)] == ["form", "plan"]
    assert len(host.view().call("filing_materials", technology=TECH, institution=INST)) == 6  # Jilin's


@pytest.mark.rule("NAT-13")
def test_hook_filing_materials_a_material_core_reads_gets_its_slot_when_the_province_omits_it():
    """NAT-13: the argumentation blocks a submission without it, so a province that does not
    list it still gets an upload slot for it (core.contract.CORE_MATERIALS), required."""
    from core.filing.service import materials_for

    ours = dataclass_replace(INST, id=OURS)
    materials = materials_for(contract_host().view(), TECH, ours)
    assert [(m.key, m.required, m.rule) for m in materials] == [
        ("form", True, "TEST"), ("plan", False, "TEST"), ("argumentation", True, "NAT-13")]
    # A province listing it keeps its place and title.
    jilin = materials_for(PluginHost(("jilin",)).view(), TECH, INST)
    assert [m.key for m in jilin].count("argumentation") == 1 and jilin[3].key == "argumentation"


def test_hook_demo_region_comes_from_the_province_plugin():
    assert PluginHost(("henan",)).view().call("demo_region").province[:2] == ("河南省", "410000")
    assert PluginHost(("jilin",)).view().call("demo_region").province[:2] == ("吉林省", "220000")
    assert PluginHost(("hospital_default",)).view().call("demo_region") is None
    assert contract_host().view().call("demo_region") == DemoRegion(("测试省", "980000"), (("测试市", "980100"),))


def test_a_switched_off_plugin_is_not_asked():
    host = PluginHost(("jilin", "hospital_default"))
    assert host.view(frozenset({"jilin"})).call("filing_materials", technology=TECH, institution=INST) is None
    assert host.view(frozenset({"jilin"})).enabled == ("national", "hospital_default")
    # The built-in national plugin is always on: it cannot be disabled into the view either.
    assert host.view(frozenset({"national"})).disabled == frozenset()
    # A plugin outside the deployment cannot be "disabled" into the view.
    assert host.view(frozenset({"henan"})).disabled == frozenset()


# ---------------------------------------------------------------- hospital plugins


@pytest.mark.rule("HOSP-4")
def test_hook_admission_steps_a_hospital_plugin_overrides_the_default_for_its_institution_only(
    monkeypatch,
):
    """The default (HOSP-4 … HOSP-11) stays for every other institution, with no core change."""
    STEPS = PluginHost(("hospital_default",)).view().call("admission_steps", project=project(1))
    monkeypatch.setattr(hospital_override, "INSTITUTIONS", {101})
    host = PluginHost(("jilin", "hospital_default", "hospital_x"), extra={"hospital_x": hospital_override})
    hooks = host.view()
    own = hooks.call("admission_steps", project=project(101))
    other = hooks.call("admission_steps", project=project(202))
    assert [(s.key, s.kind) for s in own] == [("department", "review"), ("committee", "panel"), ("approval", "approval")]
    assert [s.key for s in other] == [s.key for s in STEPS]
    assert hospital_override.admission_steps(project=project(202)) is None
    # Switched off, the hospital's plugin no longer answers even for its own institution.
    off = host.view(frozenset({"hospital_x"})).call("admission_steps", project=project(101))
    assert [s.key for s in off] == [s.key for s in STEPS]


@pytest.mark.rule("HOSP-4")
def test_hook_admission_steps_default_is_the_yearly_round():
    steps = PluginHost(("hospital_default",)).view().call("admission_steps", project=project(1))
    assert steps[0].rule == "HOSP-4" and steps[0].kind == "argumentation" and len(steps[0].considerations) == 4
    temporary = PluginHost(("hospital_default",)).view().call("admission_steps", project=project(1, "temporary"))
    panel = next(s for s in temporary if s.kind == "panel")
    assert panel.by_grade_and_class and panel.rule == "HOSP-12"


def test_hook_admission_steps_options_are_typed_per_kind_from_structs_and_dicts():
    """Each step kind is a struct of core.contract; a dict with its ``kind`` converts to it."""
    steps = contract_host().view().call("admission_steps", project=project(OURS))
    assert [type(s) for s in steps] == [ReviewStep, PanelStep, PublicityStep, ApprovalStep]
    review, panel, publicity, approval = steps
    assert review.written_reply and panel.min_experts == 3 and panel.criteria == (("plan", "技术方案"),)
    assert publicity.weeks == 2 and approval.admits and not panel.by_grade_and_class


def _plugin(name: str, **hooks) -> types.ModuleType:
    module = types.ModuleType(name)
    for hook, answer in hooks.items():
        if callable(answer) and getattr(answer, "clintech_impl", None) is not None:
            setattr(module, hook, answer)
            continue
        spec_args = {"admission_steps": "project", "application_form": "project", "grades": "project",
                     "filing_materials": "technology, institution", "filing_form": "technology, institution",
                     "menu_items": "user", "validate_project": "project, person", "validate_case": "case",
                     "qc_indicators": "technology"}.get(hook, "")
        namespace = {"hookimpl": hookimpl, "answer": answer}
        exec(f"@hookimpl\ndef {hook}({spec_args}):\n    return answer\n", namespace)
        setattr(module, hook, namespace[hook])
    return module


@pytest.mark.parametrize(("hook", "answer", "field"), [
    ("admission_steps", [{"key": "x", "title": "专家", "kind": "panel", "role": "expert", "min_expert": 3}],
     "[0].min_expert"),
    ("admission_steps", [{"key": "x", "title": "公示", "kind": "publicity", "role": "medical_affairs", "weeks": 0}],
     "[0].weeks"),
    ("admission_steps", [{"key": "x", "title": "审批", "role": "hospital_head"}], "[0]"),
    ("admission_steps", [{"key": "x", "title": "审批", "kind": "vote", "role": "hospital_head"}], "[0].kind"),
    ("application_form", {"title": "表", "sections": [{"key": "a", "title": "甲", "fields": [{"key": "f"}]}]},
     "sections[0].fields[0]"),
    ("grades", [("A",)], "[0]"),
    ("filing_materials", [{"key": "form", "title": "备案表", "required": "是"}], "[0].required"),
    ("filing_form", {"title": "备案表"}, ""),
    ("reporting_channels", [{"key": "x", "name": "渠道", "kinds": ["fax"]}], "[0].kinds[0]"),
    ("disclosure_fields", [{"key": "", "label": "空"}], "[0].key"),
    ("demo_region", {"province": "河北省", "cities": []}, "province"),
    ("template_dirs", "templates", ""),
])
def test_a_static_answer_that_does_not_convert_is_refused_at_load_naming_plugin_hook_and_field(hook, answer, field):
    with pytest.raises(PluginConfigError) as exc:
        PluginHost(("broken",), extra={"broken": _plugin("broken", **{hook: answer})})
    message = str(exc.value)
    assert "插件 broken" in message and f"钩子 {hook}" in message, message
    assert (f"字段 {field}：" in message) if field else ("回答：" in message or "字段" in message), message


@pytest.mark.parametrize(("hook", "kwargs", "answer", "field"), [
    ("validate_project", {"project": project(), "person": person(5)}, [{"field": "lead"}], "[0]"),
    ("validate_case", {"case": case(dt.date(2026, 5, 1), dt.date(2026, 5, 2))}, [{"message": 3}], "[0].message"),
    ("menu_items", {"user": None}, [{"label": "菜单"}], "[0]"),
    ("qc_indicators", {"technology": QcTechnologyInfo(code="G01", name="x", tech_class="restricted")},
     [{"name": "率", "kind": "rate", "goal": "≤2%"}], "[0].goal"),
])
async def test_an_answer_that_depends_on_the_call_is_refused_when_called_naming_plugin_hook_and_field(
    hook, kwargs, answer, field,
):
    host = PluginHost(("broken",), extra={"broken": _plugin("broken", **{hook: answer})})
    with pytest.raises(ContractError) as exc:
        await host.view().collect(hook, **kwargs)
    assert (exc.value.plugin, exc.value.hook, exc.value.field) == ("broken", hook, field)
    assert f"插件 broken 的钩子 {hook}" in str(exc.value)


def test_an_answer_for_other_institutions_only_is_checked_when_called():
    """A hospital plugin answering only for its own institutions cannot be probed at load;
    its wrong answer is an error naming it when core asks for one of them."""
    module = types.ModuleType("later")

    @hookimpl(tryfirst=True)
    def admission_steps(project):
        return [{"key": "x", "title": "审批", "kind": "approval", "role": "hospital_head", "admit": True}] \
            if project.institution_id == 5 else None

    module.admission_steps = admission_steps
    host = PluginHost(("hospital_default", "later"), extra={"later": module})
    assert host.view().call("admission_steps", project=project(1))[0].key == "department"
    with pytest.raises(ContractError) as exc:
        host.view().call("admission_steps", project=project(5))
    assert (exc.value.plugin, exc.value.field) == ("later", "[0].admit")


def test_the_hook_view_names_the_plugin_behind_each_answer():
    hooks = contract_host("jilin", "hospital_default").view()
    assert [a.plugin for a in hooks.answers("disclosure_fields")] == ["contract", "jilin", "national"]
    first = hooks.first("filing_materials", technology=TECH, institution=INST)
    assert first.plugin == "jilin" and len(first.value) == 6
    assert hooks.first("admission_steps", project=project(OURS)).plugin == "contract"
    assert hooks.first("admission_steps", project=project(1)).plugin == "hospital_default"


def test_nothing_outside_the_hook_view_calls_pluggys_callers():
    """Every call goes through core.plugins.HookView, which knows the plugin behind each answer."""
    root = TESTS.parent
    offenders = []
    for folder in ("core", "web", "plugins"):
        for path in (root / folder).rglob("*.py"):
            if path == root / "core" / "plugins.py":
                continue
            text = path.read_text(encoding="utf-8")
            for needle in ("get_hookimpls", "_hookexec", "subset_hook_caller", "pm.hook.", "._caller("):
                if needle in text:
                    offenders.append(f"{path.relative_to(root)}: {needle}")
    assert offenders == []


def test_a_plugin_declaring_another_major_api_version_is_refused_naming_it():
    from core.contract import HOOK_API_VERSION

    assert HOOK_API_VERSION.startswith("2.")
    old = types.ModuleType("old_plugin")
    old.CLINTECH_API = "1"
    with pytest.raises(PluginConfigError) as exc:
        PluginHost(("old_plugin",), extra={"old_plugin": old})
    assert "插件 old_plugin" in str(exc.value) and "CLINTECH_API" in str(exc.value) and "2.0" in str(exc.value)
    for ok in ("2", "2.0", "2.7", 2):
        module = types.ModuleType("new_plugin")
        module.CLINTECH_API = ok
        assert PluginHost(("new_plugin",), extra={"new_plugin": module}).deployment == ("national", "new_plugin")
    assert contract.CLINTECH_API == "2"  # the test plugin declares it


def test_every_built_in_plugin_declares_the_api_version_it_was_written_for():
    """The portal's own plugins (the national default and every ``clintech.plugins`` entry
    point of this package) declare ``CLINTECH_API`` like any third-party plugin should,
    and it is the one core checks at load."""
    import importlib
    from importlib import metadata

    from core.contract import api_version_problem
    from core.plugins import DEFAULT_PLUGINS, ENTRY_POINT_GROUP

    built_in = dict(DEFAULT_PLUGINS) | {ep.name: ep.value for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)
                                        if ep.value.startswith("plugins.")}
    assert {"national", "jilin", "henan", "hospital_default"} <= set(built_in)
    for name, module_name in built_in.items():
        module = importlib.import_module(module_name)
        assert getattr(module, "CLINTECH_API", None) == "2", name
        assert "CLINTECH_API" in module.__all__ and api_version_problem(name, module.CLINTECH_API) is None


def test_a_hook_wrapper_is_refused():
    module = types.ModuleType("wrapping")

    @hookimpl(wrapper=True)
    def disclosure_fields():
        return (yield)

    module.disclosure_fields = disclosure_fields
    with pytest.raises(PluginConfigError) as exc:
        PluginHost(("wrapping",), extra={"wrapping": module})
    assert "插件 wrapping" in str(exc.value)


def test_a_first_result_hook_must_be_synchronous():
    module = types.ModuleType("asyncfirst")

    @hookimpl
    async def demo_region():
        return {"province": ("测试省", "980000"), "cities": []}

    module.demo_region = demo_region
    with pytest.raises(PluginConfigError) as exc:
        PluginHost(("asyncfirst",), extra={"asyncfirst": module})
    assert "插件 asyncfirst" in str(exc.value) and "同步" in str(exc.value)


def test_hook_application_form_first_result_for_the_project():
    hooks = contract_host("hospital_default").view()
    form = hooks.call("application_form", project=project(OURS))
    assert isinstance(form, FormSpec) and form.title == "契约测试申请表"
    assert [f.key for f in form.fields()] == ["grade", "indications"] and form.field("grade").required
    assert hooks.call("application_form", project=project(1)).title == "临床新技术立项准入申请表"  # the default


def test_hook_grades_first_result_as_value_label_pairs():
    hooks = contract_host("hospital_default").view()
    assert hooks.call("grades", project=project(OURS)) == [("A", "甲级"), ("B", "乙级")]
    assert [v for v, _ in hooks.call("grades", project=project(1))] == ["一级", "二级", "三级"]


@pytest.mark.rule("HOSP-5")
def test_hook_validate_project_collects_problems():
    hooks = contract_host().view()
    problems = hooks.collect_flat("validate_project", project=project(), person=person(1))
    assert problems == [Problem("项目负责人任住院医师不满 3 年", "lead", "HOSP-5")]
    assert hooks.collect_flat("validate_project", project=project(), person=person(5)) == []


def test_hook_validate_case_collects_problems():
    problems = contract_host().view().collect_flat("validate_case", case=case(dt.date(2026, 5, 10),
                                                                              dt.date(2026, 5, 1)))
    assert [(p.rule, p.field) for p in problems] == [("TEST-CASE", "discharged_on")]


# ---------------------------------------------------------------- collect-all data hooks


def test_hook_register_catalogs_collects_every_plugins_editions():
    editions = contract_host().view().collect_flat("register_catalogs")
    assert [(e.key, [t.code for t in e.entries]) for e in editions][0] == ("contract-hospital-2026", ["T01"])
    # The national editions come from the built-in national plugin, last.
    national = [e.key for e in contract_host().view(frozenset({"contract"})).collect_flat("register_catalogs")]
    assert national == [e.key for e in editions[1:]] and set(national) == {
        "national-restricted-2017", "national-restricted-2022", "national-prohibited"}


def test_hook_deadline_rules_collects_rules_as_data():
    rules = contract_host().view().collect_flat("deadline_rules")
    assert [(r["id"], r["event"], r["obligation"], r["offset"]["amount"]) for r in rules
            if not r["id"].startswith(("NAT-", "EVAL-"))] == [("TEST-1", "first_case", "filing", 15)]


async def test_hook_calendar_overrides_reach_the_deployment_calendar(deployment):
    from core.holidays.service import work_calendar

    with_plugin = await work_calendar(contract_host("jilin", "hospital_default").view())
    without = await work_calendar(PluginHost(("jilin", "hospital_default")).view())
    wednesday, saturday = dt.date(2026, 3, 4), dt.date(2026, 3, 7)
    assert without.is_working_day(wednesday) and not without.is_working_day(saturday)
    assert not with_plugin.is_working_day(wednesday) and with_plugin.is_working_day(saturday)


@pytest.mark.rule("HOSP-14")
async def test_hook_qc_indicators_may_be_async_and_are_awaited():
    tech = QcTechnologyInfo(code="G01", name="同种胰岛移植技术", tech_class="restricted")
    answers = await contract_host().view().collect("qc_indicators", technology=tech)
    assert answers == [[QcIndicator(name="同种胰岛移植技术并发症发生率", kind="rate", target="≤2%", unit="%")]]


async def test_hook_calendar_overrides_an_unreadable_item_is_skipped_and_names_its_plugin():
    from core.holidays.service import plugin_overrides_checked

    module = types.ModuleType("odd_calendar")

    @hookimpl
    def calendar_overrides():
        return [("2026-13-01", False, "无此日"), (dt.date(2026, 3, 4), 1, "不是布尔值"),
                (dt.date(2026, 3, 5), False, "本省临时假日")]

    module.calendar_overrides = calendar_overrides
    days, problems = await plugin_overrides_checked(PluginHost(("odd_calendar",),
                                                               extra={"odd_calendar": module}).view())
    assert [(d.day, d.working) for d in days] == [(dt.date(2026, 3, 5), False)]
    assert len(problems) == 2 and all(p.startswith("插件 odd_calendar 提供的日历调整无法识别") for p in problems)


@pytest.mark.rule("HOSP-14")
async def test_hook_qc_indicators_reach_the_projects_indicators():
    from core.qc.indicators import indicators_for

    project = {"id": 1, "institution": 1, "technology_code": "G01", "technology_name": "同种胰岛移植技术",
               "tech_class": "restricted", "form": {"qc_indicators": [{"name": "手术时间", "target": "<120"}]}}
    found = {i.name: i for i in await indicators_for(contract_host().view(), project)}
    plugin = found["同种胰岛移植技术并发症发生率"]
    assert (plugin.kind, plugin.target, plugin.unit, plugin.source) == ("rate", "≤2%", "%", "plugin")
    assert found["手术时间"].source == "project"


def test_hook_filing_form_first_result():
    ours = dataclass_replace(INST, id=OURS)
    form = contract_host("jilin").view().call("filing_form", technology=TECH, institution=ours)
    assert isinstance(form, FilingFormSpec) and form.title == "同种胰岛移植技术备案表"
    assert form.fields[0].prefill == "first_case_on" and not hasattr(form, "annotation")  # policy, not layout
    assert contract_host("jilin").view().call("filing_form", technology=TECH, institution=INST).rule == "JL-12"


def test_hook_reporting_channels_collects_channels():
    from core.outbox.channels import channels

    channel = channels(contract_host().view())[0]
    assert isinstance(channel, Channel)
    assert (channel.key, channel.kinds, channel.plugin, channel.materials[0].key) == (
        "contract_test", ("filing", "case"), "contract", "form")


def test_hook_disclosure_fields_collects_fields():
    from core.filing.service import disclosure_fields

    assert contract_host().view().collect_flat("disclosure_fields")[0] == DisclosureField("filed_on", "备案日期", "TEST")
    # The plugin's column first; the national minimum (NAT-24, NAT-40) fills what it does not name.
    assert disclosure_fields(contract_host().view()) == [
        {"key": "filed_on", "label": "备案日期", "rule": "TEST"}, {"key": "institution", "label": "医疗机构", "rule": "NAT-40"},
        {"key": "technology", "label": "限制类技术名称", "rule": "NAT-40"},
        {"key": "case_count", "label": "累计开展例数", "rule": "NAT-24"}]


# ---------------------------------------------------------------- web extensions


def test_hook_template_dirs_take_precedence_and_default_stays_reachable():
    from web.templating import build_environment

    dirs = PluginHost(("jilin",)).view().collect_flat("template_dirs")
    env = build_environment(dirs)
    assert env.get_template("jilin/about.html").filename.startswith(str(Path(dirs[0])))
    assert env.get_template("default:base.html") is not None


async def _switch(client, name: str, on: bool):
    response = await client.post(f"/admin/plugins/{name}", data={"enabled": "1" if on else "0"},
                                 headers={"hx-request": "true"})
    assert response.status_code == 200, response.text
    return response


async def test_hook_register_routes_answer_404_while_the_plugin_is_off_and_hook_menu_items_disappear(
    deployment, login_as,
):
    admin, clinician = await login_as("admin"), await login_as("clinician_a")
    page = await clinician.get("/p/jilin")
    assert page.status_code == 200 and "备案" in page.text
    assert "吉林省备案要求" in (await clinician.get("/")).text
    await _switch(admin, "jilin", False)
    assert (await clinician.get("/p/jilin")).status_code == 404
    assert "吉林省备案要求" not in (await clinician.get("/")).text
    await _switch(admin, "jilin", True)
    assert (await clinician.get("/p/jilin")).status_code == 200
    assert "吉林省备案要求" in (await clinician.get("/")).text


async def test_hook_register_routes_and_menu_items_of_a_test_plugin(deployment):
    import httpx

    from tests.fixtures import DEMO_PASSWORD, PortalClient
    from web.app import create_app

    app = create_app(PluginHost(("jilin", "hospital_default", "contract_web"), extra={"contract_web": contract_web}))
    async with PortalClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as admin:
        await admin.get("/login")
        await admin.post("/login", data={"username": "admin", "password": DEMO_PASSWORD})
        assert (await admin.get("/p/contract/5")).json() == {"thing": 5}
        assert "契约测试" in (await admin.get("/")).text
        await _switch(admin, "contract_web", False)
        assert (await admin.get("/p/contract/5")).status_code == 404
        assert "契约测试" not in (await admin.get("/")).text


# ---------------------------------------------------------------- the CLI and the admin page agree


def _admin_rows(text: str) -> dict[str, dict]:
    rows = {}
    for name, body in re.findall(r'<tr id="plugin-([\w-]+)">(.*?)</tr>', text, flags=re.S):
        cells = re.findall(r"<td>(.*?)</td>", body, flags=re.S)
        state = re.search(r'data-state="(on|off)"', body)
        rows[name] = {
            "version": cells[1].strip(),
            "hooks": tuple(re.findall(r'<span class="tag">([^<]+)</span>', cells[3])),
            "state": state.group(1) if state else "not in deployment",
            "source": html.unescape(cells[2].strip()),
        }
    return rows


async def test_clintech_plugins_lists_the_same_as_the_admin_page(deployment, login_as):
    from core.accounts.schemas import SYSTEM
    from core.messages import hook_labels
    from core.system import service as system

    await system.set_plugin_enabled(SYSTEM, deployment["host"], "jilin", False)
    page = (await (await login_as("admin")).get("/admin/plugins")).text
    out = subprocess.run([str(CLINTECH), "plugins"], capture_output=True, text=True, env=os.environ.copy(),
                         timeout=60)
    assert out.returncode == 0, out.stderr
    cli = {}
    for line in out.stdout.splitlines():
        if not line.strip() or line[0].isspace():
            continue  # details under a plugin's line
        name, version, source, rest = line.split(None, 3)
        state, _, hooks = rest.partition("  ")
        if rest.startswith("not in deployment"):
            state, hooks = "not in deployment", rest[len("not in deployment"):]
        cli[name] = {"version": version, "source": source, "state": state.strip(),
                     "hooks": tuple(h.strip() for h in hooks.split(",") if h.strip())}
    admin = _admin_rows(page)
    assert set(cli) == set(admin) >= {"jilin", "henan", "hospital_default"}
    labels = {"built-in": "内置", "third-party": "第三方", "default": "内置默认（国家规定）"}
    for name in cli:
        assert cli[name]["version"] == admin[name]["version"]
        # The admin page says what the hooks provide, in Chinese (never the hook names).
        assert tuple(hook_labels(cli[name]["hooks"])) == admin[name]["hooks"], name
        assert cli[name]["state"] == admin[name]["state"], name
        assert labels[cli[name]["source"]] == admin[name]["source"]
    assert cli["jilin"]["state"] == "off" and cli["hospital_default"]["state"] == "on"
