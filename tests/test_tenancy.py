"""Tenancy: every route that takes an id refuses another tenant's record with 404.

The matrix below lists EVERY route of the app (plugin routes included) whose path
carries a parameter. ``test_every_id_route_is_in_the_matrix`` fails when a route is
added without an entry, so a new ``/things/{thing_id:int}`` cannot skip the check.

To add a route: put its path (exactly as ``app.routes`` shows it) in ``TENANT_ROUTES``
with a ``record`` factory ``async (deployment, institution_id) -> {param: value}``
that returns the path parameters of a record OWNED BY that institution (create one
through your service with ``SYSTEM`` if the demo has none), the user who may read
hospital A's record (the positive control), whether regulators read it, and a
plausible form for the write attempt. A parameter that is not a tenant record goes
in ``NOT_TENANT`` with the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from piccolo.querystring import QueryString

from tests.fixtures import per_database

Params = dict[str, Any]


# ---------------------------------------------------------------- record factories


async def use_of(dep: dict, institution_id: int) -> Params:
    """A technology the institution uses: the one of its test filing's project."""
    from core.filing.tables import Filing
    from core.lifecycle.service import technology_key

    filing = await Filing.select(Filing.technology_code, Filing.project).where(
        Filing.id == (await filing_of(dep, institution_id))["filing_id"]).first()
    return {"institution_id": institution_id, "key": technology_key(filing["technology_code"], filing["project"])}


async def institution_of(dep: dict, institution_id: int) -> Params:
    return {"institution_id": institution_id}


async def department_of(dep: dict, institution_id: int) -> Params:
    ids = dep["departments_a"] if institution_id == dep["hospital_a"] else dep["departments_b"]
    return {"department_id": ids[0]}


async def user_of(dep: dict, institution_id: int) -> Params:
    name = "clinician_a" if institution_id == dep["hospital_a"] else "clinician_b"
    return {"user_id": dep["users"][name]["id"]}


async def region_of(dep: dict, institution_id: int) -> Params:
    from core.tenancy.tables import Institution

    row = await Institution.select(Institution.region).where(Institution.id == institution_id).first()
    return {"region_id": row["region"]}


_DELIVERIES: dict[int, Params] = per_database({})


async def delivery_of(dep: dict, institution_id: int) -> Params:
    """An outbox delivery of the institution, packaged for manual upload (retryable and
    confirmable, so a missing check on a write would show)."""
    if institution_id not in _DELIVERIES:
        from core.accounts.schemas import SYSTEM
        from core.db import write_transaction
        from core.outbox import channels, service
        from core.plugins import PluginHost

        hooks = PluginHost(("jilin", "hospital_default")).view()
        async with write_transaction():
            delivery_id = await service.enqueue(
                SYSTEM, channel=channels.channel(hooks, "university"), kind="admission",
                subject_type="tenancy_probe", subject_id=institution_id, institution_id=institution_id,
                payload={"probe": True})
        await service.deliver_due(hooks, delivery_ids=[delivery_id])  # no endpoint set: a package
        _DELIVERIES[institution_id] = {"delivery_id": delivery_id, "subject_type": "tenancy_probe",
                                       "subject_id": institution_id}
    return _DELIVERIES[institution_id]


_OBLIGATIONS: dict[int, Params] = per_database({})


async def obligation_of(dep: dict, institution_id: int) -> Params:
    """A JL-38 case-report obligation of the institution, created as the case workflow will."""
    if institution_id not in _OBLIGATIONS:
        import datetime as dt

        from core.accounts.schemas import SYSTEM
        from core.obligations.service import DomainEvent, on_event

        ids = await on_event(SYSTEM, dep["host"].view(), DomainEvent(
            kind="discharge", occurred_on=dt.date(2026, 2, 10), institution_id=institution_id,
            subject_type="tenancy_probe", subject_id=institution_id, technology_class="restricted"))
        _OBLIGATIONS[institution_id] = {"obligation_id": ids[0]}
    return _OBLIGATIONS[institution_id]


async def message_of(dep: dict, institution_id: int) -> Params:
    """An inbox message of the institution's medical affairs user (messages are per user)."""
    from core.db import write_transaction
    from core.inbox import service as inbox
    from core.inbox.tables import InboxMessage

    name = "medaffairs_a" if institution_id == dep["hospital_a"] else "medaffairs_b"
    user_id = dep["users"][name]["id"]
    async with write_transaction():
        await inbox.deliver([user_id], "越权探测", "", source="tenancy_probe")
    row = await InboxMessage.select(InboxMessage.id).where(InboxMessage.user == user_id).order_by(
        InboxMessage.id, ascending=False).first()
    return {"message_id": row["id"]}


