"""The plugin contract: discovery, the deployment's set, switches, and every hook's call path.

Hooks that no built-in plugin answers yet are proven through ``tests/plugins/contract.py``,
registered with ``PluginHost(..., extra={"contract": contract})``.
"""

from __future__ import annotations

import ast
import datetime as dt
import html
import os
import re
import subprocess
import sys
import types
from importlib import metadata
from pathlib import Path

import msgspec
import pytest

from core import hookimpl
from core.plugins import PluginConfigError, PluginHost
from tests.plugins import contract, contract_web, hospital_override, unknown_hook

TESTS = Path(__file__).resolve().parent
CLINTECH = Path(sys.executable).parent / "clintech"


class ProjectRef(msgspec.Struct, frozen=True):
    institution_id: int
    title: str = "测试项目"


class TechnologyRef(msgspec.Struct, frozen=True):
    code: str
    name: str


class InstitutionRef(msgspec.Struct, frozen=True):
    id: int
    name: str = "测试医院"


class PersonRef(msgspec.Struct, frozen=True):
    username: str
    years_in_post: int


class CaseRef(msgspec.Struct, frozen=True):
    operation_date: dt.date
    discharge_date: dt.date


TECH = TechnologyRef(code="G01", name="同种胰岛移植技术")
INST = InstitutionRef(id=1)


def contract_host(*names: str) -> PluginHost:
    """The contract test plugin, alone unless ``names`` add real ones: its answers are its own."""
    return PluginHost((*names, "contract"), extra={"contract": contract})


# ---------------------------------------------------------------- the contract is complete


def _test_function_names() -> set[str]:
    names = set()
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                names.add(node.name)
    return names


@pytest.mark.parametrize("hook", sorted(n for n in dir(PluginHost(()).pm.hook) if not n.startswith("_")))
def test_plugin_hooks_have_tests(hook):
    """Every hook of core/hookspecs.py is named by some test function (``test_hook_<name>…``)."""
    assert any(hook in name for name in _test_function_names()), (
        f"No test names the hook {hook}: add e.g. test_hook_{hook}_… (tests/plugins/contract.py can "
        "implement it if no real plugin does yet)"
    )


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
    assert host.view().collect_flat("disclosure_fields") == [{"key": "case_count", "title": "累计例数"}]


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
    assert [m["key"] for m in materials] == [
        "form", "self_assessment", "first_case", "argumentation", "lead_credentials", "physicians"]
    assert all(m["rule"] == "JL-12" and m["required"] for m in materials)
    assert "备案表" in materials[0]["title"] and "医师名单" in materials[5]["title"]


@pytest.mark.rule("HN-2.2b")
def test_hook_filing_materials_henan_are_the_five_of_hn_2_2b_in_order():
    """HN-2.2b: the five scans in the order the Henan platform wants them."""
    materials = PluginHost(("henan", "hospital_default")).view().call(
        "filing_materials", technology=TECH, institution=INST)
    assert [m["key"] for m in materials] == ["form", "assessment", "argumentation", "lead_credentials", "other"]
    assert all(m["rule"] == "HN-2.2b" for m in materials)
    assert materials[0]["title"] == "河南省限制类医疗技术临床应用备案表"
    assert [m["required"] for m in materials] == [True, True, True, True, False]


def test_hook_filing_materials_first_result_falls_through_a_none_answer():
    host = contract_host("jilin")
    assert host.view().call("filing_materials", technology=TECH, institution=InstitutionRef(id=-42))[0]["key"] == "only"
    assert len(host.view().call("filing_materials", technology=TECH, institution=INST)) == 6  # Jilin's


def test_hook_demo_region_comes_from_the_province_plugin():
    assert PluginHost(("henan",)).view().call("demo_region")["province"] == ("河南省", "410000")
    assert PluginHost(("jilin",)).view().call("demo_region")["province"] == ("吉林省", "220000")
    assert PluginHost(("hospital_default",)).view().call("demo_region") is None


def test_a_switched_off_plugin_is_not_asked():
    host = PluginHost(("jilin", "hospital_default"))
    assert host.view(frozenset({"jilin"})).call("filing_materials", technology=TECH, institution=INST) is None
    assert host.view(frozenset({"jilin"})).enabled == ("hospital_default",)
    # A plugin outside the deployment cannot be "disabled" into the view.
    assert host.view(frozenset({"henan"})).disabled == frozenset()


# ---------------------------------------------------------------- hospital plugins


@pytest.mark.rule("HOSP-4")
def test_hook_admission_steps_a_hospital_plugin_overrides_the_default_for_its_institution_only(
    monkeypatch,
):
    """The default (HOSP-4 … HOSP-11) stays for every other institution, with no core change."""
    STEPS = PluginHost(("hospital_default",)).view().call("admission_steps", project=ProjectRef(institution_id=1))
    monkeypatch.setattr(hospital_override, "INSTITUTIONS", {101})
    host = PluginHost(("jilin", "hospital_default", "hospital_x"), extra={"hospital_x": hospital_override})
    hooks = host.view()
    own = hooks.call("admission_steps", project=ProjectRef(institution_id=101))
    other = hooks.call("admission_steps", project=ProjectRef(institution_id=202))
    assert [s["key"] for s in own] == ["department", "committee", "approval"]
    assert [s["key"] for s in other] == [s["key"] for s in STEPS]
    assert hospital_override.admission_steps(project=ProjectRef(institution_id=202)) is None
    # Switched off, the hospital's plugin no longer answers even for its own institution.
    off = host.view(frozenset({"hospital_x"})).call("admission_steps", project=ProjectRef(institution_id=101))
    assert [s["key"] for s in off] == [s["key"] for s in STEPS]


