"""No province in core: the rules each page cites come from the deployment's plugins.

* a guard keeps core/ and web/ (code and templates, not migrations) free of any province's
  rule ids and names;
* a third province written as a plugin (``tests/plugins/third_province``) files a
  restricted technology and its pages show its ids, never Jilin's or Henan's;
* the national rules and catalogues are the built-in ``national`` plugin, always on and
  answering last; province plugins do not re-ship its files;
* the province policy (``province_policy``) and checks (``validate_filing``) hooks;
* the first case entered is a case record with its report, once; the region names its
  department (备案部门/发证机关) and the other materials it specifies.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from core.filing import service as filing
from core.filing.tables import Filing
from core.outbox.tables import Delivery
from core.plugins import PluginHost
from core.policy import ProvincePolicy, merge
from core.policy import policy as policy_of
from tests.filing_helpers import (
    FIRST_CASE,
    PDF,
    actor,
    admitted_project,
    province_world,
    region_actor,
)

ROOT = Path(__file__).resolve().parent.parent
# Rule-id prefixes that are not a province's: the national measure, the hospital, the
# calendar, evaluation; SHA-256 / UTF-8; ICD-9-CM-3 (operation codes); XX- is the docs' made-up example.
NOT_PROVINCIAL = {"NAT", "HOSP", "CAL", "EVAL", "SHA", "UTF", "XX", "ICD", "CM"}  # ICD-9-CM-3: operation codes
PROVINCE_NAMES = ("北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽",
                  "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州", "云南",
                  "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆", "台湾", "香港", "澳门")
RULE_ID = re.compile(r"\b([A-Z]{2,5})-\d")
THIRD_USERS = {role: f"zj_{role}" for role in ("clinician", "dept_head", "ethics", "medical_affairs", "expert",
                                               "hospital_head")} | {
    "regulator": "zj_regulator_hz", "province": "zj_regulator_province", "other_city": "zj_regulator_nb",
    "qc_center": "zj_qccenter"}
OTHER_PROVINCES = re.compile(r"\b(?:JL|HN)-\d|吉林|河南")


def _core_and_web_files():
    for folder in ("core", "web"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "piccolo_migrations" not in path.parts and path.suffix in (
                    ".py", ".html", ".js", ".css", ".toml", ".json", ".txt"):
                yield path


def test_core_and_web_name_no_province():
    """A province's rule ids (e.g. JL-12, HN-2.2c) and any province's name never appear in
    core/ or web/, code, comments or templates (migrations aside): they come from plugins."""
    found = []
    for path in _core_and_web_files():
        if "static/vendor" in str(path):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            ids = {m for m in RULE_ID.findall(line) if m not in NOT_PROVINCIAL}
            names = [name for name in PROVINCE_NAMES if name in line]
            if ids or names:
                found.append(f"{path.relative_to(ROOT)}:{n}: {sorted(ids) + names}")
    assert found == [], "\n".join(found)


def test_the_guard_would_catch_a_province_id_and_name():
    """The guard is not vacuous: it reads the files it claims to and its patterns match."""
    files = [p.relative_to(ROOT).as_posix() for p in _core_and_web_files()]
    assert "core/filing/service.py" in files and "web/templates/filing/filing.html" in files
    assert not any("piccolo_migrations" in f for f in files)
    assert {m for m in RULE_ID.findall("见 JL-12、HN-2.2c 与 NAT-11") if m not in NOT_PROVINCIAL} == {"JL", "HN"}
    assert [n for n in PROVINCE_NAMES if n in "河南省卫生健康委员会"] == ["河南"]


# ---------------------------------------------------------------- the national plugin


def test_national_plugin_is_always_on_answers_last_and_provinces_do_not_reship_it():
    host = PluginHost(("jilin", "hospital_default"))
    assert host.deployment[0] == "national" and host.defaults == ("national",)
    assert host.view(frozenset({"national"})).is_enabled("national")
    info = {p.name: p for p in host.plugins()}["national"]
    assert info.source == "default" and "register_catalogs" in info.hooks
    # Province plugins ship only their own editions and rules.
    for name in ("jilin", "henan"):
        alone = PluginHost((name,))
        own = alone.pm.get_plugin(name)
        editions = own.register_catalogs()
        assert not [e for e in editions if e.scope == "national"], name
        assert not [r for r in own.deadline_rules() if r["id"].startswith("NAT-")], name
    # Any plugin wins over the national answer; with none, the national one stands.
    assert policy_of(host.view()).filing.rule == "JL-12"
    assert policy_of(PluginHost(("hospital_default",)).view()).filing.rule == "NAT-11"


def test_national_data_has_a_public_import():
    from plugins import national

    assert national.RESTRICTED_2022.exists() and national.PROHIBITED.exists() and national.DEADLINES.exists()
    assert [(r["id"], r["obligation"]) for r in national.rules("NAT-11")] == [
        ("NAT-11", "filing"), ("NAT-11", "filing_completion")]


async def test_the_national_plugin_cannot_be_switched_off(deployment, login_as):
    admin = await login_as("admin")
    page = await admin.get("/admin/plugins")
    assert "始终启用" in page.text
    response = await admin.post("/admin/plugins/national", data={"enabled": "0"})
    assert response.status_code in (400, 422) and "始终启用" in response.text


# ---------------------------------------------------------------- the policy hooks


def test_hook_province_policy_merges_first_answer_per_key():
    merged = merge([{"filing": {"rule": "ZJ-7"}}, {"filing": {"rule": "NAT-11", "completion_rule": "NAT-11"},
                                                   "cases": {"rules": ["NAT-37"]}}])
    assert isinstance(merged, ProvincePolicy)
    assert (merged.filing.rule, merged.filing.completion_rule, merged.cases.rules) == ("ZJ-7", "NAT-11", ("NAT-37",))
    henan = policy_of(PluginHost(("henan", "hospital_default")).view())
    assert (henan.filing.annotation.mode, henan.filing.annotation.rule) == ("push", "HN-2.2c")
    assert henan.filing.cancellation_rule == "NAT-25"  # its own answer; NAT-25 is what the notice leaves national
    jilin = policy_of(PluginHost(("jilin", "hospital_default")).view())
    assert (jilin.filing.annotation.mode, jilin.cases.his_rule) == ("direct", "JL-38")


@pytest.mark.rule("JL-12")
@pytest.mark.rule("HN-2.2a")
def test_hook_validate_filing_collects_the_provinces_checks():
    from core.policy import FilingCheck, PersonCheck

    check = FilingCheck(institution_id=1, technology_code="G01", technology_name="x", has_specification=False,
                        self_assessment="足够长的自我评估内容", assessment_basis="specification",
                        assessment_reference="", lead=PersonCheck(name="乙", of_institution=True, visiting=True),
                        physicians=())
    henan = PluginHost(("henan",)).view().collect_flat("validate_filing", filing=check)
    jilin = PluginHost(("jilin",)).view().collect_flat("validate_filing", filing=check)
    assert {(p.field, p.rule) for p in henan} == {("assessment_reference", "HN-2.2a"), ("lead", "HN-2.2b")}
    assert {(p.field, p.rule) for p in jilin} == {("lead", "JL-12"), ("physicians", "JL-12")}
    assert PluginHost(("hospital_default",)).view().collect_flat("validate_filing", filing=check) == []


# ---------------------------------------------------------------- a third province


@pytest.fixture(scope="module")
async def third(deployment):
    from core.catalog import service as catalog
    from tests.plugins import third_province

    host = PluginHost(("third_province", "hospital_default"), extra={"third_province": third_province})
    world = await province_world(host, THIRD_USERS, "ZJ-DEMO-0001", "杭州市示范医院", "浙江")
    await catalog.ensure_synced(host)
    world["hooks"] = host.view()
    yield world
    from tests.filing_helpers import forget_filing_obligations

    await forget_filing_obligations()


@pytest.fixture
async def third_client(third):
    import httpx

    from tests.fixtures import DEMO_PASSWORD, PortalClient
    from web.app import create_app

    app = create_app(third["host"])
    clients = []

    async def make(username: str):
        client = PortalClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.9", 1234)),
                              base_url="http://testserver")
        clients.append(client)
        await client.get("/login")
        response = await client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "next": "/"})
        assert response.status_code == 303, response.text
        return client

    yield make
    for client in clients:
        await client.aclose()


def _clean(text: str) -> str:
    found = OTHER_PROVINCES.findall(text)
    assert found == [], found
    return text


async def test_a_third_province_needs_no_core_change_and_shows_only_its_own_ids(third, third_client):
    hooks = third["hooks"]
    project_id = await admitted_project(hooks, THIRD_USERS)
    ma = await actor(THIRD_USERS["medical_affairs"])
    filing_id = await filing.on_first_case(ma, hooks, project_id=project_id, case_date=FIRST_CASE, today=FIRST_CASE)
    row = await Filing.select().where(Filing.id == filing_id).first().output(load_json=True)
    assert row["due_rule"] == "ZJ-7"  # its own deadline rule replaced the national plugin's NAT-11
    await filing.save_details(ma, hooks, filing_id, filing.FilingDetails(
        version=row["version"], self_assessment="对照浙江省技术规范逐项自评，符合条件。", assessment_reference="规范",
        physicians=row["physicians"]))
    for key in ("form", "argumentation", "lead_credentials"):
        await filing.upload_material(ma, hooks, filing_id, key, f"{key}.pdf", PDF + key.encode())
    await filing.submit(ma, hooks, filing_id, today=FIRST_CASE + dt.timedelta(days=3))
    # No channel of this deployment takes filings: nothing is delivered to a platform.
    assert not await Delivery.exists().where((Delivery.subject_type == "filing") & (Delivery.subject_id == filing_id))

    hospital = await third_client(THIRD_USERS["medical_affairs"])
    page = _clean((await hospital.get(f"/filings/{filing_id}")).text)
    assert "ZJ-7" in page and "浙江省备案医师" in page and "首例之日起10个工作日内" in page
    assert "浙江省限制类技术备案登记表" in page and "杭州市卫生健康委员会" in page  # 备案部门 from region data
    assert "ZJ-20" in _clean((await hospital.get("/cases")).text)
    _clean((await hospital.get("/filings")).text)
    _clean((await hospital.get("/")).text)

    desk = await third_client(THIRD_USERS["regulator"])
    text = _clean((await desk.get("/filings/desk")).text)
    assert "ZJ-8" in text and "备案部门自收到完整材料之日起10个工作日内完成备案" in text and "备案与副本核对（ZJ-22）" in text
    assert "ZJ-22" in _clean((await desk.get("/filings/consistency")).text)
    await desk.post(f"/filings/{filing_id}/complete", data={"completed_on": (FIRST_CASE + dt.timedelta(days=4)).isoformat()})
    text = _clean((await desk.get(f"/filings/{filing_id}")).text)
    assert "完成备案（浙江）" in text and "ZJ-8" in text
    _clean((await desk.get("/")).text)
    assert (await Filing.select(Filing.status).where(Filing.id == filing_id).first())["status"] == "completed"


# ---------------------------------------------------------------- region data: department and local materials


@pytest.mark.rule("HN-2.2b")
async def test_admin_names_the_department_and_the_other_materials_of_a_region(deployment, login_as):
    from core.tenancy.tables import Region

    admin = await login_as("admin")
    region_id = deployment["city1"]
    before = await Region.select().where(Region.id == region_id).first()
    try:
        response = await admin.post(f"/admin/regions/{region_id}", data={
            "name": before["name"], "department": "长春市卫生健康委员会医政医管处（测试）", "filing_materials": "设备清单"})
        assert response.status_code == 303
        after = await Region.select().where(Region.id == region_id).first()
        assert (after["department"], after["filing_materials"]) == ("长春市卫生健康委员会医政医管处（测试）", "设备清单")
        page = await admin.get("/admin/regions")
        assert "长春市卫生健康委员会医政医管处（测试）" in page.text
        too_long = await admin.post(f"/admin/regions/{region_id}", data={
            "name": before["name"], "department": "部" * 201, "filing_materials": ""})
        assert too_long.status_code == 422 and "不能超过200字" in too_long.text
    finally:
        await Region.update({Region.department: before["department"], Region.filing_materials: ""}).where(
            Region.id == region_id)


# ---------------------------------------------------------------- the first case is a case


@pytest.mark.rule("NAT-11")
@pytest.mark.rule("NAT-37")
@pytest.mark.rule("JL-38")
async def test_the_first_case_is_a_case_record_with_its_report_once(deployment, login_as):
    """The first case of an admitted restricted technology is entered as a case: it is a
    case record, its report is queued once, and it opens the filing (开展一例，上报一例)."""
    from core.cases import service as cases
    from tests.case_helpers import admitted, case_input, release_obligations

    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=7)
    try:
        ma = await actor("medaffairs_a")
        waiting = [p["id"] for p in await filing.awaiting_first_case(ma)]
        assert project_id in waiting
        page = await (await login_as("medaffairs_a")).get("/filings")
        assert f'href="/cases?technology_code=P{project_id}"' in page.text  # 登记首例 → the case form
        results = await cases.record_cases(await actor("clinician_a"), hooks, [
            case_input(project_id, case_id=f"ZY-FIRST-T{project_id}")], today=dt.date(2026, 3, 20))
        case_id = results[0].id
        listed = await cases.list_cases(ma, project_id=project_id)
        assert [c["id"] for c in listed] == [case_id]
        opened = await Filing.select().where(Filing.project == project_id)
        assert len(opened) == 1 and opened[0]["case_count"] == 1
        assert project_id not in [p["id"] for p in await filing.awaiting_first_case(ma)]
        reports = await Delivery.select().where((Delivery.kind == "case") & (Delivery.subject_id == case_id))
        # Its report, once to each platform that takes cases (the province's and the national one).
        assert sorted(r["channel"] for r in reports) == ["jilin_platform", "national_platform"]
        cases_page = await (await login_as("medaffairs_a")).get("/cases")
        assert "暂无病例" not in cases_page.text or str(case_id) in cases_page.text
    finally:
        from tests.filing_helpers import forget_filing_obligations

        await release_obligations()
        await forget_filing_obligations()


async def test_regulator_push_queue_and_jilin_desk_rule(deployment, login_as):
    """The Jilin desk states JL-12's duty in its own words and has no push queue."""
    desk = await login_as("regulator_city1")
    text = (await desk.get("/filings/desk")).text
    assert "JL-12" in text and "录入“医疗机构电子化注册系统”中“备注三”一栏" in text
    assert "HN-" not in text and "河南" not in text and 'id="pushes"' not in text
    regulator = await region_actor("regulator_city1")
    assert await filing.pushes(regulator) == []


def test_a_wrong_policy_answer_names_the_plugin_and_the_field():
    from core.contract import ContractError

    with pytest.raises(ContractError) as exc:
        merge([{"filing": {"rule": "ZJ-7", "annotaton": {}}}], ["third_province"])
    assert "third_province" in str(exc.value) and "province_policy" in str(exc.value) and "annotaton" in str(exc.value)
    with pytest.raises(ContractError):
        merge([{"filing": {"annotation": {"mode": "fax"}}}], ["third_province"])
