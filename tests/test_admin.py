"""The deployment admin: users, institutions, departments, the region tree, plugins, audit trail."""

from __future__ import annotations

import datetime as dt
import html
import re
import secrets

import httpx
import pytest

from core import clock
from tests.fixtures import DEMO_PASSWORD, PortalClient


def field_error(text: str, field: str) -> str:
    """The Chinese message shown next to ``field`` (empty if none)."""
    found = re.findall(rf'<p class="field-error" data-field="{field}">(.*?)</p>', text, flags=re.S)
    return html.unescape(" ".join(found))


def unique(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(3)}"


async def audit_events(action: str, record_id: int | None = None) -> list[dict]:
    from core.audit.tables import AuditEvent

    query = AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id)
    if record_id is not None:
        query = query.where(AuditEvent.record_id == record_id)
    return await query.output(load_json=True)


async def user_row(username: str) -> dict | None:
    from core.accounts.tables import User

    return await User.select().where(User.username == username).first().output(load_json=True)


async def create_user(admin, deployment, **overrides) -> tuple[str, int]:
    username = overrides.pop("username", unique("t_user_"))
    data = {"username": username, "display_name": "测试用户", "roles": "clinician",
            "institution": str(deployment["hospital_a"]), "password": "initial-pass-1", "active": "on"} | overrides
    response = await admin.post("/admin/users/new", data=data)
    assert response.status_code == 303, response.text
    return username, (await user_row(username))["id"]


# ---------------------------------------------------------------- users


async def test_admin_creates_a_user_and_the_creation_is_audited(deployment, login_as):
    admin = await login_as("admin")
    username, user_id = await create_user(admin, deployment, roles="dept_head")
    row = await user_row(username)
    assert row["roles"] == ["dept_head"] and row["institution"] == deployment["hospital_a"] and row["active"]
    events = await audit_events("user.create", user_id)
    assert len(events) == 1 and events[0]["actor_name"] == "admin"
    assert events[0]["after"]["username"] == username and "password" not in events[0]["after"]
    new_user = await login_as(username, "initial-pass-1")
    assert (await new_user.get("/")).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"username": "Bad Name!"}, "username", "用户名须为"),
        ({"display_name": ""}, "display_name", "请填写姓名"),
        ({"roles": []}, "roles", "请至少选择一个角色"),
        ({"institution": ""}, "institution", "医院角色必须归属一个医疗机构"),
        ({"institution": "abc"}, "institution", "「医疗机构」的格式不正确"),
        ({"institution": "999999"}, "institution", "医疗机构不存在"),
        ({"roles": "regulator", "institution": "", "region": "x"}, "region", "「行政区划」的格式不正确"),
        ({"roles": "regulator", "institution": ""}, "region", "监管与质控角色必须归属一个行政区划"),
        ({"password": "short"}, "password", "密码至少 10 位"),
        ({"username": "clinician_a"}, "username", "用户名已存在"),
    ],
)
async def test_user_form_errors_are_shown_in_chinese_next_to_the_field_and_nothing_is_saved(
    deployment, login_as, overrides, field, message
):
    from core.accounts.tables import User

    admin = await login_as("admin")
    before = await User.count()
    data = {"username": unique("t_bad_"), "display_name": "坏输入", "roles": "clinician",
            "institution": str(deployment["hospital_a"]), "password": "initial-pass-1",
            "title": "主治医师"} | overrides
    response = await admin.post("/admin/users/new", data=data)
    assert response.status_code == 422
    assert message in field_error(response.text, field), response.text
    assert await User.count() == before
    if data["display_name"]:
        assert f'value="{data["display_name"]}"' in response.text  # nothing the admin typed is lost
    assert 'value="主治医师"' in response.text


async def test_admin_changes_roles_and_tenant_of_a_user(deployment, login_as):
    admin = await login_as("admin")
    username, user_id = await create_user(admin, deployment)
    response = await admin.post(f"/admin/users/{user_id}", data={
        "display_name": "调往市二", "roles": "regulator", "institution": "", "region": str(deployment["city2"]),
        "active": "on"})
    assert response.status_code == 303
    row = await user_row(username)
    assert (row["roles"], row["institution"], row["region"]) == (["regulator"], None, deployment["city2"])
    [event] = await audit_events("user.update", user_id)
    assert event["before"]["roles"] == ["clinician"] and event["after"]["roles"] == ["regulator"]
    assert event["before"]["institution"] == deployment["hospital_a"] and event["after"]["region"] == deployment["city2"]