_FILINGS: dict[int, Params] = per_database({})


async def filing_of(dep: dict, institution_id: int) -> Params:
    """A restricted-technology filing of the institution with one uploaded material,
    opened on its first case as medical affairs would (hospital B gets test-local
    reviewers so its project can be admitted)."""
    if institution_id not in _FILINGS:
        import datetime as dt

        from core.accounts import service as accounts
        from core.accounts.schemas import SYSTEM, UserInput
        from core.accounts.tables import User
        from core.filing import service as filing
        from tests.filing_helpers import JILIN_USERS, PDF, actor, admitted_project

        hooks = dep["host"].view()
        users = dict(JILIN_USERS)
        if institution_id != dep["hospital_a"]:
            users = {"clinician": "clinician_b", "medical_affairs": "medaffairs_b"}
            for role in ("dept_head", "ethics", "expert", "hospital_head"):
                name = f"tenancy_b_{role}"
                if not await User.exists().where(User.username == name):
                    dept = dep["departments_b"][0] if role == "dept_head" else None
                    await accounts.create_user(SYSTEM, UserInput(
                        username=name, display_name=name, roles=[role], institution=institution_id,
                        department=dept, password="demo-pass-2026"))
                users[role] = name
        project_id = await admitted_project(hooks, users)
        ma = await actor(users["medical_affairs"])
        filing_id = await filing.on_first_case(ma, hooks, project_id=project_id, case_date=dt.date(2026, 3, 9),
                                               today=dt.date(2026, 3, 9))
        attachment_id = await filing.upload_material(ma, hooks, filing_id, "form", "form.pdf", PDF + b"tenancy")
        _FILINGS[institution_id] = {"filing_id": filing_id, "attachment_id": attachment_id}
    return _FILINGS[institution_id]


_WARNINGS: dict[int, Params] = per_database({})


async def warning_of(dep: dict, institution_id: int) -> Params:
    """A risk warning of the institution (an unfiled-cases finding, raised as an evaluation
    raises it), explained by its medical affairs with one PDF."""
    if institution_id not in _WARNINGS:
        import datetime as dt

        from core.db import write_transaction
        from core.storage import service as storage
        from core.supervision import service as supervision
        from core.supervision.detectors import Finding
        from tests.admission_helpers import PDF, actor

        rule = next(r for r in supervision.rules_in_force(dep["host"].view()) if r.key == "unfiled_cases")
        async with write_transaction():
            warning_id = await supervision._raise(rule, Finding(
                institution_id=institution_id, fingerprint=f"probe:{institution_id}", detail="越权探测"),
                dt.date(2026, 5, 20))
        name = "medaffairs_a" if institution_id == dep["hospital_a"] else "medaffairs_b"
        await supervision.answer(await actor(name), warning_id, "explained", "越权探测的情况说明",
                                 [("说明.pdf", PDF)], version=1)
        [stored] = await storage.list_for("risk_warning", [warning_id])
        _WARNINGS[institution_id] = {"warning_id": warning_id, "attachment_id": stored.id}
    return _WARNINGS[institution_id]


async def funnel_drill_of(dep: dict, institution_id: int) -> Params:
    return {"code": "G01", "institution_id": institution_id}


@dataclass(frozen=True)
class Route:
    """How to reach a record of a given institution through one route."""

    record: Callable[[dict, int], Awaitable[Params]]
    reader: str  # may GET hospital A's record: proves a 404 is the tenancy check, not a broken route
    regulators: bool = False  # regulators read records of their region through this route
    admin_only: bool = False  # every non-admin gets 404, even for their own institution's record
    form: dict = field(default_factory=dict)  # a plausible write, so a missing check would change data


from tests import admission_helpers as adm  # noqa: E402
from tests import case_helpers as cases_h  # noqa: E402
from tests import evaluation_helpers as ev  # noqa: E402
from tests import people_helpers as people_h  # noqa: E402

