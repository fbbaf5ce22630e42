"""Regulator evaluations of technologies in clinical use (seed 003): the only writer of the
evaluation tables.

A provincial health department starts an evaluation on one of EVAL-5's triggers
(EVAL-12's exclusions refused), gathers literature, guidelines and consensus and calls
clinical data from institutions, which answer through the portal (EVAL-6); it seats an
odd panel of at least 7 experts covering clinical medicine, management and ethics and
records each sitting's votes, recusals included (EVAL-7). A sitting where more than two
thirds of the panel agree concludes: the measure (EVAL-8) becomes a new catalogue edition
from its date of effect, the institutions using the technology get a compliance
obligation (EVAL-9), and the conclusion is reported to the national commission through
its channel (EVAL-10). Otherwise the sitting is recorded without a conclusion and the
panel sits again.

Tenancy: an evaluation belongs to its province; regulators and the QC centre of that
region read it, its own department writes it; an institution sees only the data
requests addressed to it. Anything else answers ``NotFound``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from core import changes, clock
from core.accounts.schemas import Actor
from core.accounts.tables import User
from core.admission.tables import Project
from core.audit import service as audit
from core.catalog import service as catalog
from core.catalog.schemas import QCIndicator, TechnologyEntry
from core.db import write_transaction
from core.errors import DomainError, NotFound, Problem
from core.evaluation import rules
from core.evaluation.schemas import DataRequestStatus, EvaluationStatus
from core.evaluation.tables import (
    DataRequest,
    Evaluation,
    EvaluationFile,
    PanelExpert,
    Sitting,
    SittingVote,
)
from core.inbox import service as inbox
from core.obligations import service as obligations
from core.outbox import service as outbox
from core.outbox.channels import channels_for
from core.plugins import HookView
from core.storage import service as storage
from core.tenancy import service as tenancy
from core.tenancy.tables import Institution, Region

MOVED_ON = "该评估已由他人更新，请刷新页面后查看最新状态"
READERS = ("regulator", "qc_center")
ANSWERERS = ("medical_affairs", "hospital_head")


async def _fresh(evaluation_id: int) -> dict:
    return await Evaluation.select(*Evaluation.all_columns(), Evaluation.region.name, Evaluation.region.path,
                                   Evaluation.started_by.display_name).where(
        Evaluation.id == evaluation_id).first().output(load_json=True)


EVALUATION = changes.Versioned(
    table=Evaluation, record_type="evaluation", action_prefix="evaluation",
    snapshot=("technology_code", "technology_name", "trigger", "status", "outcome", "effective_on", "edition_uid"),
    read=_fresh, moved_on=MOVED_ON, link=lambda evaluation_id: f"/evaluations/{evaluation_id}",
    source=lambda evaluation_id: f"evaluation:{evaluation_id}",
    title=lambda row, text: f"【技术评估】{row['technology_name']}：{text}",
)


def _require(problems: list[Problem]) -> None:
    if problems:
        raise DomainError(problems)


# ---------------------------------------------------------------- reading, with tenancy


def _reads(actor: Actor, row: dict) -> bool:
    return actor.is_admin or (actor.has(*READERS) and bool(actor.region_path)
                              and row["region.path"].startswith(actor.region_path))


def _writes(actor: Actor, row: dict) -> bool:
    return actor.has("regulator") and actor.region_id == row["region"]


async def _load(actor: Actor, evaluation_id: int) -> dict:
    row = await _fresh(evaluation_id)
    if row is None or not _reads(actor, row):
        raise NotFound("未找到该评估")
    return row


async def _writable(actor: Actor, evaluation_id: int, *, statuses: tuple[str, ...]) -> dict:
    row = await _load(actor, evaluation_id)
    if not _writes(actor, row):
        raise NotFound("未找到该评估")
    if row["status"] not in statuses:
        raise DomainError(Problem("该评估已形成有效结论，不能再修改" if row["status"] == EvaluationStatus.concluded
                                  else "该评估当前不能办理此事项"))
    return row


async def list_evaluations(actor: Actor) -> list[dict]:
    """The evaluations of the actor's region and below, newest first (regulators, the QC centre)."""
    if not (actor.is_admin or (actor.has(*READERS) and actor.region_path)):
        return []
    query = Evaluation.select(*Evaluation.all_columns(), Evaluation.region.name).order_by(
        Evaluation.id, ascending=False)
    if not actor.is_admin:
        query = query.where(Evaluation.region.path.like(f"{actor.region_path}%"))
    return await query