async def test_editing_a_user_keeps_the_username(deployment, login_as):
    admin = await login_as("admin")
    username, user_id = await create_user(admin, deployment)
    await admin.post(f"/admin/users/{user_id}", data={"username": "renamed_x", "display_name": "改名",
                                                      "roles": "clinician", "institution": str(deployment["hospital_a"]),
                                                      "active": "on"})
    assert (await user_row(username))["display_name"] == "改名"
    assert await user_row("renamed_x") is None


async def test_deactivating_a_user_ends_their_sessions(deployment, login_as):
    admin = await login_as("admin")
    username, user_id = await create_user(admin, deployment)
    victim = await login_as(username, "initial-pass-1")
    assert (await victim.get("/")).status_code == 200
    response = await admin.post(f"/admin/users/{user_id}", data={
        "display_name": "测试用户", "roles": "clinician", "institution": str(deployment["hospital_a"])})
    assert response.status_code == 303
    assert (await user_row(username))["active"] is False
    assert (await victim.get("/")).status_code == 303  # back to the login page
    again = await victim.post("/login", data={"username": username, "password": "initial-pass-1"})
    assert again.status_code == 401


async def test_the_admin_cannot_remove_their_own_admin_role_or_deactivate_themselves(deployment, login_as):
    admin = await login_as("admin")
    admin_id = deployment["users"]["admin"]["id"]
    for data in ({"display_name": "系统管理员", "roles": "clinician", "institution": str(deployment["hospital_a"]),
                  "active": "on"},
                 {"display_name": "系统管理员", "roles": "admin"}):
        response = await admin.post(f"/admin/users/{admin_id}", data=data)
        assert response.status_code == 422
        assert "不能停用自己的账号或移除自己的管理员角色" in field_error(response.text, "roles")
    row = await user_row("admin")
    assert row["roles"] == ["admin"] and row["active"]
    assert (await admin.get("/admin/users")).status_code == 200


async def test_user_list_search(deployment, login_as):
    admin = await login_as("admin")
    page = await admin.get("/admin/users", params={"q": "regulator"})
    assert "regulator_city1" in page.text and "clinician_a" not in page.text


async def test_an_unknown_user_id_answers_404(deployment, login_as):
    admin = await login_as("admin")
    assert (await admin.get("/admin/users/999999")).status_code == 404
    assert (await admin.post("/admin/users/999999", data={"display_name": "x", "roles": "admin"})).status_code == 404


# ---------------------------------------------------------------- institutions and departments


def institution_form(deployment, **overrides) -> dict:
    return {"name": "测试医院", "licence_no": unique("T-LIC-"), "grade": "二级甲等",
            "region": str(deployment["city1"]), "registered_subjects_text": "内科\n外科", "active": "on"} | overrides


async def institution_row(licence_no: str) -> dict | None:
    from core.tenancy.tables import Institution

    return await Institution.select().where(Institution.licence_no == licence_no).first().output(load_json=True)


async def test_admin_creates_and_updates_an_institution_with_registered_subjects(deployment, login_as):
    admin = await login_as("admin")
    form = institution_form(deployment, registered_subjects_text="内科、外科\n儿科")
    response = await admin.post("/admin/institutions/new", data=form)
    assert response.status_code == 303
    row = await institution_row(form["licence_no"])
    assert row["registered_subjects"] == ["内科", "外科", "儿科"]
    assert row["licence_region"] == deployment["city1"]  # defaults to its own region
    response = await admin.post(f"/admin/institutions/{row['id']}", data=form | {
        "name": "测试医院（更名）", "registered_subjects_text": "内科\n眼科", "licence_region": str(deployment["province"])})
    assert response.status_code == 303
    row = await institution_row(form["licence_no"])
    assert (row["name"], row["registered_subjects"], row["licence_region"]) == (
        "测试医院（更名）", ["内科", "眼科"], deployment["province"])
    [event] = await audit_events("institution.update", row["id"])
    assert event["before"]["registered_subjects"] == ["内科", "外科", "儿科"]
    assert event["after"]["registered_subjects"] == ["内科", "眼科"]
    page = await admin.get(f"/admin/institutions/{row['id']}")
    assert "测试医院（更名）" in page.text and "眼科" in page.text


