"""Demo states (``clintech demo``, issue 11 point 16): a deployment in which every state can
be seen at once, without waiting a week — hospital A's projects at each step of admission
(a draft, the department's argumentation, ethics, the expert panel, publicity, returned,
admitted), and a restricted technology admitted two years ago with two years of monthly
cases (so QC figures and the annual report have data), one case corrected and one voided,
its filing opened by the first case, its reports received on time, late, or packaged and
waiting for upload; the risk warnings evaluated on that data.

Idempotent (each project is found by its title); everything goes through the services,
audited as the demo users. Run by the CLI after ``core.demo.load``."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable

from core import clock
from core.accounts.schemas import SYSTEM
from core.admission.tables import AdmissionRound, Project
from core.errors import DomainError
from core.lifecycle.demo import _actor, _form
from core.plugins import HookView

PREFIX = "演示："
STEP_PROJECTS = [  # title, path, stop at the step of this kind ("" = submitted only; None = draft)
    ("演示：填写中的申请", "round", None),
    ("演示：待科室论证的项目", "round", ""),
    ("演示：伦理审查中的项目", "round", "ethics"),
    ("演示：专家评审中的项目", "round", "panel"),
    ("演示：院内公示中的项目", "round", "publicity"),
    ("演示：退回修改的项目", "round", "returned"),
    ("演示：已准入的项目", "temporary", "admitted"),
    ("演示：未通过准入的项目", "round", "rejected"),
    ("演示：申请人撤回的项目", "round", "withdrawn"),
]
# Admitted on the yearly path's promise of the ethics approval within 3 months (HOSP-7),
# which never came: its admission is cancelled (ProjectStatus.cancelled).
LAPSED_PROJECT = "演示：伦理证明逾期、准入已取消的项目"
QC_PROJECT = "演示：两年质控数据的限制类技术"
CONSIDERATIONS = {"planned": "已对开展条件逐项梳理", "cultivate": "拟作为重点技术培育", "equipment": "现有设备满足，无需新购",
                  "fees": "按现行收费标准，无新增收费"}
USERS = {"clinician": "clinician_a", "dept_head": "depthead_a", "ethics": "ethics_a", "expert": "expert_a",
         "medical_affairs": "medaffairs_a", "hospital_head": "head_a"}


async def _row(project_id: int) -> dict:
    return await Project.select().where(Project.id == project_id).first().output(load_json=True)


async def _advance(hooks: HookView, project_id: int, today: dt.date, until: str) -> dict:
    """Decide each step as the demo user of its role until a step of kind ``until`` is
    current ("admitted": to the end)."""
    from core.admission import service as admission

    ma = await _actor("medaffairs_a")
    for _ in range(14):
        row = await _row(project_id)
        if row["status"] != "in_review" or row["current_step"] is None:
            return row
        step = {s["key"]: s for s in row["steps"]}[row["current_step"]]
        if step["kind"] == until:
            return row
        version, kind = row["version"], step["kind"]
        approve = admission.Decision(version=version, decision="approve", reason="同意")
        if kind == "argumentation":
            await admission.decide(await _actor(USERS["dept_head"]), hooks, project_id, admission.Decision(
                version=version, decision="approve", reason="科室论证同意", considerations=CONSIDERATIONS), today)
        elif kind == "ethics":
            await admission.vote(await _actor("ethics_a"), hooks, project_id, admission.Ballot(vote="approve"), today)
        elif kind == "panel":
            expert = await _actor("expert_a")
            await admission.assemble_panel(ma, hooks, project_id, version, [expert.id])
            await admission.vote(expert, hooks, project_id, admission.Ballot(
                vote="approve", score="88", scores={"qualification": "90", "plan": "85", "qc": "86"},
                comment="方案可行，同意开展"), today)
            await admission.decide(ma, hooks, project_id, admission.Decision(
                version=(await _row(project_id))["version"], decision="approve", reason="专家组同意"), today)
        elif kind == "publicity":
            await admission.close_publicity(ma, hooks, project_id, version, row["step_started_on"]
                                            + dt.timedelta(days=10))
        elif kind == "document":
            await admission.issue_document(ma, hooks, project_id, version, f"院准字〔{today.year}〕{project_id}号",
                                           today)
        elif kind == "filing":
            await admission.file_with_university(ma, hooks, project_id, version, today)
        else:
            await admission.decide(await _actor(USERS.get(step["role"], "medaffairs_a")), hooks, project_id,
                                   approve, today)
    return await _row(project_id)


async def _project(hooks: HookView, title: str, path: str, today: dt.date, technology_id: int | None = None) -> int:
    from core.admission import service as admission

    clinician = await _actor("clinician_a")
    project_id = await admission.create_project(clinician, hooks, admission.NewProject(
        title=title, path=path, technology_id=technology_id, outside_lists=technology_id is None), today)
    await admission.save_draft(clinician, hooks, project_id, _form(), today=today)
    return project_id


async def _open_round(today: dt.date) -> None:
    from core.admission import service as admission

    inst = (await _actor("medaffairs_a")).institution_id
    if not await AdmissionRound.exists().where((AdmissionRound.institution == inst)
                                               & (AdmissionRound.status == "open")):
        await admission.open_round(await _actor("medaffairs_a"), today.year, today, today + dt.timedelta(days=60))


async def step_projects(hooks: HookView, today: dt.date) -> list[str]:
    """Hospital A's projects at each step of admission."""
    from core.admission import service as admission

    await _open_round(today)
    lines: list[str] = []
    for title, path, until in STEP_PROJECTS:
        if await Project.exists().where(Project.title == title):
            continue
        project_id = await _project(hooks, title, path, today)
        if until is not None:
            await admission.submit(await _actor("clinician_a"), hooks, project_id, today=today)
        if until == "rejected":
            row = await _row(project_id)
            await admission.decide(await _actor("depthead_a"), hooks, project_id, admission.Decision(
                version=row["version"], decision="reject", reason="本科室暂不具备开展条件，论证不同意",
                considerations=CONSIDERATIONS), today)
        elif until == "withdrawn":
            row = await _row(project_id)
            await admission.withdraw(await _actor("clinician_a"), project_id, row["version"],
                                     "拟与外科联合申报，本申请撤回")
        elif until == "returned":
            row = await _row(project_id)
            await admission.decide(await _actor("depthead_a"), hooks, project_id, admission.Decision(
                version=row["version"], decision="return", reason="请补充国内外开展情况与质控指标的具体参数",
                considerations=CONSIDERATIONS), today)
        elif until:
            row = await _advance(hooks, project_id, today, until)
            if until == "panel":  # the panel assembled, the expert's score still awaited
                await admission.assemble_panel(await _actor("medaffairs_a"), hooks, project_id, row["version"],
                                               [(await _actor("expert_a")).id])
    if not await Project.exists().where(Project.title == LAPSED_PROJECT):
        await lapsed_project(hooks, today)
    return lines