class EvaluationPage(msgspec.Struct):
    """Everything an evaluation's page shows."""

    evaluation: dict
    files: list[dict]
    requests: list[dict]
    experts: list[dict]
    sittings: list[dict]
    can_write: bool
    institutions: list[dict]
    deliveries: list[Any]
    needed: int


async def view(actor: Actor, evaluation_id: int) -> EvaluationPage:
    row = await _load(actor, evaluation_id)
    files = await EvaluationFile.select(*EvaluationFile.all_columns(), EvaluationFile.added_by.display_name).where(
        EvaluationFile.evaluation == evaluation_id).order_by(EvaluationFile.id)
    requests = await DataRequest.select(*DataRequest.all_columns(), DataRequest.institution.name).where(
        DataRequest.evaluation == evaluation_id).order_by(DataRequest.id)
    experts = await PanelExpert.select().where(PanelExpert.evaluation == evaluation_id).order_by(PanelExpert.position)
    sittings = await Sitting.select(*Sitting.all_columns(), Sitting.recorded_by.display_name).where(
        Sitting.evaluation == evaluation_id).order_by(Sitting.number).output(load_json=True)
    votes = await SittingVote.select().where(SittingVote.sitting.is_in([s["id"] for s in sittings] or [-1]))
    for sitting in sittings:
        sitting["votes"] = {v["expert"]: v for v in votes if v["sitting"] == sitting["id"]}
    writes = _writes(actor, row)
    institutions = []
    if writes and row["status"] != EvaluationStatus.concluded:
        clause = Institution.region.path.like(f"{row['region.path']}%")
        institutions = await Institution.select(Institution.id, Institution.name).where(clause).order_by(
            Institution.name)
    return EvaluationPage(evaluation=row, files=files, requests=requests, experts=experts, sittings=sittings,
                          can_write=writes, institutions=institutions,
                          deliveries=await outbox.delivery_status("evaluation", evaluation_id),
                          needed=rules.votes_needed(len(experts)))


# ---------------------------------------------------------------- starting (EVAL-5, EVAL-12)


class StartInput(msgspec.Struct):
    trigger: int | None
    situation: str
    domain: str
    technology_id: int | None = None
    technology_code: str = ""
    technology_name: str = ""
    current_class: str = "routine"


async def start(actor: Actor, hooks: HookView, data: StartInput, today: dt.date | None = None) -> int:
    """A provincial department starts an evaluation (EVAL-10) on one of EVAL-5's
    triggers; organ transplantation, assisted reproduction, maternal-infant special
    technologies, TCM, drugs and devices are refused (EVAL-12)."""
    if not actor.has("regulator") or actor.region_id is None:
        raise NotFound("未找到")
    region = await Region.select().where(Region.id == actor.region_id).first()
    code, name, current = data.technology_code.strip().upper()[:40], data.technology_name.strip()[:200], \
        data.current_class
    ref = None
    if data.technology_id is not None:
        cited = await catalog.get_cited(data.technology_id, hooks, on=today or clock.today())
        ref, code, name, current = cited.id, cited.code, cited.name, cited.tech_class
    if current not in ("prohibited", "restricted", "routine"):
        current = "routine"
    _require(rules.check_start(trigger=data.trigger, situation=data.situation, domain=data.domain, name=name,
                               region_level=region["level"] if region else ""))
    async with write_transaction():
        rows = await Evaluation.insert(Evaluation(
            region=actor.region_id, started_by=actor.id, technology_ref=ref, technology_code=code,
            technology_name=name, current_class=current, trigger=data.trigger, situation=data.situation.strip(),
        )).returning(Evaluation.id)
        evaluation_id = rows[0]["id"]
        row = await _fresh(evaluation_id)
        await audit.record(actor, "evaluation.start", "evaluation", evaluation_id,
                           after={k: row.get(k) for k in EVALUATION.snapshot} | {"rule": "EVAL-5"})
    return evaluation_id