async def test_licence_number_is_unique(deployment, login_as):
    from core.tenancy.tables import Institution

    admin = await login_as("admin")
    before = await Institution.count()
    response = await admin.post("/admin/institutions/new", data=institution_form(deployment, licence_no="DEMO-A-0001"))
    assert response.status_code == 422
    assert "执业许可证登记号已存在" in field_error(response.text, "licence_no")
    assert await Institution.count() == before
    form = institution_form(deployment)
    await admin.post("/admin/institutions/new", data=form)
    row = await institution_row(form["licence_no"])
    taken = await admin.post(f"/admin/institutions/{row['id']}", data=form | {"licence_no": "DEMO-B-0001"})
    assert taken.status_code == 422 and "执业许可证登记号已存在" in field_error(taken.text, "licence_no")
    assert (await institution_row(form["licence_no"]))["licence_no"] == form["licence_no"]


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"name": ""}, "name", "请填写机构名称"),
    ({"grade": ""}, "grade", "请填写机构等级"),
    ({"region": "x"}, "region", "「所在区划」的格式不正确"),
    ({"region": "999999"}, "region", "行政区划不存在"),
])
async def test_institution_form_errors_are_shown_next_to_the_field(deployment, login_as, overrides, field, message):
    from core.tenancy.tables import Institution

    admin = await login_as("admin")
    before = await Institution.count()
    response = await admin.post("/admin/institutions/new", data=institution_form(deployment, **overrides))
    assert response.status_code == 422
    assert message in field_error(response.text, field)
    assert await Institution.count() == before


@pytest.mark.rule("NAT-43")
async def test_nat_43_department_subject_must_be_a_registered_subject_of_its_institution(deployment, login_as):
    """NAT-43: practising outside the registered clinical departments (诊疗科目) is a violation,
    so a department can only be created under one of its institution's registered subjects."""
    from core.tenancy.tables import Department

    admin, medaffairs = await login_as("admin"), await login_as("medaffairs_a")
    before = await Department.count()
    # Hospital A has no 儿科 registered (hospital B has).
    response = await admin.post(f"/admin/institutions/{deployment['hospital_a']}/departments",
                                data={"name": "儿科", "subject": "儿科"})
    assert response.status_code == 422
    assert "必须是本机构已登记的诊疗科目" in field_error(response.text, "subject")
    assert "NAT-43" in response.text
    assert 'name="name" value="儿科"' in response.text  # what the admin typed stays
    response = await medaffairs.post("/departments", data={"name": "小儿内科", "subject": "儿科"})
    assert response.status_code == 422 and "NAT-43" in field_error(response.text, "subject")
    dept = deployment["departments_a"][0]
    response = await medaffairs.post(f"/departments/{dept}", data={"name": "心血管内科", "subject": "儿科",
                                                                    "active": "on"})
    assert response.status_code == 422 and "NAT-43" in field_error(response.text, "subject")
    assert await Department.count() == before
    assert (await Department.select(Department.subject).where(Department.id == dept).first())["subject"] == "内科"


@pytest.mark.rule("NAT-43")
async def test_nat_43_a_subject_in_use_by_a_department_cannot_be_unregistered(deployment, login_as):
    admin = await login_as("admin")
    form = institution_form(deployment)
    await admin.post("/admin/institutions/new", data=form)
    inst = await institution_row(form["licence_no"])
    assert (await admin.post(f"/admin/institutions/{inst['id']}/departments",
                             data={"name": "普外科", "subject": "外科", "active": "on"})).status_code == 303
    response = await admin.post(f"/admin/institutions/{inst['id']}", data=form | {"registered_subjects_text": "内科"})
    assert response.status_code == 422
    assert "仍有科室使用诊疗科目：外科" in field_error(response.text, "registered_subjects")
    assert (await institution_row(form["licence_no"]))["registered_subjects"] == ["内科", "外科"]


async def test_medical_affairs_keeps_departments_of_its_own_institution(deployment, login_as):
    from core.tenancy.tables import Department

    medaffairs = await login_as("medaffairs_a")
    name = unique("测试科室")
    assert (await medaffairs.post("/departments", data={"name": name, "subject": "外科", "active": "on"})).status_code == 303
    row = await Department.select().where(Department.name == name).first()
    assert row["institution"] == deployment["hospital_a"] and row["subject"] == "外科"
    assert len(await audit_events("department.create", row["id"])) == 1
    response = await medaffairs.post(f"/departments/{row['id']}", data={"name": name, "subject": "内科"})
    assert response.status_code == 303
    row = await Department.select().where(Department.id == row["id"]).first()
    assert row["subject"] == "内科" and row["active"] is False
    [event] = await audit_events("department.update", row["id"])
    assert event["before"] == {"name": name, "subject": "外科", "active": True}