async def lapsed_project(hooks: HookView, today: dt.date) -> None:
    """HOSP-7: medical affairs let the application go ahead without the ethics approval;
    admitted four months ago, the approval never came, and the admission is cancelled."""
    from core.admission import service as admission

    start = today - dt.timedelta(days=125)
    project_id = await _project(hooks, LAPSED_PROJECT, "temporary", start)
    await admission.submit(await _actor("clinician_a"), hooks, project_id, today=start)
    row = await _advance(hooks, project_id, start, "ethics")
    if row["status"] == "in_review":
        await admission.proceed_without_ethics(await _actor("medaffairs_a"), hooks, project_id, row["version"],
                                               "伦理委员会本月例会延期，医务处准予先行申报", today=start)
        await _advance(hooks, project_id, start, "admitted")
    await admission.cancel_lapsed(hooks, today)


def _month_days(first: dt.date, months: int) -> list[dt.date]:
    out, day = [], first
    for _ in range(months):
        out.append(day)
        day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=min(first.day, 28))
    return out


async def _unreachable(hooks: HookView, delivery: dict) -> None:
    """Send the delivery once to a platform address nothing answers on: a real attempt that
    fails with its reason and a later retry (which, with no endpoint configured, packages it)."""
    import os

    from core.outbox import channels
    from core.outbox import service as outbox

    channel = channels.channel(hooks, delivery["channel"])
    if channel is None or not channel.setting:
        return
    before = os.environ.get(channel.setting)
    os.environ[channel.setting] = "http://127.0.0.1:9/unreachable"  # the discard port: connection refused
    try:
        await outbox.deliver_due(hooks, delivery_ids=[delivery["id"]])
    finally:
        if before is None:
            os.environ.pop(channel.setting, None)
        else:
            os.environ[channel.setting] = before