TENANT_ROUTES: dict[str, Route] = {
    # 新技术准入 (core/admission): projects, their steps, files and PDFs; yearly rounds.
    "/admission/projects/{project_id:int}": Route(adm.project_route, reader="clinician_a",
                                                  form={"action": "save", "title": "越权改名"}),
    "/admission/projects/{project_id:int}/validate": Route(adm.project_route, reader="clinician_a",
                                                           form={"significance": "x"}),
    "/admission/projects/{project_id:int}/step": Route(
        adm.project_route, reader="clinician_a",
        form={"action": "decide", "decision": "reject", "reason": "越权", "version": "1"}),
    "/admission/projects/{project_id:int}/attachments": Route(adm.project_route, reader="clinician_a",
                                                              form={"kind": "evidence"}),
    "/admission/projects/{project_id:int}/pdf/{document:str}": Route(adm.project_pdf_route, reader="clinician_a"),
    "/admission/rounds/{round_id:int}/close": Route(adm.round_route, reader="medaffairs_a"),
    "/files/{attachment_id:int}": Route(adm.attachment_route, reader="clinician_a"),
    "/institutions/{institution_id:int}": Route(institution_of, reader="clinician_a", regulators=True),
    "/departments/{department_id:int}": Route(
        department_of, reader="medaffairs_a", form={"name": "越权改名", "subject": "内科", "active": "on"}),
    "/admin/users/{user_id:int}": Route(
        user_of, reader="admin", admin_only=True,
        form={"display_name": "越权改名", "roles": "clinician", "institution": "", "active": "on"}),
    "/admin/institutions/{institution_id:int}": Route(
        institution_of, reader="admin", admin_only=True,
        form={"name": "越权改名", "licence_no": "X-1", "grade": "三级甲等", "region": "1",
              "registered_subjects_text": "内科\n外科\n儿科\n妇产科\n眼科\n医学检验科\n医学影像科", "active": "on"}),
    "/admin/institutions/{institution_id:int}/departments": Route(
        institution_of, reader="admin", admin_only=True, form={"name": "越权科室", "subject": "内科"}),
    "/admin/regions/{region_id:int}": Route(region_of, reader="admin", admin_only=True, form={"name": "越权改名"}),
    "/obligations/{obligation_id:int}": Route(obligation_of, reader="medaffairs_a", regulators=True),
    "/obligations/{obligation_id:int}/waive": Route(obligation_of, reader="medaffairs_a",
                                                    form={"reason": "越权豁免"}),
    "/obligations/{obligation_id:int}/complete": Route(obligation_of, reader="medaffairs_a",
                                                       form={"note": "越权办结"}),
    "/inbox/{message_id:int}/read": Route(message_of, reader="medaffairs_a"),
    "/outbox/{delivery_id:int}": Route(delivery_of, reader="medaffairs_a"),
    "/outbox/{delivery_id:int}/retry": Route(delivery_of, reader="medaffairs_a"),
    "/outbox/{delivery_id:int}/confirm": Route(delivery_of, reader="medaffairs_a", form={"receipt_id": "越权回执"}),
    "/outbox/{delivery_id:int}/package.zip": Route(delivery_of, reader="medaffairs_a"),
    "/outbox/{delivery_id:int}/manifest.json": Route(delivery_of, reader="medaffairs_a"),
    "/outbox/subject/{subject_type:str}/{subject_id:int}": Route(delivery_of, reader="medaffairs_a"),
    # 病例登记 (core/cases), import jobs, API tokens (admin only).
    "/cases/{case_id:int}": Route(cases_h.case_id_route, reader="medaffairs_a", regulators=True),
    "/cases/imports/{job_id:int}": Route(cases_h.import_route, reader="clinician_a"),
    "/cases/{case_id:int}/correct": Route(cases_h.case_id_route, reader="medaffairs_a", form={
        "admitted_on": "2026-03-09", "operated_on": "2026-03-10", "discharged_on": "2026-03-16",
        "outcome": "worse", "reason": "越权更正"}),
    "/cases/{case_id:int}/void": Route(cases_h.case_id_route, reader="medaffairs_a", form={"reason": "越权作废"}),
    "/cases/{case_id:int}/follow-up": Route(cases_h.case_id_route, reader="clinician_a", form={
        "outcome": "death", "died": "on", "followed_on": "2026-03-20"}),
    "/admin/api-tokens/{token_id:int}/revoke": Route(cases_h.token_route, reader="admin", admin_only=True),
    # 质量控制 (core/qc): annual reports, their PDF, the summary of a project.
    "/qc/reports/{report_id:int}": Route(cases_h.report_route, reader="clinician_a",
                                         form={"action": "submit", "summary": "越权填写内容", "problems": "越权填写内容",
                                               "improvements": "越权填写内容"}),
    "/qc/reports/{report_id:int}/pdf": Route(cases_h.report_route, reader="clinician_a"),
    "/qc/reports/summary/{project_id:int}": Route(cases_h.summary_route, reader="clinician_a",
                                                  form={"action": "decide", "decision": "stop", "reason": "越权"}),
    # 手术分级管理目录 (core/grading): read by the institution and its region, edited by medical affairs.
    "/grading/{institution_id:int}": Route(people_h.grading_route, reader="clinician_a", regulators=True),
    "/grading/{institution_id:int}/export.xlsx": Route(people_h.grading_route, reader="clinician_a",
                                                       regulators=True),
    "/grading/{institution_id:int}/import": Route(people_h.grading_route, reader="medaffairs_a",
                                                  form={"effective_on": "2026-12-31", "basis": "越权导入"}),
    "/grading/{institution_id:int}/operations": Route(people_h.grading_route, reader="medaffairs_a", form={
        "code": "45.23", "name": "越权修改", "level": "4", "effective_on": "2026-12-31", "basis": "越权修改"}),
    # 技术评估 (core/evaluation): a data request is its institution's (EVAL-6).
    "/evaluations/requests/{request_id:int}": Route(ev.request_route, reader="medaffairs_a",
                                                    form={"answer": "越权报送的临床资料说明"}),
    "/evaluations/requests/{request_id:int}/files/{attachment_id:int}": Route(ev.request_route,
                                                                              reader="medaffairs_a"),
    # 医疗技术临床应用管理组织 (core/body): read by the institution and its region, kept by medical affairs.
    "/body/{institution_id:int}": Route(people_h.body_route, reader="clinician_a", regulators=True, form={
        "version": "1", "kind": "committee", "name": "越权改名", "established_on": "2026-01-01"}),
    "/body/{institution_id:int}/systems": Route(people_h.body_route, reader="clinician_a", regulators=True),
    "/body/{institution_id:int}/members": Route(people_h.body_route, reader="medaffairs_a", form={
        "name": "越权委员", "post": "member"}),
    "/body/{institution_id:int}/members/{member_id:int}/leave": Route(people_h.body_route, reader="medaffairs_a"),
    "/body/{institution_id:int}/meetings": Route(people_h.body_route, reader="medaffairs_a", form={
        "held_on": "2026-03-01", "topic": "越权会议", "system_0": "other", "decision_0": "越权决定"}),
    # 规范化培训 (core/training): an institution's courses as training base.
    "/training/institution/{institution_id:int}": Route(people_h.training_route, reader="medaffairs_a",
                                                        regulators=True, form={
        "technology_key": "G01", "title": "越权培训", "places": "3", "plan": "越权的培训方案内容十个字以上",
        "enrolment_notice_on": "2026-03-02", "starts_on": "2026-04-06"}),
    "/training/{course_id:int}": Route(people_h.training_route, reader="medaffairs_a", regulators=True),
    # JL-43: the QC centre decides a transfer review, the licensing department lists a transitional one.
    "/training/reviews/{review_id:int}": Route(people_h.transfer_review_route, reader="qccenter", form={
        "result": "pass", "on": "2026-03-05", "opinion": "越权评议"}),
    "/training/reviews/{review_id:int}/list": Route(people_h.transitional_review_route, reader="regulator_city1",
                                                    form={"on": "2026-03-05"}),
    "/training/{course_id:int}/file": Route(people_h.training_route, reader="medaffairs_a", form={"on": "2026-03-01"}),
    "/training/{course_id:int}/publish": Route(people_h.training_route, reader="medaffairs_a",
                                               form={"on": "2026-03-01"}),
    "/training/{course_id:int}/trainees": Route(people_h.training_route, reader="medaffairs_a",
                                                form={"name": "越权医师"}),
    "/training/{course_id:int}/exam": Route(people_h.training_route, reader="medaffairs_a",
                                            form={"held_on": "2026-05-01"}),
    "/training/{course_id:int}/report": Route(people_h.training_route, reader="medaffairs_a",
                                              form={"on": "2026-05-02"}),
    # 医师档案与授权 (core/people): the physician's archive, certificates, authorisations.
    "/people/institution/{institution_id:int}": Route(people_h.people_route, reader="medaffairs_a",
                                                      regulators=True),
    "/people/{user_id:int}": Route(people_h.people_route, reader="medaffairs_a", regulators=True),
    "/people/{user_id:int}/archive.pdf": Route(people_h.people_route, reader="medaffairs_a"),
    "/people/{user_id:int}/certificates": Route(people_h.people_route, reader="medaffairs_a", form={
        "kind": "practice", "name": "越权证书"}),
    "/people/{user_id:int}/certificates/{certificate_id:int}/remove": Route(
        people_h.people_route, reader="medaffairs_a", form={"reason": "越权移除"}),
    "/people/{user_id:int}/authorisations": Route(people_h.people_route, reader="medaffairs_a", form={
        "scope": "level", "level": "4", "valid_from": "2026-01-01", "valid_until": "2027-01-01",
        "ability": "越权", "training": "越权", "decision": "越权"}),
    "/people/{user_id:int}/reviews": Route(people_h.people_route, reader="medaffairs_a", form={
        "technology_key": "G01", "origin": "外省越权", "materials": "越权提交的审核情况说明文字"}),
    "/people/{user_id:int}/applications": Route(people_h.people_route, reader="clinician_a", form={
        "technology_key": "G01", "conditions": "越权提交的已具备条件说明文字"}),
    "/people/{user_id:int}/applications/{review_id:int}": Route(
        people_h.transitional_review_route, reader="medaffairs_a", form={
            "result": "pass", "on": "2026-03-05", "opinion": "越权评议"}),
    "/people/{user_id:int}/authorisations/{authorisation_id:int}": Route(
        people_h.people_route, reader="medaffairs_a", form={"action": "revoke", "version": "1", "reason": "越权",
                                                           "decision": "越权"}),
    "/filings/{filing_id:int}": Route(filing_of, reader="medaffairs_a", regulators=True),
    "/filings/{filing_id:int}/deliveries": Route(filing_of, reader="medaffairs_a", regulators=True),
    "/filings/{filing_id:int}/form.pdf": Route(filing_of, reader="medaffairs_a", regulators=True),
    "/filings/{filing_id:int}/files/{attachment_id:int}": Route(filing_of, reader="medaffairs_a", regulators=True),
    "/filings/{filing_id:int}/details": Route(filing_of, reader="medaffairs_a", form={
        "version": "1", "self_assessment": "越权修改的自我评估内容", "assessment_basis": "consensus"}),
    "/filings/{filing_id:int}/materials": Route(filing_of, reader="medaffairs_a", form={"material": "form"}),
    "/filings/{filing_id:int}/submit": Route(filing_of, reader="medaffairs_a"),
    "/filings/{filing_id:int}/withdrawal": Route(filing_of, reader="medaffairs_a", form={"reason": "越权撤销"}),
    "/filings/{filing_id:int}/return": Route(filing_of, reader="medaffairs_a", form={"reason": "越权退回"}),
    "/filings/{filing_id:int}/complete": Route(filing_of, reader="medaffairs_a", form={"completed_on": "2026-03-20"}),
    "/filings/{filing_id:int}/annotation": Route(filing_of, reader="medaffairs_a", form={"annotation": "越权备注"}),
    "/filings/{filing_id:int}/confirm-withdrawal": Route(filing_of, reader="medaffairs_a"),
    "/filings/{filing_id:int}/cancel": Route(filing_of, reader="medaffairs_a", form={
        "ground": "safety", "reason": "越权注销"}),
    # 风险预警 (core/supervision): a warning, the institution's answer, the regulator's decisions.
    "/warnings/{warning_id:int}": Route(warning_of, reader="medaffairs_a", regulators=True),
    "/warnings/{warning_id:int}/answer": Route(warning_of, reader="medaffairs_a", form={
        "kind": "corrected", "answer": "越权提交的整改情况", "version": "2"}),
    "/warnings/{warning_id:int}/close": Route(warning_of, reader="medaffairs_a", form={
        "note": "越权关闭的处理意见", "version": "2"}),
    "/warnings/{warning_id:int}/escalate": Route(warning_of, reader="medaffairs_a", form={
        "note": "越权上报的理由说明", "version": "2"}),
    "/warnings/{warning_id:int}/files/{attachment_id:int}": Route(warning_of, reader="medaffairs_a",
                                                                   regulators=True),
    # 院内技术使用 (core/lifecycle): one technology's state of use in one institution.
    "/lifecycle/institutions/{institution_id:int}/{key:str}": Route(
        use_of, reader="medaffairs_a", regulators=True,
        form={"action": "stop", "trigger": "safety", "reason": "越权停止", "committee": "越权",
              "meeting_on": "2026-03-20"}),
    # 质控漏斗图: the drill-down from a funnel plot to one institution's cases.
    "/analytics/funnel/{code:str}/institutions/{institution_id:int}": Route(
        funnel_drill_of, reader="regulator_city1", regulators=True),
    "/analytics/cusum/{project_id:int}": Route(adm.project_route, reader="medaffairs_a", regulators=True),
    # 信誉评分 (NAT-39): an institution's score, its export and its answer.
    "/credit/{institution_id:int}": Route(institution_of, reader="medaffairs_a", regulators=True),
    "/credit/{institution_id:int}/export.xlsx": Route(institution_of, reader="medaffairs_a", regulators=True),
    "/credit/{institution_id:int}/answer": Route(institution_of, reader="medaffairs_a", form={
        "year": "2026", "text": "越权提交的评分说明"}),
}