# ---------------------------------------------------------------- the region tree


async def test_region_tree_levels_are_enforced_province_city_county(deployment, login_as):
    from core.tenancy.tables import Region

    admin = await login_as("admin")
    before = await Region.count()
    cases = [
        ({"level": "county", "parent": ""}, "该上级区划之下只能建立「省」级区划"),
        ({"level": "county", "parent": str(deployment["province"])}, "只能建立「市」级区划"),
        ({"level": "city", "parent": str(deployment["city1"])}, "只能建立「县/区」级区划"),
        ({"level": "village", "parent": str(deployment["city1"])}, "层级须为省、市或县/区"),
    ]
    for overrides, message in cases:
        response = await admin.post("/admin/regions", data={"name": "错层区划", "code": unique("R")} | overrides)
        assert response.status_code == 422, overrides
        assert message in field_error(response.text, "level"), overrides
    response = await admin.post("/admin/regions", data={"name": "错层区划", "code": unique("R"), "level": "city",
                                                        "parent": "x"})
    assert response.status_code == 422 and "「上级区划」的格式不正确" in field_error(response.text, "parent")
    assert await Region.count() == before


async def test_admin_adds_a_county_and_renames_it(deployment, login_as):
    from core.tenancy.tables import Region

    admin = await login_as("admin")
    code = unique("C")
    response = await admin.post("/admin/regions", data={"name": "测试县", "code": code, "level": "county",
                                                        "parent": str(deployment["city1"])})
    assert response.status_code == 303
    county = await Region.select().where(Region.code == code).first()
    city1 = await Region.select().where(Region.id == deployment["city1"]).first()
    assert county["path"] == f"{city1['path']}{county['id']}/"
    duplicate = await admin.post("/admin/regions", data={"name": "重复", "code": code, "level": "county",
                                                         "parent": str(deployment["city1"])})
    assert duplicate.status_code == 422 and "区划代码已存在" in field_error(duplicate.text, "code")
    assert (await admin.post(f"/admin/regions/{county['id']}", data={"name": "测试区"})).status_code == 303
    assert (await Region.select().where(Region.id == county["id"]).first())["name"] == "测试区"
    [event] = await audit_events("region.rename", county["id"])
    assert (event["before"], event["after"]) == ({"name": "测试县"}, {"name": "测试区"})
    blank = await admin.post(f"/admin/regions/{county['id']}", data={"name": "  "})
    assert blank.status_code == 422 and "请填写区划名称" in blank.text
    assert (await admin.post("/admin/regions/999999", data={"name": "无"})).status_code == 404


async def test_a_regulator_of_a_new_county_sees_nothing_of_the_city(deployment, login_as):
    """Scope is the region and below: a county regulator does not see its city's hospitals."""
    from core.tenancy.tables import Region

    admin = await login_as("admin")
    code = unique("C")
    await admin.post("/admin/regions", data={"name": "测试县二", "code": code, "level": "county",
                                             "parent": str(deployment["city1"])})
    county = (await Region.select().where(Region.code == code).first())["id"]
    username, _ = await create_user(admin, deployment, roles="regulator", institution="", region=str(county))
    regulator = await login_as(username, "initial-pass-1")
    assert "医院A" not in (await regulator.get("/institutions")).text
    assert (await regulator.get(f"/institutions/{deployment['hospital_a']}")).status_code == 404


# ---------------------------------------------------------------- plugins


async def test_plugin_page_lists_every_installed_plugin(deployment, login_as):
    from importlib import metadata

    page = (await (await login_as("admin")).get("/admin/plugins")).text
    version = metadata.version("clintech-portal")
    for name in ("jilin", "henan", "hospital_default"):
        row = re.search(rf'<tr id="plugin-{name}">(.*?)</tr>', page, flags=re.S).group(1)
        assert version in row and "内置" in row
    jilin = re.search(r'<tr id="plugin-jilin">(.*?)</tr>', page, flags=re.S).group(1)
    # What each plugin provides, in Chinese — never the hook names (issue 11 point 4).
    assert 'data-state="on"' in jilin and "备案材料清单" in jilin and "专属页面" in jilin
    assert "filing_materials" not in page and "register_routes" not in page
    henan = re.search(r'<tr id="plugin-henan">(.*?)</tr>', page, flags=re.S).group(1)
    assert "未列入本部署" in henan and "备案材料清单" in henan
    assert 'hx-get="/admin/plugins/jilin/off"' in jilin  # switching off asks first