async def _receive(hooks: HookView, case_id: int, on: dt.date | None, *, fail: bool = False) -> None:
    """The platforms' receipts for a case on ``on`` (medical affairs uploads the package and
    records the receipt); ``None``: packaged, the upload still to do; ``fail``: the platform
    could not be reached."""
    from core.cases.service import report_deliveries
    from core.outbox import service as outbox

    for d in (await report_deliveries([case_id]))[case_id]:
        if fail:
            await _unreachable(hooks, d)
            continue
        await outbox.deliver_due(hooks, delivery_ids=[d["id"]])
        if on is not None:
            await outbox.confirm_manual(SYSTEM, d["id"], f"演示回执-{d['id']}", hooks=hooks,
                                        now=dt.datetime(on.year, on.month, on.day, 2, 0, tzinfo=dt.UTC))


def _case(project_id: int, n: int, operated: dt.date) -> dict:
    return {
        "case_id": f"DEMO-QC-{n:03d}", "technology_code": f"P{project_id}", "patient_key": f"DEMO-PATIENT-{n:03d}",
        "admitted_on": (operated - dt.timedelta(days=2)).isoformat(), "operated_on": operated.isoformat(),
        "discharged_on": (operated + dt.timedelta(days=4)).isoformat(), "operators": ["clinician_a"],
        "assistants": ["depthead_a"], "indication": "冠心病多支病变", "outcome": "worse" if n % 17 == 0 else "improved",
        "complication": n % 11 == 0, "complications": "穿刺点血肿" if n % 11 == 0 else "",
        "adverse_event": n % 19 == 0, "adverse_events": "造影剂过敏" if n % 19 == 0 else "",
        "follow_up": "术后30天随访无异常", "qc_values": {"并发症发生率": "是" if n % 11 == 0 else "否"}, "consent": True,
    }


async def qc_history(hooks: HookView, today: dt.date) -> list[str]:
    """A restricted technology admitted two years ago with two cases a month since: most
    reported on time, every seventh late, the last month's one packaged and waiting for
    upload, the other failed (its platform unreachable);
    one case corrected and one voided (NAT-37); its filing opened by the first case (NAT-11)."""
    import msgspec

    from core.cases import corrections
    from core.cases import service as cases
    from core.cases.rules import CaseInput
    from core.cases.tables import CaseRecord
    from core.catalog import service as catalog

    if await Project.exists().where(Project.title == QC_PROJECT):
        return []
    admitted_on = today - dt.timedelta(days=730)
    await catalog.ensure_synced(hooks.host)
    choices = [c for c in await catalog.choices(hooks, classes=("restricted",), on=admitted_on)
               if c.code.startswith(tuple("0123456789G"))] or await catalog.choices(
        hooks, classes=("restricted",), on=admitted_on)
    project_id = await _project(hooks, QC_PROJECT, "temporary", admitted_on, technology_id=choices[-1].id)
    from core.admission import service as admission

    await admission.submit(await _actor("clinician_a"), hooks, project_id, today=admitted_on)
    await _advance(hooks, project_id, admitted_on, "admitted")
    clinician, ma = await _actor("clinician_a"), await _actor("medaffairs_a")
    months = [d for d in _month_days(admitted_on + dt.timedelta(days=20), 25) if d + dt.timedelta(days=6) < today]
    recorded: list[int] = []
    n = 0
    for index, first in enumerate(months):
        batch = []
        for offset in (0, 9):
            n += 1
            batch.append(msgspec.convert(_case(project_id, n, first + dt.timedelta(days=offset)), CaseInput))
        day = max(c.discharged_on for c in batch) + dt.timedelta(days=1)
        results = await cases.record_cases(clinician, hooks, batch, source="demo", today=day)
        last_month = index == len(months) - 1
        for k, result in enumerate(results):
            recorded.append(result.id)
            late = (n - 1 + k) % 7 == 0
            await _receive(hooks, result.id, None if last_month else day + dt.timedelta(days=40 if late else 3),
                           fail=last_month and k == 1)
    row = await CaseRecord.select().where(CaseRecord.id == recorded[3]).first().output(load_json=True)
    await corrections.correct(ma, hooks, recorded[3], corrections.Correction(
        admitted_on=row["admitted_on"], operated_on=row["operated_on"], discharged_on=row["discharged_on"],
        indication=row["indication"], outcome="worse", complication=True, complications="术后穿刺点血肿，压迫后好转",
        follow_up=row["follow_up"]), "出院小结转归录入错误，据病历更正", today=today)
    await corrections.void(ma, hooks, recorded[5], "同一患者重复登记")
    return []


