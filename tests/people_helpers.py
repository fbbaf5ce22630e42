"""Helpers for the people tests (grading, authorisations): a project admitted for a
catalogue technology named by its code, and an institution's grading catalogue."""

from __future__ import annotations

import datetime as dt
import io
import secrets

from core.plugins import HookView
from tests.admission_helpers import actor, admit_temporary, valid_form
from tests.case_helpers import ADMITTED, CREATED
from tests.filing_helpers import JILIN_USERS

# A demo hospital's own grading (not an official list): ICD-9-CM-3 codes and names.
OPERATIONS = [
    ("45.23", "结肠镜检查", 1),
    ("45.42", "内镜下结肠息肉切除术", 2),
    ("42.33", "内镜下食管病损切除术", 3),
    ("43.41", "内镜下胃病损切除术", 4),
]
GRADED_FROM = dt.date(2026, 1, 5)


async def admitted_code(hooks: HookView, code: str, users: dict[str, str] = JILIN_USERS,
                        today: dt.date = ADMITTED) -> int:
    """A project admitted on ``today`` (temporary path) for the catalogue technology ``code``."""
    from core.admission import service
    from core.catalog import service as catalog

    await catalog.ensure_synced(hooks.host)
    found = [t for t in await catalog.choices(hooks, q=code, on=today) if t.code == code]
    clinician = await actor(users["clinician"])
    project_id = await service.create_project(clinician, hooks, service.NewProject(
        title=f"分级测试{code}-{secrets.token_hex(3)}", path="temporary", technology_id=found[0].id), today)
    await service.save_draft(clinician, hooks, project_id, valid_form(), today=today)
    await service.submit(clinician, hooks, project_id, today=today)
    await admit_temporary(hooks, project_id, users, today)
    CREATED.append(project_id)
    return project_id


def xlsx(rows: list[tuple], header: tuple = ("手术编码", "手术名称", "手术级别")) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def graded(institution_id: int, username: str = "medaffairs_a", effective_on: dt.date = GRADED_FROM) -> int:
    """The institution's grading catalogue of ``OPERATIONS``, from ``effective_on``."""
    from core.grading import service as grading

    rows = [(i + 2, {"code": c, "name": n, "level": str(lv)}) for i, (c, n, lv) in enumerate(OPERATIONS)]
    return await grading.import_catalogue(await actor(username), institution_id, rows, filename="test.xlsx",
                                          effective_on=effective_on, basis="2026年第1次医疗技术临床应用管理委员会会议")


async def grading_route(dep: dict, institution_id: int) -> dict:
    """The tenancy matrix: an institution with a grading catalogue (made by the admin)."""
    from core.accounts.schemas import SYSTEM
    from core.grading import service as grading
    from core.grading.tables import GradingEdition

    if not await GradingEdition.exists().where(GradingEdition.institution == institution_id):
        rows = [(i + 2, {"code": c, "name": n, "level": str(lv)}) for i, (c, n, lv) in enumerate(OPERATIONS)]
        await grading.import_catalogue(SYSTEM, institution_id, rows, filename="tenancy.xlsx",
                                       effective_on=GRADED_FROM, basis="租户隔离测试")
    return {"institution_id": institution_id}


async def authorise(username: str, *, technology_key: str = "", level: int | None = None,
                    valid_from: dt.date = dt.date(2026, 1, 5), valid_until: dt.date = dt.date(2028, 1, 4),
                    by: str = "medaffairs_a") -> int:
    """A grant by the management body, recorded by medical affairs (NAT-20)."""
    from core.accounts.tables import User
    from core.people import service as people

    user = await User.select(User.id).where(User.username == username).first()
    return await people.grant(await actor(by), user["id"], people.GrantInput(
        scope="technology" if technology_key else "level", technology_key=technology_key, level=level,
        valid_from=valid_from, valid_until=valid_until, ability="独立完成同类手术50例", training="省级培训基地培训6个月",
        exam="结业考核合格", decision="2026年第1次医疗技术临床应用管理委员会会议"))


_PEOPLE: dict[int, dict] = {}


async def people_route(dep: dict, institution_id: int) -> dict:
    """The tenancy matrix: a physician of the institution with a certificate and a level
    authorisation, recorded by its medical affairs."""
    from core.accounts.tables import User
    from core.people import service as people
    from core.people.tables import Authorisation, Certificate

    a = institution_id == dep["hospital_a"]
    doctor, medical = ("clinician_a", "medaffairs_a") if a else ("clinician_b", "medaffairs_b")
    user = await User.select(User.id).where(User.username == doctor).first()
    cert = await Certificate.select(Certificate.id).where(Certificate.user == user["id"]).first()
    if cert is None:
        await people.add_certificate(await actor(medical), user["id"], people.CertificateInput(
            kind="qualification", name="医师资格证", number=f"T{secrets.token_hex(3)}"))
        cert = await Certificate.select(Certificate.id).where(Certificate.user == user["id"]).first()
    auth = await Authorisation.select(Authorisation.id).where(Authorisation.user == user["id"]).first()
    if auth is None:
        await authorise(doctor, level=2, by=medical)
        auth = await Authorisation.select(Authorisation.id).where(Authorisation.user == user["id"]).first()
    return {"user_id": user["id"], "certificate_id": cert["id"], "authorisation_id": auth["id"],
            "institution_id": institution_id}