# ---------------------------------------------------------------- evidence and data (EVAL-6)


async def add_file(actor: Actor, evaluation_id: int, *, kind: str, title: str, filename: str, data: bytes) -> int:
    """Literature, a guideline or a consensus gathered for the evaluation (EVAL-6)."""
    row = await _writable(actor, evaluation_id, statuses=(EvaluationStatus.investigating, EvaluationStatus.panel))
    problems = []
    if kind not in rules.FILE_KINDS:
        problems.append(Problem("请选择资料类型", "kind", "EVAL-6"))
    if not title.strip():
        problems.append(Problem("请填写资料名称（如文献题目、指南名称）", "title", "EVAL-6"))
    _require(problems + storage.check_upload(filename, data))
    sha, content_type = storage.keep(filename, data)
    async with EVALUATION.change(actor, row, None, None):
        rows = await EvaluationFile.insert(EvaluationFile(
            evaluation=evaluation_id, kind=kind, title=title.strip()[:200], filename=storage.clean_name(filename),
            sha256=sha, size=len(data), content_type=content_type, added_by=actor.id)).returning(EvaluationFile.id)
        await audit.record(actor, "evaluation.file", "evaluation", evaluation_id,
                           after={"file": rows[0]["id"], "kind": kind, "title": title.strip(), "sha256": sha})
    return rows[0]["id"]


async def file_path(actor: Actor, evaluation_id: int, file_id: int) -> tuple[dict, Any]:
    """An evidence file of an evaluation the actor reads, and where its bytes are."""
    await _load(actor, evaluation_id)
    row = await EvaluationFile.select().where(
        (EvaluationFile.id == file_id) & (EvaluationFile.evaluation == evaluation_id)).first()
    if row is None:
        raise NotFound("未找到该资料")
    return row, storage.kept(row["sha256"])


async def request_data(actor: Actor, hooks: HookView, evaluation_id: int, institution_ids: list[int],
                       question: str, today: dt.date | None = None) -> list[int]:
    """Call clinical data from institutions of the region (EVAL-6): one request each, an
    obligation to answer (the deployment's EVAL-6 deadline rule), a notice to medical affairs."""
    day = today or clock.today()
    row = await _writable(actor, evaluation_id, statuses=(EvaluationStatus.investigating, EvaluationStatus.panel))
    problems = []
    if len(question.strip()) < 10:
        problems.append(Problem("请写明调取的临床资料内容（至少10字）", "question", "EVAL-6"))
    chosen = sorted(set(institution_ids))
    if not chosen:
        problems.append(Problem("请选择要调取资料的医疗机构", "institutions", "EVAL-6"))
    _require(problems)
    in_region = {r["id"] for r in await Institution.select(Institution.id).where(
        Institution.id.is_in(chosen or [-1]) & Institution.region.path.like(f"{row['region.path']}%"))}
    if set(chosen) - in_region:
        raise NotFound("未找到该医疗机构")
    ids = []
    async with EVALUATION.change(actor, row, None, "data_request"):
        for institution_id in chosen:
            rows = await DataRequest.insert(DataRequest(
                evaluation=evaluation_id, institution=institution_id, question=question.strip(), requested_on=day,
                requested_by=actor.id)).returning(DataRequest.id)
            request_id = rows[0]["id"]
            ids.append(request_id)
            await audit.record(actor, "evaluation.data_request", "evaluation_request", request_id,
                               after={"evaluation": evaluation_id, "question": question.strip(), "rule": "EVAL-6"},
                               institution_id=institution_id)
            await obligations.on_event(actor, hooks, obligations.DomainEvent(
                kind="evaluation_data_request", occurred_on=day, institution_id=institution_id,
                subject_type="evaluation_request", subject_id=request_id,
                subject_label=f"{row['technology_name']}临床应用情况评估", technology_code=row["technology_code"],
                technology_class=row["current_class"]))
            await inbox.deliver(await _answerers(institution_id),
                                f"【技术评估】{row['technology_name']}：请报送临床资料（EVAL-6）", question.strip(),
                                link=f"/evaluations/requests/{request_id}", source=f"evaluation_request:{request_id}")
    return ids