_EVALUATION = ("a province's evaluation (seed 003): a region's record, not an institution's; readers of another "
               "region and every hospital user get 404 (test_evaluation_web.py::test_an_evaluation_answers_404_"
               "outside_its_region)")

# Parameters that are not tenant records, with the reason they are outside the matrix.
NOT_TENANT: dict[str, str] = {
    "/static/{file_path:path}": "static assets, the same for everyone",
    "/account/sessions/{session_id:int}/end": "one of the user's own sessions; another user's answers 404 (test_account.py)",
    "/api/v1/cases/{case_id:str}/follow-up": "the hospital's own case id, looked up within the bearer token's institution only (test_case_corrections.py::test_hosp15_follow_up_by_the_his_api: another institution's token answers 404)",
    "/schema/{path:str}": "Litestar's OpenAPI UI assets",
    "/admin/plugins/{name:str}": "a plugin name; admin-only, covered by test_admin_routes_answer_404_to_non_admins",
    "/admin/plugins/{name:str}/off": "a plugin name; admin-only, covered by test_admin_routes_answer_404_to_non_admins",
    "/admin/plugins/{name:str}/row": "a plugin name; admin-only, covered by test_admin_routes_answer_404_to_non_admins",
    "/ical/{filename:str}": "a secret per-user feed token, no login; unknown or revoked answers 404 (test_obligations_web.py)",
    "/qc/technology/{code:str}": "a technology code; the figures are computed within the reader's QC scope (test_qc.py::test_hosp13_each_qc_level_sees_its_scope)",
    "/catalog/{technology_id:int}": "a catalogue entry: deployment-wide data, the same for every tenant",
    "/api/v1/catalog/{technology_id:int}": "a catalogue entry: deployment-wide data, the same for every tenant",
    "/admin/calendar/years/{year:int}/delete": "a calendar year, not a tenant record; admin-only (test_admin_routes_answer_404_to_non_admins)",
    "/public/filings/region/{region_id:int}": "public anonymous page (NAT-40, JL-41, HN-2.3): completed filings only",
    "/public/filings/technology/{code:str}": "public anonymous page (NAT-40): a catalogue code, completed filings only",
    "/public/institutions/{institution_id:int}": "public anonymous disclosure page of an institution (NAT-24)",
    "/open-data/institutions/{institution_id:int}/disclosure.csv": "open data of the anonymous disclosure page of an institution (NAT-24)",
    "/open-data/institutions/{institution_id:int}/disclosure.json": "open data of the anonymous disclosure page of an institution (NAT-24)",
    "/open-data/regions/{region_id:int}/filings.csv": "open data of the anonymous region list (NAT-40): completed filings only",
    "/open-data/regions/{region_id:int}/filings.json": "open data of the anonymous region list (NAT-40): completed filings only",
    "/lifecycle/desk/suspensions/{suspension_id:int}/lift": "a region's suspension of a technology, not an institution's record: only the regulators of the region that made it lift it, others 404 or 403 (test_lifecycle_web.py)",
    "/public/grading/{institution_id:int}": "public anonymous disclosure of an institution's grading catalogue (NAT-24)",
    "/evaluations/{evaluation_id:int}": _EVALUATION,
    "/evaluations/{evaluation_id:int}/files": _EVALUATION,
    "/evaluations/{evaluation_id:int}/files/{file_id:int}": _EVALUATION,
    "/evaluations/{evaluation_id:int}/requests": _EVALUATION,
    "/evaluations/{evaluation_id:int}/panel": _EVALUATION,
    "/evaluations/{evaluation_id:int}/sittings": _EVALUATION,
    "/admin/calendar/days/{day:str}/delete": "a calendar date, not a tenant record; admin-only (test_admin_routes_answer_404_to_non_admins)",
}