FILING_PROJECTS = [  # title, the filing's status (the QC technology's filing stays open)
    ("演示：备案已提交的限制类技术", "submitted"),
    ("演示：备案被退回的限制类技术", "returned"),
    ("演示：已完成备案的限制类技术", "completed"),
    ("演示：申请撤销备案中的限制类技术", "withdrawal_requested"),
    ("演示：已撤销备案的限制类技术", "withdrawn"),
    ("演示：已注销备案的限制类技术", "cancelled"),
]


@functools.cache
def _material_pdf(title: str) -> bytes:
    """A one-page PDF standing in for a scanned material, saying what it stands for.

    Remembered per title: each rendering subsets the CJK font (1.6 s), and the six demo
    filings upload the same six materials (36 renderings were three quarters of ``clintech
    demo``'s time, and pushed it past the CLI test's two-minute guard on a loaded CI)."""
    from weasyprint import HTML

    return HTML(string=f"<h1>{title}</h1><p>演示材料：实际备案时上传加盖公章的扫描件。</p>").write_pdf()


async def filings(hooks: HookView, today: dt.date) -> list[str]:
    """A filing in each status after open (NAT-11): submitted to the licence-issuing
    department, returned by it for a material, completed — each opened by its project's
    first case, assembled and submitted by medical affairs."""
    from core.admission import service as admission
    from core.catalog import service as catalog
    from core.filing import service as filing
    from core.filing.tables import Filing

    ma, regulator = await _actor("medaffairs_a"), await _actor("regulator_city1")
    start = today - dt.timedelta(days=40)
    choices = await catalog.choices(hooks, classes=("restricted",), on=start)
    used = {r["technology_id"] for r in await Project.select(Project.technology_id)}
    free = [c for c in choices if c.id not in used]
    for index, (title, status) in enumerate(FILING_PROJECTS):
        if await Project.exists().where(Project.title == title) or index >= len(free):
            continue
        project_id = await _project(hooks, title, "temporary", start, technology_id=free[index].id)
        await admission.submit(await _actor("clinician_a"), hooks, project_id, today=start)
        await _advance(hooks, project_id, start, "admitted")
        first_case = start + dt.timedelta(days=5)
        filing_id = await filing.on_first_case(ma, hooks, project_id=project_id, case_date=first_case,
                                               info="首例：手术顺利，术后恢复良好", today=first_case)
        row = await Filing.select().where(Filing.id == filing_id).first().output(load_json=True)
        await filing.save_details(ma, hooks, filing_id, filing.FilingDetails(
            version=row["version"], self_assessment="对照管理规范逐项自评：人员、设备、设施、质控均符合要求。",
            assessment_basis="specification", assessment_reference=row["assessment_reference"] or "相关技术临床应用管理规范",
            form={"phone": "0431-88888888", "contact": "赵医务"}, physicians=row["physicians"]))
        for m in (await filing.filing_view(ma, hooks, filing_id)).materials:
            await filing.upload_material(ma, hooks, filing_id, m.key, f"{m.title[:40]}.pdf", _material_pdf(m.title))
        submitted = first_case + dt.timedelta(days=7)
        await filing.submit(ma, hooks, filing_id, today=submitted)
        if status == "returned":
            await filing.return_filing(regulator, hooks, filing_id, "技术负责人资质证明不清晰，请补充清晰扫描件",
                                       today=submitted + dt.timedelta(days=3))
        elif status in ("completed", "withdrawal_requested", "withdrawn", "cancelled"):
            completed = submitted + dt.timedelta(days=5)
            await filing.complete(regulator, hooks, filing_id, completed_on=completed, today=completed)
            if status in ("withdrawal_requested", "withdrawn"):
                await filing.request_withdrawal(ma, hooks, filing_id, "该技术拟调整至合作医院开展，申请撤销本院备案",
                                                today=completed + dt.timedelta(days=10))
            if status == "withdrawn":
                await filing.confirm_withdrawal(regulator, hooks, filing_id, today=completed + dt.timedelta(days=12))
            elif status == "cancelled":
                await filing.cancel(regulator, hooks, filing_id, "conditions",
                                    "技术负责人调离，关键设备停用，医疗机构已报告停止临床应用",
                                    today=completed + dt.timedelta(days=15))
    return []