async def _answerers(institution_id: int) -> list[int]:
    rows = await User.select(User.id, User.roles).where(
        (User.institution == institution_id) & (User.active == True)).output(load_json=True)  # noqa: E712
    return [r["id"] for r in rows if "medical_affairs" in (r["roles"] or [])]


async def _request(actor: Actor, request_id: int) -> tuple[dict, dict]:
    """A data request the actor may read — their institution's, or one of an evaluation
    they read — with its evaluation."""
    req = await DataRequest.select(*DataRequest.all_columns(), DataRequest.institution.name,
                                   DataRequest.answered_by.display_name).where(
        DataRequest.id == request_id).first()
    if req is None:
        raise NotFound("未找到该资料调取")
    evaluation = await _fresh(req["evaluation"])
    own = actor.institution_id is not None and actor.institution_id == req["institution"] and actor.has(*ANSWERERS)
    if not (own or _reads(actor, evaluation)):
        raise NotFound("未找到该资料调取")
    return req, evaluation


class RequestPage(msgspec.Struct):
    request: dict
    evaluation: dict
    files: list[Any]
    can_answer: bool
    obligation: dict | None


async def request_view(actor: Actor, request_id: int) -> RequestPage:
    req, evaluation = await _request(actor, request_id)
    from core.obligations.tables import Obligation

    obligation = await Obligation.select(Obligation.id, Obligation.due_on, Obligation.status, Obligation.rule_id).where(
        (Obligation.subject_type == "evaluation_request") & (Obligation.subject_id == request_id)).first()
    can = (req["status"] == DataRequestStatus.open and actor.institution_id == req["institution"] and actor.has("medical_affairs")
           and evaluation["status"] != EvaluationStatus.concluded)
    return RequestPage(request=req, evaluation=evaluation, files=await storage.list_for("evaluation_request", [request_id]),
                       can_answer=can, obligation=obligation)


async def requests_for(actor: Actor) -> list[dict]:
    """The data requests addressed to the actor's institution (EVAL-6), newest first."""
    if actor.institution_id is None or not actor.has(*ANSWERERS):
        return []
    return await DataRequest.select(*DataRequest.all_columns(), DataRequest.evaluation.technology_name,
                                    DataRequest.evaluation.region.name).where(
        DataRequest.institution == actor.institution_id).order_by(DataRequest.id, ascending=False)


async def answer_request(actor: Actor, hooks: HookView, request_id: int, answer: str,
                         files: list[tuple[str, bytes]] = (), today: dt.date | None = None) -> None:
    """Medical affairs answers a data request through the portal (EVAL-6), with files;
    the obligation to answer is fulfilled and the department is told."""
    day = today or clock.today()
    req, evaluation = await _request(actor, request_id)
    if actor.institution_id != req["institution"] or not actor.has("medical_affairs"):
        raise NotFound("未找到该资料调取")
    problems = []
    if req["status"] != DataRequestStatus.open:
        problems.append(Problem("该资料调取已答复", "answer"))
    if evaluation["status"] == EvaluationStatus.concluded:
        problems.append(Problem("该评估已形成结论，不再接收资料", "answer"))
    if len(answer.strip()) < 10:
        problems.append(Problem("请填写报送的临床资料说明（至少10字）", "answer", "EVAL-6"))
    for name, content in files:
        problems += storage.check_upload(name, content)
    _require(problems)
    async with write_transaction():
        taken = await DataRequest.update({
            DataRequest.status: DataRequestStatus.answered, DataRequest.answer: answer.strip(), DataRequest.answered_by: actor.id,
            DataRequest.answered_at: dt.datetime.now(dt.UTC)}).where(
            (DataRequest.id == request_id) & (DataRequest.status == DataRequestStatus.open)).returning(DataRequest.id)
        if not taken:
            raise DomainError(Problem("该资料调取已答复", "answer"))
        for name, content in files:
            await storage.store(actor, institution_id=req["institution"], owner_type="evaluation_request",
                                owner_id=request_id, filename=name, data=content, kind="evaluation_data")
        await audit.record(actor, "evaluation.data_answer", "evaluation_request", request_id,
                           before={"status": DataRequestStatus.open}, after={"status": DataRequestStatus.answered, "files": len(files)},
                           institution_id=req["institution"])
        await obligations.fulfil(actor, hooks, subject_type="evaluation_request", subject_id=request_id,
                                 kind="evaluation_data", done_on=day)
        await EVALUATION.notify(evaluation, await _department(evaluation), f"{req['institution.name']}已报送临床资料")