HOSPITAL_A_USERS = ("clinician_a", "medaffairs_a", "head_a")
NON_ADMINS = ("clinician_a", "depthead_a", "qc_a", "medaffairs_a", "ethics_a", "expert_a", "head_a",
              "clinician_b", "medaffairs_b", "regulator_city1", "regulator_city2", "regulator_province",
              "qccenter")
# Tables whose rows change without a state change of a record (logins).
VOLATILE_TABLES = ("user_session", "login_attempt")
_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def fill(path: str, params: Params) -> str:
    return _PARAM.sub(lambda m: str(params[m.group(1)]), path)


def methods_of(route) -> list[str]:
    return sorted(m for m in route.methods if m not in ("OPTIONS", "HEAD"))


async def snapshot() -> dict[str, list]:
    """Every row of every table (except login bookkeeping), to prove a refused write changed nothing."""
    from core.db import engine, is_sqlite
    from core.piccolo_app import TABLES

    tables = [t for t in TABLES if t._meta.tablename not in VOLATILE_TABLES]
    if not is_sqlite():
        # One round trip for all tables: PostgreSQL runs without a pool in tests.
        parts = [
            f"'{t._meta.tablename}', (SELECT coalesce(jsonb_agg(x ORDER BY x.\"{t._meta.primary_key._meta.db_column_name}\"), "
            f"'[]'::jsonb) FROM \"{t._meta.tablename}\" x)"
            for t in tables
        ]
        # A function takes at most 100 arguments: build the object 40 tables at a time.
        objects = " || ".join(f"jsonb_build_object({', '.join(parts[i:i + 40])})" for i in range(0, len(parts), 40))
        [row] = await engine().run_querystring(QueryString(f"SELECT ({objects})::text AS rows"))
        return json.loads(row["rows"])
    return {t._meta.tablename: await t.select().order_by(t._meta.primary_key) for t in tables}