async def _client(app, username: str) -> PortalClient:
    client = PortalClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    await client.get("/login")
    assert (await client.post("/login", data={"username": username, "password": DEMO_PASSWORD})).status_code == 303
    return client


async def test_switching_a_plugin_is_audited_immediate_for_other_workers_and_survives_a_restart(deployment):
    from core.plugins import PluginHost
    from core.settings import get_settings
    from web.app import create_app

    worker1, worker2 = create_app(PluginHost(get_settings().plugins)), create_app(PluginHost(get_settings().plugins))
    admin = await _client(worker1, "admin")
    clinician = await _client(worker2, "clinician_a")
    try:
        assert (await clinician.get("/p/jilin")).status_code == 200
        response = await admin.post("/admin/plugins/jilin", data={"enabled": "0"}, headers={"hx-request": "true"})
        assert response.status_code == 200 and 'data-state="off"' in response.text
        assert "<html" not in response.text  # the row partial, swapped in place
        assert (await clinician.get("/p/jilin")).status_code == 404  # the other worker, no restart
        events = await audit_events("plugin.switch")
        assert events[-1]["actor_name"] == "admin"
        assert (events[-1]["before"], events[-1]["after"]) == (
            {"name": "jilin", "enabled": True}, {"name": "jilin", "enabled": False})

        restarted = create_app(PluginHost(get_settings().plugins))
        admin2 = await _client(restarted, "admin")
        page = (await admin2.get("/admin/plugins")).text
        assert 'data-state="off"' in re.search(r'<tr id="plugin-jilin">(.*?)</tr>', page, flags=re.S).group(1)
        assert (await admin2.get("/p/jilin")).status_code == 404
        await admin2.aclose()

        response = await admin.post("/admin/plugins/jilin", data={"enabled": "1"})  # plain form post
        assert response.status_code == 303
        assert (await clinician.get("/p/jilin")).status_code == 200
    finally:
        await admin.aclose()
        await clinician.aclose()


async def test_a_plugin_outside_the_deployment_cannot_be_switched(deployment, login_as):
    from core.system.tables import PluginSwitch

    admin = await login_as("admin")
    assert (await admin.post("/admin/plugins/henan", data={"enabled": "0"})).status_code == 404
    assert (await admin.post("/admin/plugins/nonexistent", data={"enabled": "0"})).status_code == 404
    assert await PluginSwitch.count() == 0


# ---------------------------------------------------------------- the audit trail


async def test_audit_page_filters_by_actor_action_record_type_and_dates(deployment, login_as):
    admin = await login_as("admin")
    username, user_id = await create_user(admin, deployment)
    today = clock.today()
    base = {"actor_name": "admin", "action": "user.create", "record_type": "user"}
    page = await admin.get("/admin/audit", params=base)
    assert page.status_code == 200 and username in page.text
    assert "region.create" not in re.search(r'<div id="audit-table">.*', page.text, flags=re.S).group(0)
    assert username not in (await admin.get("/admin/audit", params=base | {"actor_name": "system"})).text
    assert username not in (await admin.get("/admin/audit", params=base | {"action": "user.update"})).text
    assert username not in (await admin.get("/admin/audit", params=base | {"record_type": "region"})).text
    assert username in (await admin.get("/admin/audit", params=base | {"since": str(today), "until": str(today)})).text
    tomorrow = str(today + dt.timedelta(days=1))
    assert username not in (await admin.get("/admin/audit", params=base | {"since": tomorrow})).text
    yesterday = str(today - dt.timedelta(days=1))
    empty = await admin.get("/admin/audit", params=base | {"until": yesterday})
    assert username not in empty.text and "没有符合条件的记录" in empty.text


async def test_audit_filter_swaps_only_the_table_for_htmx(deployment, login_as):
    admin = await login_as("admin")
    response = await admin.get("/admin/audit", params={"action": "region.create"},
                               headers={"hx-request": "true", "hx-target": "audit-table"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="audit-table">')
    assert "<html" not in response.text and "<form" not in response.text
    assert "region.create" in response.text
    full = await admin.get("/admin/audit")
    assert 'hx-target="#audit-table"' in full.text and '<div id="audit-table">' in full.text


async def test_a_malformed_audit_date_gives_a_chinese_message(deployment, login_as):
    admin = await login_as("admin")
    response = await admin.get("/admin/audit", params={"since": "2026-13-45"})
    assert response.status_code == 200
    assert "日期格式应为 YYYY-MM-DD" in response.text
    assert 'value="2026-13-45"' in response.text  # what was typed stays