async def load(hooks: HookView) -> list[str]:
    """Everything above that is missing; one line per thing made (or why it could not be)."""
    today = clock.today()
    lines: list[str] = []
    steps: list[tuple[str, Callable[[HookView, dt.date], Awaitable[list[str]]]]] = [
        ("准入各步骤的项目", step_projects), ("两年质控数据", qc_history), ("各状态的备案", filings)]
    for label, build in steps:
        try:
            lines += await build(hooks, today)
        except DomainError as exc:
            lines.append(f"未能生成{label}：{exc}")
    from core.supervision import service as supervision

    await supervision.evaluate(hooks, today)
    return lines + await summary()


async def everything(hooks: HookView) -> list[str]:
    """What ``clintech demo`` adds after ``core.demo.load``, in its order: the technologies
    stopped and suspended, the states above, the training base and the evaluation in
    progress (one place, so the CLI and the tests that crawl every state build the same)."""
    from core.evaluation import demo as evaluation_demo
    from core.lifecycle import demo as lifecycle_demo
    from core.training import demo as training_demo

    lines: list[str] = []
    for build in (lifecycle_demo.load, load, training_demo.load, evaluation_demo.load):
        lines += await build(hooks)
    return lines


async def summary() -> list[str]:
    """What the demo states are (the same lines on every run)."""
    from core.cases.tables import CaseRecord

    lines = [f"演示项目：{title}" for title in [t for t, _, _ in STEP_PROJECTS] + [LAPSED_PROJECT]
             if await Project.exists().where(Project.title == title)]
    from core.filing.service import STATUS_LABELS
    from core.filing.tables import Filing

    for title, _ in FILING_PROJECTS:
        found = await Filing.select(Filing.status).where(Filing.project.title == title).first()
        if found is not None:
            lines.append(f"演示备案：{title}（{STATUS_LABELS.get(found['status'], '')}）")
    project = await Project.select(Project.id).where(Project.title == QC_PROJECT).first()
    if project is not None:
        rows = await CaseRecord.select(CaseRecord.voided, CaseRecord.version).where(CaseRecord.project == project["id"])
        corrected = sum(1 for r in rows if r["version"] > 1 and not r["voided"])
        lines.append(f"演示项目：{QC_PROJECT}（{len(rows)} 例病例，{corrected} 例已更正，"
                     f"{sum(1 for r in rows if r['voided'])} 例已作废）")
    return lines