@pytest.fixture(scope="module")
async def full_app(deployment):
    """The app with every installed plugin in the deployment, so plugin routes are covered."""
    from core.plugins import PluginHost, _installed
    from web.app import create_app

    return create_app(PluginHost(tuple(sorted(_installed()))))


@pytest.fixture
async def client_for(full_app):
    import httpx

    from tests.fixtures import DEMO_PASSWORD, PortalClient

    clients: dict[str, PortalClient] = {}

    async def make(username: str) -> PortalClient:
        if username not in clients:
            client = PortalClient(transport=httpx.ASGITransport(app=full_app, client=("127.0.0.8", 1)),
                                  base_url="http://testserver")
            await client.get("/login")
            response = await client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
            assert response.status_code == 303, response.text
            clients[username] = client
        return clients[username]

    yield make
    for client in clients.values():
        await client.aclose()


def _id_routes(app) -> dict[str, Any]:
    return {r.path: r for r in app.routes if _PARAM.search(r.path)}


# ---------------------------------------------------------------- the matrix is complete


def test_every_id_route_is_in_the_matrix(full_app):
    routes = _id_routes(full_app)
    missing = sorted(set(routes) - set(TENANT_ROUTES) - set(NOT_TENANT))
    assert not missing, (
        "These routes take a path parameter but are not in the tenancy matrix: "
        f"{missing}. Add each to TENANT_ROUTES in tests/test_tenancy.py (a factory returning the "
        "parameters of a record owned by a given institution), or to NOT_TENANT with the reason."
    )
    stale = sorted((set(TENANT_ROUTES) | set(NOT_TENANT)) - set(routes))
    assert not stale, f"The tenancy matrix names routes that no longer exist: {stale}"