def test_hook_admission_steps_default_is_the_yearly_round():
    steps = PluginHost(("hospital_default",)).view().call("admission_steps", project=ProjectRef(institution_id=1))
    assert steps and steps[0]["rule"] == "HOSP-4"


def test_hook_application_form_first_result_for_the_project():
    form = contract_host().view().call("application_form", project=ProjectRef(institution_id=7))
    assert form["plugin"] == "contract" and form["institution_id"] == 7


def test_hook_validate_project_collects_problems():
    hooks = contract_host().view()
    problems = hooks.collect_flat("validate_project", project=ProjectRef(institution_id=1),
                                  person=PersonRef(username="x", years_in_post=1))
    assert [p["rule"] for p in problems if p.get("plugin") == "contract"] == ["HOSP-5"]
    assert not [p for p in hooks.collect_flat("validate_project", project=ProjectRef(institution_id=1),
                                              person=PersonRef(username="x", years_in_post=5))
                if p.get("plugin") == "contract"]


def test_hook_validate_case_collects_problems():
    case = CaseRef(operation_date=dt.date(2026, 5, 10), discharge_date=dt.date(2026, 5, 1))
    problems = contract_host().view().collect_flat("validate_case", case=case)
    assert [(p["rule"], p["field"]) for p in problems] == [("TEST-CASE", "discharge_date")]


# ---------------------------------------------------------------- collect-all data hooks


def test_hook_register_catalogs_collects_every_plugins_editions():
    editions = contract_host().view().collect_flat("register_catalogs")
    assert [(e.key, [t.code for t in e.entries]) for e in editions] == [("contract-hospital-2026", ["T01"])]
    assert contract_host().view(frozenset({"contract"})).collect_flat("register_catalogs") == []


def test_hook_deadline_rules_collects_rules_as_data():
    rules = contract_host().view().collect_flat("deadline_rules")
    assert [(r["id"], r["event"], r["obligation"], r["offset"]["amount"]) for r in rules] == [
        ("TEST-1", "first_case", "filing", 15)]


async def test_hook_calendar_overrides_reach_the_deployment_calendar(deployment):
    from core.holidays.service import work_calendar

    with_plugin = await work_calendar(contract_host("jilin", "hospital_default").view())
    without = await work_calendar(PluginHost(("jilin", "hospital_default")).view())
    wednesday, saturday = dt.date(2026, 3, 4), dt.date(2026, 3, 7)
    assert without.is_working_day(wednesday) and not without.is_working_day(saturday)
    assert not with_plugin.is_working_day(wednesday) and with_plugin.is_working_day(saturday)


async def test_hook_qc_indicators_may_be_async_and_are_awaited():
    answers = await contract_host().view().collect("qc_indicators", technology=TECH)
    assert [i["key"] for answer in answers for i in answer] == ["complication_rate"]
    assert answers[0][0]["title"] == "同种胰岛移植技术并发症发生率"


def test_hook_filing_form_first_result():
    form = contract_host().view().call("filing_form", technology=TECH, institution=INST)
    assert form["technology"] == "G01" and form["fields"][0]["key"] == "start_date"


def test_hook_reporting_channels_collects_channels():
    channels = contract_host().view().collect_flat("reporting_channels")
    assert [(c["key"], c["kinds"]) for c in channels] == [("contract_test", ["filing", "case"])]


def test_hook_disclosure_fields_collects_fields():
    assert {"key": "filing_date", "title": "备案日期", "plugin": "contract"} in contract_host().view().collect_flat(
        "disclosure_fields")


# ---------------------------------------------------------------- web extensions


def test_hook_template_dirs_take_precedence_and_default_stays_reachable():
    from web.templating import build_environment

    dirs = [d for a in PluginHost(("jilin",)).pm.hook.template_dirs() for d in a]
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
            "hooks": tuple(re.findall(r'<span class="tag">(\w+)</span>', cells[3])),
            "state": state.group(1) if state else "not in deployment",
            "source": html.unescape(cells[2].strip()),
        }
    return rows


async def test_clintech_plugins_lists_the_same_as_the_admin_page(deployment, login_as):
    from core.accounts.schemas import SYSTEM
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
    labels = {"built-in": "内置", "third-party": "第三方"}
    for name in cli:
        assert cli[name]["version"] == admin[name]["version"]
        assert cli[name]["hooks"] == admin[name]["hooks"], name
        assert cli[name]["state"] == admin[name]["state"], name
        assert labels[cli[name]["source"]] == admin[name]["source"]
    assert cli["jilin"]["state"] == "off" and cli["hospital_default"]["state"] == "on"
