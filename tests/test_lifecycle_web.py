"""院内技术使用 over HTTP (issue 10 §1–2): the stop form with its trigger and committee, the
regulator's desk suspending a technology province-wide, the HIS API refusing the whole
batch with the rule, the public list saying so, lifting; pages that show the state."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from core import clock
from core.admission.tables import Project
from core.audit.tables import AuditEvent
from core.filing import service as filing
from core.lifecycle import service as lifecycle
from core.lifecycle.tables import RegionSuspension
from tests.case_helpers import admitted, case, release_obligations, token_for
from tests.test_filing_web import henan_app, henan_login  # noqa: F401  (fixtures: a Henan deployment's app)


@pytest.fixture(scope="module")
async def project(deployment):
    yield await admitted(deployment["host"].view(), tech_index=9)
    await release_obligations()


async def key_of(project_id: int) -> str:
    row = await Project.select(Project.technology_code).where(Project.id == project_id).first()
    return lifecycle.technology_key(row["technology_code"], project_id)


def recent(**overrides) -> dict:
    today = clock.today()
    return {"admitted_on": (today - dt.timedelta(days=3)).isoformat(),
            "operated_on": (today - dt.timedelta(days=2)).isoformat(),
            "discharged_on": (today - dt.timedelta(days=1)).isoformat()} | overrides


def today() -> dict:
    day = clock.today().isoformat()
    return {"admitted_on": day, "operated_on": day, "discharged_on": day}


@pytest.mark.rule("JL-26")
async def test_jl26_province_desk_suspends_and_the_api_refuses_the_whole_batch_until_lifted(
        deployment, anon, login_as, project):
    key = await key_of(project)
    _, token = await token_for(deployment["hospital_a"])
    headers = {"Authorization": f"Bearer {token}"}
    province = await login_as("regulator_province")
    # Without a reason nothing happens and the page says why, in Chinese.
    r = await province.post("/lifecycle/desk/suspensions", data={"technology_key": key, "reason": ""})
    assert r.status_code == 422 and "请填写暂停理由" in r.text
    assert not await RegionSuspension.exists().where(RegionSuspension.technology_key == key)
    r = await province.post("/lifecycle/desk/suspensions", data={
        "technology_key": key, "reason": "接报临床应用效果不确切，全省核查", "document": "吉卫医发〔2026〕9号"})
    assert r.status_code == 303, r.text
    desk = (await province.get("/lifecycle/desk")).text
    assert "接报临床应用效果不确切" in desk and "暂停中" in desk

    # A case performed before the suspension is still reported (JL-38); one performed
    # since is refused, and with it the whole batch.
    earlier = case(project, **recent())
    good = case(project, **today())
    response = await anon.post("/api/v1/cases", json={"cases": [earlier, good]}, headers=headers, csrf=False)
    assert response.status_code == 422, response.text
    problems = response.json()["problems"] if "problems" in response.json() else response.json()
    assert "JL-26" in response.text and "cases[1]" in response.text and "cases[0]" not in response.text, problems
    from core.cases.tables import CaseRecord

    assert not await CaseRecord.exists().where(CaseRecord.external_id.is_in([good["case_id"], earlier["case_id"]]))

    medaffairs = await login_as("medaffairs_a")
    page = (await medaffairs.get(f"/lifecycle/institutions/{deployment['hospital_a']}/{key}")).text
    assert "暂停" in page and "JL-26" in page and 'id="refusal"' in page
    institution = (await medaffairs.get(f"/institutions/{deployment['hospital_a']}")).text
    assert 'data-use="suspended"' in institution
    project_page = (await medaffairs.get(f"/admission/projects/{project}")).text
    assert 'id="use-refusal"' in project_page

    suspension = await RegionSuspension.select().where(RegionSuspension.technology_key == key).first()
    city = await login_as("regulator_city1")
    r = await city.post(f"/lifecycle/desk/suspensions/{suspension['id']}/lift", data={"reason": "越权解除"})
    assert r.status_code == 403 and "只能由其解除" in r.text
    r = await province.post(f"/lifecycle/desk/suspensions/{suspension['id']}/lift", data={
        "reason": "核查完毕，技术本身无问题", "version": str(suspension["version"])})
    assert r.status_code == 303, r.text
    response = await anon.post("/api/v1/cases", json={"cases": [earlier, good]}, headers=headers, csrf=False)
    assert response.status_code == 200, response.text
    assert await AuditEvent.exists().where(AuditEvent.action == "region_suspension.lift")


@pytest.mark.rule("NAT-25")
@pytest.mark.rule("HOSP-20")
async def test_nat25_stop_form_shows_articles_records_the_committee_and_only_medical_affairs_may(
        deployment, login_as, project):
    key = await key_of(project)
    url = f"/lifecycle/institutions/{deployment['hospital_a']}/{key}"
    clinician = await login_as("clinician_a")
    page = (await clinician.get(url)).text
    assert 'id="stop"' not in page  # a clinician reads the state but cannot stop
    r = await clinician.post(url, data={"action": "stop", "trigger": "safety", "reason": "越权", "committee": "x",
                                        "meeting_on": "2026-03-01"})
    assert r.status_code == 404
    medaffairs = await login_as("medaffairs_a")
    page = (await medaffairs.get(url)).text
    assert "（三）在本机构应用过程中出现重大医疗质量" in page and "HOSP-20" in page
    r = await medaffairs.post(url, data={"action": "stop", "trigger": "safety", "reason": "", "committee": "",
                                         "meeting_on": ""})
    assert r.status_code == 422
    assert "请填写停止理由" in r.text and "请填写管理委员会会议日期" in r.text
    assert 'value="safety" checked' in r.text  # the choice made is kept
    meeting = (clock.today() - dt.timedelta(days=1)).isoformat()
    r = await medaffairs.post(url, data={"action": "stop", "trigger": "safety",
                                         "reason": "发生与技术直接相关的严重不良后果", "committee": "医疗技术临床应用管理委员会（周院长等）",
                                         "meeting_on": meeting, "document": "院医发〔2026〕5号"})
    assert r.status_code == 303, r.text
    page = (await medaffairs.get(url)).text
    assert 'data-use="stopped"' in page and "医疗技术临床应用管理委员会（周院长等）" in page and meeting in page
    assert "JL-26" in page and re.search(r"已报告：[^<]+", page)
    city = await login_as("regulator_city1")
    assert "发生与技术直接相关的严重不良后果" in (await city.get("/lifecycle/desk")).text
    # Everyone told can open what they were told about.
    from core.accounts.tables import User
    from core.inbox.tables import InboxMessage

    for username, client in (("regulator_city1", city), ("medaffairs_a", medaffairs)):
        user = await User.select(User.id).where(User.username == username).first()
        notice = await InboxMessage.select().where((InboxMessage.user == user["id"])
                                                   & InboxMessage.title.like("%停止%")).order_by(
            InboxMessage.id, ascending=False).first()
        assert notice["link"] == url and (await client.get(notice["link"])).status_code == 200
    r = await medaffairs.post("/cases", data={
        "technology_code": f"P{project}", "case_id": "ZY-STOPPED-1", "patient_key": "PK-STOP-1", **today(),
        "operators": ["clinician_a"], "consent": "on"})
    assert "停止临床应用" in r.text and "JL-26" in r.text
    # The spreadsheet upload is refused the same way, whole file, naming the rule.
    from tests.test_cases_web import _csv, _row

    day = clock.today().isoformat()
    response = await clinician.post("/cases/upload", data={"technology_code": f"P{project}"},
                                    files={"file": ("病例.csv", _csv([_row("UP-STOP-1", day, day)]), "text/csv")})
    assert response.status_code == 303
    job = await clinician.get(response.headers["location"])
    assert "文件未导入" in job.text and "JL-26" in job.text and "停止临床应用" in job.text


@pytest.mark.rule("NAT-25")
@pytest.mark.rule("JL-26")
async def test_nat25_the_licence_department_cancels_the_filing_from_the_stop_report(deployment, login_as):
    from core.filing.tables import Filing
    from tests.supervision_helpers import completed_filing

    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=14)
    row = await Filing.select().where(Filing.id == await completed_filing(hooks, project_id)).first()
    key = lifecycle.technology_key(row["technology_code"], project_id)
    medaffairs = await login_as("medaffairs_a")
    url = f"/lifecycle/institutions/{deployment['hospital_a']}/{key}"
    r = await medaffairs.post(url, data={"action": "stop", "trigger": "conditions", "reason": "技术负责人调离",
                                         "committee": "医疗技术临床应用管理委员会",
                                         "meeting_on": clock.today().isoformat()})
    assert r.status_code == 303, r.text
    city = await login_as("regulator_city1")
    desk = (await city.get("/lifecycle/desk")).text
    assert 'data-to-cancel="1"' in desk
    filing_desk = (await city.get("/filings/desk")).text
    assert re.search(rf'data-filing="{row["id"]}".*?data-use="stopped"', filing_desk, re.S)
    page = (await city.get(f"/filings/{row['id']}")).text
    assert 'id="stop-report"' in page and '<option value="conditions" selected>' in page
    reason = re.search(r'<textarea name="reason" rows="2">([^<]+)</textarea>', page).group(1)
    assert "技术负责人调离" in reason
    r = await city.post(f"/filings/{row['id']}/cancel", data={"ground": "conditions", "reason": reason})
    assert r.status_code == 303, r.text
    page = (await medaffairs.get(url)).text
    assert 'data-use="cancelled"' in page and "注销备案" in page and 'id="resume"' in page
    assert "重新备案" in page
    await release_obligations()


@pytest.mark.rule("NAT-25")
async def test_nat25_a_stop_report_is_on_the_licence_departments_to_do_list_until_it_cancels(deployment, login_as):
    from core.dashboard import todo
    from core.filing.tables import Filing
    from tests.filing_helpers import region_actor
    from tests.supervision_helpers import completed_filing

    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=16)
    filing_id = await completed_filing(hooks, project_id)
    row = await Filing.select().where(Filing.id == filing_id).first()
    key = lifecycle.technology_key(row["technology_code"], project_id)
    city = await region_actor("regulator_city1")
    assert not [t for t in await todo.for_actor(city, hooks) if t.source == "stop_report"]
    medaffairs = await login_as("medaffairs_a")
    await medaffairs.post(f"/lifecycle/institutions/{deployment['hospital_a']}/{key}", data={
        "action": "stop", "trigger": "safety", "reason": "发生严重不良后果", "committee": "医疗技术临床应用管理委员会",
        "meeting_on": clock.today().isoformat()})
    tasks = [t for t in await todo.for_actor(city, hooks) if t.source == "stop_report"]
    assert [t.link for t in tasks] == [f"/filings/{filing_id}"]
    assert not [t for t in await todo.for_actor(await region_actor("regulator_city2"), hooks)
                if t.source == "stop_report"]
    page = (await (await login_as("regulator_city1")).get("/")).text
    assert "技术停止报告" in page
    await filing.cancel(city, hooks, filing_id, "safety", "接停止报告，注销备案")
    assert not [t for t in await todo.for_actor(city, hooks) if t.source == "stop_report"]
    await release_obligations()


def _xlsx(rows: list[list[str]]) -> bytes:
    import io

    from openpyxl import Workbook

    from core.cases.spreadsheet import COLUMNS

    book = Workbook()
    sheet = book.active
    sheet.append([h for h, _, _ in COLUMNS] + ["质控:并发症发生率"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.rule("NAT-41")
@pytest.mark.rule("NAT-25")
async def test_nat41_a_case_inside_a_lifted_department_suspension_stays_refused_everywhere(
        deployment, anon, login_as):
    """A suspension by the licence department, later lifted, still refuses what was
    performed while it ran — page, spreadsheet, HIS API (the whole batch) and the first
    case — naming the rule; what was performed after the lifting is accepted."""
    from core.cases.tables import CaseRecord
    from core.filing.tables import Filing
    from tests.filing_helpers import actor, region_actor
    from tests.test_cases_web import _row

    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=18)
    key = await key_of(project_id)
    day = clock.today()
    started, lifted = day - dt.timedelta(days=10), day - dt.timedelta(days=3)
    city = await region_actor("regulator_city1")
    await lifecycle.suspend(city, hooks, technology_key=key, reason="飞行检查发现质控缺陷，责令整改",
                            institution_id=deployment["hospital_a"], on=started)
    await lifecycle.lift(city, hooks, technology_key=key, reason="整改到位", institution_id=deployment["hospital_a"],
                         on=lifted)
    inside = (day - dt.timedelta(days=8)).isoformat()
    inside_out = (day - dt.timedelta(days=6)).isoformat()
    after = (day - dt.timedelta(days=2)).isoformat()

    # The first case performed inside the period opens no filing.
    ma = await actor("medaffairs_a")
    from core.errors import DomainError

    with pytest.raises(DomainError) as exc:
        await filing.on_first_case(ma, hooks, project_id=project_id, case_date=dt.date.fromisoformat(inside))
    assert "NAT-41" in {p.rule for p in exc.value.problems}
    assert "期间" in exc.value.problems[0].message
    assert not await Filing.exists().where(Filing.project == project_id)

    # The case page.
    medaffairs = await login_as("medaffairs_a")
    r = await medaffairs.post("/cases", data={
        "technology_code": f"P{project_id}", "case_id": "ZY-LIFTED-1", "patient_key": "PK-LIFT-1",
        "admitted_on": (day - dt.timedelta(days=9)).isoformat(), "operated_on": inside, "discharged_on": inside_out,
        "operators": ["clinician_a"], "consent": "on"})
    assert r.status_code == 422 and "NAT-41" in r.text and "期间" in r.text
    # The spreadsheet (XLSX): the whole file refused, naming the rule.
    clinician = await login_as("clinician_a")
    response = await clinician.post(
        "/cases/upload", data={"technology_code": f"P{project_id}"},
        files={"file": ("病例.xlsx", _xlsx([_row("UP-LIFT-1", after, day.isoformat(), patient="PK-L1"),
                                            _row("UP-LIFT-2", inside, inside_out, patient="PK-L2")]),
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    assert response.status_code == 303
    job = await clinician.get(response.headers["location"])
    assert "文件未导入" in job.text and "NAT-41" in job.text
    # The HIS API: 422, the whole batch refused, the refused case named.
    _, token = await token_for(deployment["hospital_a"])
    good = case(project_id, admitted_on=lifted.isoformat(), operated_on=after, discharged_on=day.isoformat())
    bad = case(project_id, admitted_on=started.isoformat(), operated_on=inside, discharged_on=inside_out)
    response = await anon.post("/api/v1/cases", json={"cases": [good, bad]},
                               headers={"Authorization": f"Bearer {token}"}, csrf=False)
    assert response.status_code == 422, response.text
    assert "NAT-41" in response.text and "cases[1]" in response.text and "cases[0]" not in response.text
    assert not await CaseRecord.exists().where(CaseRecord.external_id.is_in(
        [good["case_id"], bad["case_id"], "UP-LIFT-1", "UP-LIFT-2", "ZY-LIFTED-1"]))
    # What was performed after the lifting is accepted.
    response = await anon.post("/api/v1/cases", json={"cases": [good]},
                               headers={"Authorization": f"Bearer {token}"}, csrf=False)
    assert response.status_code == 200, response.text
    await release_obligations()


@pytest.mark.rule("NAT-22")
@pytest.mark.rule("NAT-25")
async def test_nat22_a_case_inside_a_lifted_institution_suspension_or_a_resumed_stop_stays_refused(deployment):
    """The institution's own suspension, and a stop followed by a resumption, leave their
    periods refused for cases performed inside them."""
    from core.cases import service as cases
    from core.errors import DomainError
    from tests.case_helpers import case_input
    from tests.filing_helpers import actor

    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=19, tech_class="routine")
    key = await key_of(project_id)
    day = clock.today()
    ma = await actor("medaffairs_a")
    await lifecycle.suspend(ma, hooks, technology_key=key, reason="主要设备检修", on=day - dt.timedelta(days=20))
    await lifecycle.lift(ma, hooks, technology_key=key, reason="设备检修完毕", on=day - dt.timedelta(days=15))
    await lifecycle.stop(ma, hooks, technology_key=key, trigger="safety", reason="发生严重不良后果",
                         committee="医疗技术临床应用管理委员会", meeting_on=day - dt.timedelta(days=10),
                         on=day - dt.timedelta(days=10))
    await lifecycle.resume(ma, hooks, technology_key=key, basis="re_evaluation", reason="重新评估符合要求",
                           committee="医疗技术临床应用管理委员会", meeting_on=day - dt.timedelta(days=5),
                           on=day - dt.timedelta(days=5))
    refused = {d: await lifecycle.use_refusal(deployment["hospital_a"], key, day - dt.timedelta(days=d), hooks=hooks)
               for d in (21, 18, 12, 8, 3)}
    assert refused[21] is None and refused[3] is None
    assert refused[18].rule == "NAT-22" and refused[18].status == "suspended"
    assert refused[12] is None and refused[8].status == "stopped"
    with pytest.raises(DomainError) as exc:
        op = (day - dt.timedelta(days=7)).isoformat()
        await cases.record_cases(ma, hooks, [case_input(project_id, admitted_on=op, operated_on=op,
                                                        discharged_on=(day - dt.timedelta(days=6)).isoformat())])
    assert "停止临床应用" in exc.value.problems[0].message and "期间" in exc.value.problems[0].message
    await release_obligations()


@pytest.mark.rule("HN-4.2")
async def test_hn42_henan_page_refiles_and_the_department_completion_resumes(henan_app, henan_login):  # noqa: F811
    from core.filing.tables import Filing
    from tests.filing_helpers import HENAN_USERS, actor, region_actor
    from tests.test_lifecycle import _henan_completed_filing

    hooks = henan_app["host"].view()
    project_id = await admitted(hooks, HENAN_USERS, tech_index=8)
    key = await key_of(project_id)
    ma = await actor(HENAN_USERS["medical_affairs"])
    department = await region_actor(HENAN_USERS["regulator"])
    await _henan_completed_filing(hooks, project_id, ma, department)
    client = await henan_login(HENAN_USERS["medical_affairs"])
    url = f"/lifecycle/institutions/{ma.institution_id}/{key}"
    page = (await client.get(url)).text
    assert 'id="refile"' in page and "HN-4.2" in page and "重新备案" in page
    r = await client.post(url, data={"action": "refile", "reason": ""})
    assert r.status_code == 422 and "请填写人员、设备或条件的变化情况" in r.text
    r = await client.post(url, data={"action": "refile", "reason": "技术负责人调离，由副主任医师接任"})
    assert r.status_code == 303, r.text
    page = (await client.get(r.headers["location"])).text
    new = await Filing.select().where((Filing.project == project_id) & (Filing.status == "open")).first()
    assert 'id="refiling"' in page and f'href="/filings/{new["id"]}"' in page and 'data-use="suspended"' in page
    assert 'id="lift"' not in page and 'id="refile"' not in page and 'id="stop"' in page
    assert (await client.get(f"/filings/{new['id']}")).status_code == 200
    # The department completes the re-filing: the technology is in use again.
    from tests.filing_helpers import PDF

    row = await Filing.select().where(Filing.id == new["id"]).first().output(load_json=True)
    await filing.save_details(ma, hooks, new["id"], filing.FilingDetails(
        version=row["version"], self_assessment="新任技术负责人资质符合要求。", assessment_basis="consensus",
        assessment_reference="相关专业专家共识（2025版）", form={"phone": "0371-88888888"}, physicians=row["physicians"]))
    for m in (await filing.filing_view(ma, hooks, new["id"])).materials:
        await filing.upload_material(ma, hooks, new["id"], m.key, f"n-{m.key}.pdf", PDF + b"n" + m.key.encode())
    await filing.submit(ma, hooks, new["id"])
    await filing.complete(department, hooks, new["id"])
    page = (await client.get(url)).text
    assert 'data-use="in_use"' in page and "重新备案已完成" in page


async def test_every_lifecycle_and_evaluation_page_as_every_role_opens_and_its_links_open(deployment, login_as, anon):
    """A crawl two links deep from the lifecycle and evaluation pages, with the demo's
    stopped, suspended and in-progress states, as every role they touch and the public:
    no page errs, and no link leads to a page that is not there."""
    from core.evaluation import demo as evaluation_demo
    from core.lifecycle import demo as lifecycle_demo

    hooks = deployment["host"].view()
    await lifecycle_demo.load(hooks)
    await evaluation_demo.load(hooks)
    areas = ("/lifecycle", "/evaluations", "/public/filings")
    broken = []
    for user in ("medaffairs_a", "head_a", "clinician_a", "depthead_a", "regulator_city1", "regulator_province",
                 "qccenter", "admin", "medaffairs_b", None):
        client = await login_as(user) if user else anon
        depth = {p: 0 for p in ("/lifecycle/", "/lifecycle/desk", "/evaluations", "/evaluations/periodic",
                                "/public/filings")}
        todo, seen = list(depth), set()
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            response = await client.get(path)
            if response.status_code >= 500 or (response.status_code == 404 and depth[path] > 0):
                broken.append((user, path, response.status_code))
            if response.status_code == 200 and depth[path] < 2 and path.startswith(areas):
                for href in re.findall(r'href="(/[^"#?]*)', response.text):
                    if "logout" in href or href.startswith("/static") or href.endswith((".pdf", ".xlsx", ".zip")):
                        continue
                    if href not in depth:
                        depth[href] = depth[path] + 1
                        todo.append(href)
    assert broken == []