# ---------------------------------------------------------------- reads and writes of a foreign record


@pytest.mark.parametrize("path", sorted(TENANT_ROUTES))
async def test_hospital_a_users_cannot_read_or_write_hospital_b_records(deployment, full_app, client_for, path):
    spec = TENANT_ROUTES[path]
    route = _id_routes(full_app)[path]
    own = fill(path, await spec.record(deployment, deployment["hospital_a"]))
    foreign = fill(path, await spec.record(deployment, deployment["hospital_b"]))
    if "GET" in route.methods:
        control = await (await client_for(spec.reader)).get(own)
        assert control.status_code == 200, f"{spec.reader} should read {own} (positive control)"
    before = await snapshot()
    for username in (*HOSPITAL_A_USERS, "regulator_city1"):
        client = await client_for(username)
        for method in methods_of(route):
            if method == "GET":
                response = await client.get(foreign)
            else:
                response = await client.request(method, foreign, data=spec.form)
            assert response.status_code == 404, f"{username} {method} {foreign} → {response.status_code}"
            assert "未找到" in response.text
    assert await snapshot() == before, f"a refused request to {foreign} changed data"


@pytest.mark.parametrize("path", sorted(p for p, s in TENANT_ROUTES.items() if s.admin_only))
async def test_admin_only_id_routes_answer_404_to_non_admins_even_for_their_own_records(
    deployment, full_app, client_for, path
):
    spec = TENANT_ROUTES[path]
    route = _id_routes(full_app)[path]
    own = fill(path, await spec.record(deployment, deployment["hospital_a"]))
    before = await snapshot()
    for username in NON_ADMINS:
        client = await client_for(username)
        for method in methods_of(route):
            response = await (client.get(own) if method == "GET" else client.request(method, own, data=spec.form))
            assert response.status_code == 404, f"{username} {method} {own} → {response.status_code}"
    assert await snapshot() == before, f"a refused request to {own} changed data"