async def request_file(actor: Actor, request_id: int, attachment_id: int):
    """A file an institution sent with its answer, for whoever reads the request."""
    await _request(actor, request_id)
    files = [f for f in await storage.list_for("evaluation_request", [request_id]) if f.id == attachment_id]
    if not files:
        raise NotFound("未找到该附件")
    return files[0], storage.kept(files[0].sha256)


async def _department(evaluation: dict) -> list[int]:
    """The regulators of the evaluation's region (who run it)."""
    rows = await User.select(User.id, User.roles).where(
        (User.region == evaluation["region"]) & (User.active == True)).output(load_json=True)  # noqa: E712
    return [r["id"] for r in rows if "regulator" in (r["roles"] or [])]


# ---------------------------------------------------------------- the panel (EVAL-7)


class ExpertInput(msgspec.Struct):
    name: str
    field: str
    affiliation: str = ""


async def seat_panel(actor: Actor, evaluation_id: int, version: int, experts: list[ExpertInput]) -> None:
    """Seat the panel (EVAL-7): an odd number, at least 7, covering clinical medicine,
    management and ethics. It may be re-seated until its first sitting."""
    row = await _writable(actor, evaluation_id, statuses=(EvaluationStatus.investigating, EvaluationStatus.panel))
    _require(rules.check_panel([(e.name, e.field) for e in experts]))
    if await Sitting.exists().where(Sitting.evaluation == evaluation_id):
        raise DomainError(Problem("专家组已召开论证会议，不能再调整专家组", "experts", "EVAL-7"))
    async with EVALUATION.change(actor, row, version, "panel") as change:
        await PanelExpert.delete().where(PanelExpert.evaluation == evaluation_id)
        await PanelExpert.insert(*[PanelExpert(evaluation=evaluation_id, name=e.name.strip()[:60],
                                               affiliation=e.affiliation.strip()[:200], field=e.field, position=i)
                                   for i, e in enumerate(experts)])
        change.values[Evaluation.status] = EvaluationStatus.panel
        await audit.record(actor, "evaluation.panel_seated", "evaluation", evaluation_id,
                           after={"experts": [msgspec.to_builtins(e) for e in experts], "rule": "EVAL-7"})


# ---------------------------------------------------------------- sittings and the conclusion (EVAL-7, EVAL-8)


class SittingInput(msgspec.Struct):
    held_on: dt.date | None
    outcome: str
    recommendation: str
    effective_on: dt.date | None
    votes: dict[int, tuple[str, str]]
    specification: str = ""
    qc_indicators: str = ""