async def body_route(dep: dict, institution_id: int) -> dict:
    """The tenancy matrix: an institution with a committee, a member and a meeting."""
    from core.accounts.schemas import SYSTEM
    from core.body import service as body
    from core.body.tables import Body, BodyMember

    if not await Body.exists().where(Body.institution == institution_id):
        await body.save_body(SYSTEM, institution_id, body.BodyInput(
            kind="committee", name="医疗技术临床应用管理委员会", established_on=dt.date(2026, 1, 1)))
    row = await Body.select(Body.id).where(Body.institution == institution_id).first()
    member = await BodyMember.select(BodyMember.id).where(BodyMember.body == row["id"]).first()
    if member is None:
        await body.add_member(SYSTEM, institution_id, body.MemberInput(name="租户委员", post="member"))
        member = await BodyMember.select(BodyMember.id).where(BodyMember.body == row["id"]).first()
    return {"institution_id": institution_id, "member_id": member["id"]}


async def training_route(dep: dict, institution_id: int) -> dict:
    """The tenancy matrix: a course of the institution (as training base) with a trainee."""
    from core.accounts.schemas import SYSTEM
    from core.admission.tables import Project
    from core.training import service as training
    from core.training.tables import Trainee, TrainingCourse

    row = await TrainingCourse.select(TrainingCourse.id).where(TrainingCourse.institution == institution_id).first()
    if row is None:
        project = await Project.select(Project.technology_code).where(
            (Project.institution == institution_id) & (Project.status == "admitted")
            & (Project.tech_class == "restricted")).first()
        if project is None:
            from tests.test_tenancy import filing_of

            await filing_of(dep, institution_id)  # admits a restricted project there
            project = await Project.select(Project.technology_code).where(
                (Project.institution == institution_id) & (Project.status == "admitted")
                & (Project.tech_class == "restricted")).first()
        course_id = await training.create_course(SYSTEM, dep["host"].view(), institution_id, training.CourseInput(
            technology_key=project["technology_code"], title="租户隔离培训", places=5, plan="培训方案、师资、课程、考核方案",
            enrolment_notice_on=dt.date(2026, 3, 2), starts_on=dt.date(2026, 4, 6)))
        await training.enrol(SYSTEM, course_id, "参培医师甲", "某医院")
        row = {"id": course_id}
    trainee = await Trainee.select(Trainee.id).where(Trainee.course == row["id"]).first()
    return {"institution_id": institution_id, "course_id": row["id"], "trainee_id": trainee["id"]}


async def _review_of(dep: dict, institution_id: int, kind: str) -> dict:
    """A training review (JL-43: transfer or transitional) of the institution's physician."""
    from core.accounts.tables import User
    from core.training.tables import TrainingReview

    doctor = "clinician_a" if institution_id == dep["hospital_a"] else "clinician_b"
    user = await User.select(User.id).where(User.username == doctor).first()
    row = await TrainingReview.select(TrainingReview.id).where(
        (TrainingReview.user == user["id"]) & (TrainingReview.kind == kind)
        & (TrainingReview.technology_key == "TENANCY")).first()
    if row is None:
        rows = await TrainingReview.insert(TrainingReview(
            institution=institution_id, user=user["id"], kind=kind, technology_key="TENANCY",
            technology_name="租户隔离测试技术", rule="JL-43", origin="外省某医院", materials="租户隔离测试材料",
            submitted_on=dt.date(2026, 3, 2), status="submitted" if kind == "transfer" else "reviewed",
            reviewed_on=None if kind == "transfer" else dt.date(2026, 3, 3))).returning(TrainingReview.id)
        row = rows[0]
    return {"user_id": user["id"], "review_id": row["id"]}


async def transfer_review_route(dep: dict, institution_id: int) -> dict:
    """The tenancy matrix: a physician's review as moving in from another province (JL-43)."""
    return await _review_of(dep, institution_id, "transfer")


async def transitional_review_route(dep: dict, institution_id: int) -> dict:
    """The tenancy matrix: a physician's transitional application, reviewed by its institution (JL-43)."""
    return await _review_of(dep, institution_id, "transitional")


async def trained_for(hooks: HookView, username: str, technology_key: str, on: dt.date = GRADED_FROM) -> None:
    """Put the physician in the province's database of trained physicians for the technology
    (JL-27) the way a province allows without a course: a review that counts as training
    (JL-43), applied for by their institution and passed by the QC centre (here the admin)."""
    from core.accounts.schemas import SYSTEM
    from core.accounts.tables import User
    from core.training import service as training
    from core.training.tables import TrainingReview

    user = await User.select(User.id).where(User.username == username).first()
    if await TrainingReview.exists().where((TrainingReview.user == user["id"]) & (TrainingReview.status == "passed")
                                           & (TrainingReview.technology_key == technology_key)):
        return
    review_id = await training.submit_review(SYSTEM, hooks, user["id"], training.ReviewInput(
        technology_key=technology_key, origin="外省某三级医院（测试）", materials="已核对外省规范化培训证书及开展病例（测试）"),
        today=on)
    await training.decide_review(SYSTEM, review_id, True, "评议合格（测试）", on)