@pytest.mark.parametrize("path", sorted(p for p, s in TENANT_ROUTES.items() if s.admin_only))
async def test_admin_reads_records_of_every_institution(deployment, full_app, client_for, path):
    spec = TENANT_ROUTES[path]
    if "GET" not in _id_routes(full_app)[path].methods:
        pytest.skip("a write-only route")
    admin = await client_for("admin")
    for inst in (deployment["hospital_a"], deployment["hospital_b"]):
        url = fill(path, await spec.record(deployment, inst))
        assert (await admin.get(url)).status_code == 200, url


@pytest.mark.parametrize("path", sorted(p for p, s in TENANT_ROUTES.items() if s.regulators))
async def test_regulators_see_their_region_and_below_only(deployment, client_for, path):
    spec = TENANT_ROUTES[path]
    in_city1 = fill(path, await spec.record(deployment, deployment["hospital_a"]))
    in_city2 = fill(path, await spec.record(deployment, deployment["hospital_b"]))
    city1, city2 = await client_for("regulator_city1"), await client_for("regulator_city2")
    province = await client_for("regulator_province")
    assert (await city1.get(in_city1)).status_code == 200
    assert (await city1.get(in_city2)).status_code == 404
    assert (await city2.get(in_city2)).status_code == 200
    assert (await city2.get(in_city1)).status_code == 404
    assert (await province.get(in_city1)).status_code == 200
    assert (await province.get(in_city2)).status_code == 200


# ---------------------------------------------------------------- admin-only pages and lists


async def test_admin_routes_answer_404_to_non_admins(deployment, full_app, client_for):
    """Every route under /admin (with or without an id) is invisible to everyone but the admin."""
    admin_paths = sorted({r.path for r in full_app.routes if r.path.startswith("/admin")})
    assert "/admin/plugins/{name:str}" in admin_paths
    samples = {"name": "jilin", "user_id": deployment["users"]["clinician_a"]["id"],
               "institution_id": deployment["hospital_a"], "region_id": deployment["city1"]}
    before = await snapshot()
    for username in ("clinician_a", "medaffairs_a", "head_a", "regulator_province", "qccenter"):
        client = await client_for(username)
        for path in admin_paths:
            route = next(r for r in full_app.routes if r.path == path)
            url = _PARAM.sub(lambda m: str(samples.get(m.group(1), 1)), path)
            for method in methods_of(route):
                response = await (client.get(url) if method == "GET"
                                  else client.request(method, url, data={"enabled": "0", "name": "x"}))
                assert response.status_code == 404, f"{username} {method} {url} → {response.status_code}"
    assert await snapshot() == before, "a refused request to an admin route changed data"


async def test_institution_list_shows_only_the_regulators_region(deployment, client_for):
    city1 = (await client_for("regulator_city1")).get("/institutions")
    page = await city1
    assert "医院A" in page.text and "医院B" not in page.text
    province = await (await client_for("regulator_province")).get("/institutions")
    assert "医院A" in province.text and "医院B" in province.text


async def test_hospital_users_do_not_get_the_regional_list(deployment, client_for):
    for username in HOSPITAL_A_USERS:
        assert (await (await client_for(username)).get("/institutions")).status_code == 404


async def test_department_list_shows_own_institution_only(deployment, client_for):
    page = await (await client_for("medaffairs_a")).get("/departments")
    assert page.status_code == 200
    assert "医院A" in page.text and "医院B" not in page.text
    assert f'/departments/{deployment["departments_b"][0]}"' not in page.text


async def test_a_department_cannot_be_created_in_another_institution(deployment, client_for):
    """The department form has no institution field; a smuggled one is ignored."""
    from core.tenancy.tables import Department

    client = await client_for("medaffairs_a")
    response = await client.post("/departments", data={"name": "偷渡科室", "subject": "内科",
                                                        "institution": str(deployment["hospital_b"])})
    assert response.status_code == 303
    rows = await Department.select().where(Department.name == "偷渡科室")
    assert [r["institution"] for r in rows] == [deployment["hospital_a"]]
    await Department.delete().where(Department.name == "偷渡科室")


async def test_the_snapshot_sees_a_changed_row(deployment):
    """The instrument the matrix relies on: a changed value anywhere shows."""
    from core.tenancy.tables import Region

    row = await Region.select(Region.name).where(Region.id == deployment["city1"]).first()
    before = await snapshot()
    await Region.update({Region.name: "快照自检"}).where(Region.id == deployment["city1"])
    try:
        assert await snapshot() != before
    finally:
        await Region.update({Region.name: row["name"]}).where(Region.id == deployment["city1"])
    assert await snapshot() == before