async def record_sitting(actor: Actor, hooks: HookView, evaluation_id: int, version: int, data: SittingInput,
                         today: dt.date | None = None) -> bool:
    """Record one sitting of the panel with every expert's vote (EVAL-7). More than two
    thirds of the panel agreeing makes the conclusion valid and takes the measure
    (EVAL-8 → catalogue, EVAL-9 → obligations, EVAL-10 → report); otherwise no
    conclusion, and the panel sits again. Returns whether the conclusion is valid."""
    day = today or clock.today()
    row = await _writable(actor, evaluation_id, statuses=(EvaluationStatus.panel,))
    experts = await PanelExpert.select().where(PanelExpert.evaluation == evaluation_id).order_by(PanelExpert.position)
    panel = [e["id"] for e in experts]
    indicators = rules.qc_lines(data.qc_indicators)
    _require(rules.check_sitting(held_on=data.held_on, today=day, votes=data.votes, panel=panel, outcome=data.outcome,
                                 recommendation=data.recommendation, effective_on=data.effective_on,
                                 specification=data.specification, qc_indicators=indicators))
    tally = {k: sum(1 for e in panel if data.votes[e][0] == k) for k in rules.VOTES}
    valid = rules.conclusion_valid(len(panel), tally["agree"])
    async with EVALUATION.change(actor, row, version, "sitting") as change:
        number = await Sitting.count().where(Sitting.evaluation == evaluation_id) + 1
        rows = await Sitting.insert(Sitting(
            evaluation=evaluation_id, number=number, held_on=data.held_on, outcome=data.outcome,
            recommendation=data.recommendation.strip(), specification=data.specification.strip(),
            qc_indicators=indicators, effective_on=data.effective_on, agree=tally["agree"],
            disagree=tally["disagree"], recused=tally["recuse"], panel_size=len(panel), valid=valid,
            recorded_by=actor.id)).returning(Sitting.id)
        sitting_id = rows[0]["id"]
        await SittingVote.insert(*[SittingVote(sitting=sitting_id, expert=e, vote=data.votes[e][0],
                                               opinion=data.votes[e][1].strip()) for e in panel])
        summary = (f"第{number}次论证会议：专家{len(panel)}名，同意{tally['agree']}、不同意{tally['disagree']}、"
                   f"回避{tally['recuse']}；须超过三分之二（至少{rules.votes_needed(len(panel))}名）同意（EVAL-7）")
        await audit.record(actor, "evaluation.sitting", "evaluation", evaluation_id,
                           after={"sitting": number, "tally": tally, "panel": len(panel), "valid": valid,
                                  "outcome": data.outcome, "rule": "EVAL-7"})
        if not valid:
            change.notify(await _department(row), f"{summary}，未形成有效结论，专家组须再次论证")
            return False
        await _conclude(actor, hooks, row, data, indicators, number, summary, change)
    return True


async def _conclude(actor: Actor, hooks: HookView, row: dict, data: SittingInput, indicators: list[str],
                    number: int, summary: str, change: changes.Change) -> None:
    """A valid conclusion: the measure enters the catalogue from its date of effect
    (EVAL-8), the institutions using the technology must comply (EVAL-9), and the
    province reports to the national commission (EVAL-10). In the sitting's transaction."""
    region = await Region.select().where(Region.id == row["region"]).first()
    cited = await catalog.get_cited(row["technology_ref"]) if row["technology_ref"] else None
    tech_class = rules.new_class(data.outcome, row["current_class"])
    code = row["technology_code"] or f"E{row['id']:03d}"
    specification = data.specification.strip() or (cited.specification if cited else "")
    qc = tuple(QCIndicator(name=n) for n in indicators) or (cited.qc_indicators if cited else ())
    label = rules.OUTCOME_SHORT[data.outcome]
    edition_uid = await catalog.add_measure_edition(
        actor, key=f"evaluation-{row['id']}", scope="provincial",
        title=f"{region['name']}医疗技术临床应用评估管理措施：{row['technology_name']}（{label}）",
        issuer=tenancy.department_name(region), effective_on=data.effective_on,
        document=f"医疗技术临床应用情况评估结论（第{number}次论证会议，{data.held_on.isoformat()}）",
        source=f"{rules.OUTCOMES[data.outcome]}；{summary}",
        entry=TechnologyEntry(code=code, name=row["technology_name"], tech_class=tech_class,
                              surgery_levels=cited.surgery_levels if cited else (), specification=specification,
                              qc_indicators=qc, note=data.recommendation.strip()[:1000]))
    change.values.update({
        Evaluation.status: EvaluationStatus.concluded, Evaluation.outcome: data.outcome,
        Evaluation.recommendation: data.recommendation.strip(), Evaluation.effective_on: data.effective_on,
        Evaluation.edition_uid: edition_uid, Evaluation.concluded_on: data.held_on,
    })
    uses = await uses_in_scope(row)
    concerned = sorted({i for i, _ in uses})
    if data.outcome == "prohibited":
        # EVAL-8 (一) → NAT-25 (1): every institution of the region using it stops from the
        # date of effect, with this conclusion as the document (core.lifecycle).
        from core.lifecycle import service as lifecycle

        await lifecycle.stop_prohibited(
            actor, hooks, uses, on=data.effective_on, rule="EVAL-8",
            reason=f"{tenancy.department_name(region)}医疗技术临床应用情况评估结论：{rules.OUTCOMES['prohibited']}；"
                   f"{data.recommendation.strip()}",
            document=f"医疗技术临床应用情况评估结论（评估{row['id']}号，第{number}次论证会议，{data.held_on.isoformat()}）")
    if data.outcome == "restricted" and tech_class == "restricted":
        # EVAL-8 (二): from the date of effect each institution's routine project of it counts
        # as restricted — its first case on or after that date opens the filing (NAT-11);
        # earlier cases stay routine (core.admission.rules.class_on).
        from core.admission import first_case

        await first_case.restrict_from(
            actor, [p["id"] for p in await projects_in_scope(row)], data.effective_on,
            reason=f"{tenancy.department_name(region)}医疗技术临床应用情况评估结论：{rules.OUTCOMES['restricted']}；"
                   f"{data.recommendation.strip()}",
            document=f"医疗技术临床应用情况评估结论（评估{row['id']}号，第{number}次论证会议，{data.held_on.isoformat()}）")
    for institution_id in concerned:
        await obligations.on_event(actor, hooks, obligations.DomainEvent(
            kind="evaluation_measure", occurred_on=data.effective_on, institution_id=institution_id,
            subject_type="evaluation", subject_id=row["id"],
            # One measure, one obligation per institution concerned (EVAL-9): the institution
            # is part of the obligation's identity, or only the first would be obliged.
            occurrence=f"institution-{institution_id}",
            subject_label=f"{row['technology_name']}（{label}，{data.effective_on.isoformat()}起施行）",
            technology_code=code, technology_class=tech_class))
        await inbox.deliver(await _answerers(institution_id),
                            f"【技术评估】{row['technology_name']}：评估结论为{label}，自{data.effective_on}起施行（EVAL-9）",
                            data.recommendation.strip(), link="/obligations", source=f"evaluation:{row['id']}")
    channel = next(iter(channels_for(hooks, "evaluation")), None)
    if channel is not None:
        await outbox.enqueue(actor, channel=channel, kind="evaluation", subject_type=outbox.REGION_SUBJECT,
                             subject_id=row["id"], institution_id=0, payload={
                                 "region": region["name"], "department": tenancy.department_name(region),
                                 "technology": {"code": code, "name": row["technology_name"],
                                                "class_before": row["current_class"], "class_after": tech_class},
                                 "trigger": rules.TRIGGERS.get(row["trigger"], ""), "situation": row["situation"],
                                 "outcome": data.outcome, "measure": rules.OUTCOMES[data.outcome],
                                 "recommendation": data.recommendation.strip(), "specification": specification,
                                 "qc_indicators": indicators, "effective_on": data.effective_on,
                                 "sitting": {"number": number, "held_on": data.held_on, "summary": summary},
                                 "catalogue_edition": edition_uid, "institutions_concerned": len(concerned),
                                 "rules": ["EVAL-7", "EVAL-8", "EVAL-10"]})
    change.notify(await _department(row), f"{summary}，结论有效：{label}，自{data.effective_on}起施行")


async def institutions_using(row: dict) -> list[int]:
    """Institutions of the evaluation's region that admitted the technology (EVAL-9: they
    must comply with the measure)."""
    return sorted({i for i, _ in await uses_in_scope(row)})


async def uses_in_scope(row: dict) -> list[tuple[int, str]]:
    """(institution, technology key of ``core.lifecycle``) of every admitted project of the
    evaluated technology in the evaluation's region."""
    from core.lifecycle.rules import technology_key

    rows = await projects_in_scope(row)
    return sorted({(r["institution"], technology_key(r["technology_code"], r["id"])) for r in rows})


async def projects_in_scope(row: dict) -> list[dict]:
    """Every admitted project (id, institution, technology code) of the evaluated
    technology in the evaluation's region."""
    # A catalogue technology by its code; one outside the lists by its name (a project's
    # title names a technology outside the lists).
    match = (Project.technology_name == row["technology_name"]) | (Project.title == row["technology_name"])
    if row["technology_code"]:
        match = match | (Project.technology_code == row["technology_code"])
    return await Project.select(Project.id, Project.institution, Project.technology_code).where(
        match & (Project.status == "admitted")
        & Project.institution.region.path.like(f"{row['region.path']}%")).order_by(Project.id)
