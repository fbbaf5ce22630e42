"""``POST /api/v1/cases``: the HIS interface for case reports (NAT-37: 逐例报送).

Authenticated by a per-institution bearer token (``Authorization: Bearer ct_…``), never
by the session cookie — so the path is outside CSRF protection. A batch is all or
nothing: any problem refuses every item, each problem naming ``cases[i].field`` and
the rule id. Idempotent on the hospital's own case id.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import MediaType, Request, Response, post
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from core.accounts.schemas import Actor
from core.apitokens import service as tokens
from core.cases import service as cases
from core.cases.rules import CaseInput
from core.plugins import HookView

PATH = "/api/v1/cases"


class CaseIn(msgspec.Struct, kw_only=True):
    """One case (病例). Dates are ISO dates; ``operators``/``assistants`` are login names of
    this institution's physicians; ``qc_values`` maps the technology's QC indicator names
    to values (是/否 for rates, numbers, text); ``consent`` must be true (HOSP-18)."""

    case_id: Annotated[str, msgspec.Meta(min_length=1, max_length=80, description="医院病例号（本院唯一，幂等键）")]
    technology_code: Annotated[str, msgspec.Meta(description="已准入技术的编码，如 G03；目录外技术为 P<项目号>")]
    patient_key: Annotated[str, msgspec.Meta(description="患者匿名编号；不得为姓名、身份证号或手机号（NAT-45）")]
    admitted_on: dt.date
    operated_on: dt.date
    discharged_on: dt.date
    operators: list[str]
    assistants: list[str] = []
    indication: str = ""
    outcome: Annotated[str, msgspec.Meta(description="cured/improved/unchanged/worse/death/other")] = ""
    complication: bool = False
    complications: str = ""
    adverse_event: bool = False
    adverse_events: str = ""
    follow_up: str = ""
    qc_values: dict[str, str] = {}
    consent: bool = False
    operation_code: Annotated[str, msgspec.Meta(
        max_length=20, description="手术（操作）的 ICD-9-CM-3 编码，须在本机构手术分级目录中（NAT-16）；"
                                   "按手术级别管理的限制类技术（由本省规则规定）据此判断是否属于限制类")] = ""


MAX_BATCH = 1000


class CaseBatch(msgspec.Struct):
    """A batch of 1 to 1000 cases, recorded all or nothing."""

    cases: Annotated[list[CaseIn], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]
    declare_unauthorised: Annotated[bool, msgspec.Meta(description=(
        "NAT-20: a case whose operator had no valid authorisation for the restricted technology on the "
        "operation date is refused (422) unless this is true — it then is recorded and reported with the "
        "finding, and the regulator is warned"))] = False


class CaseOut(msgspec.Struct):
    """``status``: ``created``, or ``unchanged`` when the same case id with the same content
    was already recorded. ``report_rule``/``report_due_on``: the reporting obligation."""

    case_id: str
    id: int
    status: str
    report_due_on: dt.date | None
    report_rule: str
    delivery_id: int | None
    # Every delivery queued for this case by this call: one per platform that takes cases
    # (national and provincial, NAT-36, NAT-37); empty when unchanged.
    delivery_ids: list[int] = []


class BatchOut(msgspec.Struct):
    created: int
    unchanged: int
    results: list[CaseOut]


class ProblemOut(msgspec.Struct):
    message: str
    field: str | None
    rule: str | None


class ErrorOut(msgspec.Struct):
    """The batch was refused; nothing was stored."""

    error: str
    status: int
    problems: list[ProblemOut] = []


async def provide_token_actor(request: Request) -> Actor:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    actor = await tokens.authenticate(token)
    if actor is None:
        raise NotAuthorizedException("invalid token")
    return actor


def _malformed(request: Request, exc: ValidationException) -> Response:
    """A malformed batch: 400 with the place msgspec/Litestar found wrong."""
    problems = []
    for item in exc.extra or []:
        if isinstance(item, dict):
            key = str(item.get("key") or "")
            problems.append({"message": f"格式不正确：{item.get('message', '')}", "field": key.replace("$.", "") or None,
                             "rule": None})
    return Response({"error": "批量报送格式不正确，未保存任何病例", "status": 400, "problems": problems},
                    status_code=400, media_type=MediaType.JSON)


@post(PATH, tags=["cases"], status_code=200, dependencies={"token_actor": Provide(provide_token_actor)},
      exception_handlers={ValidationException: _malformed},
      responses={400: ResponseSpec(ErrorOut, description="批量报送格式不正确"),
                 401: ResponseSpec(ErrorOut, description="令牌缺失、无效或已吊销"),
                 422: ResponseSpec(ErrorOut, description="病例未通过校验，整批未保存")},
      summary="批量报送病例（逐例报送 / NAT-37）")
async def post_cases(token_actor: Actor, hooks: HookView, data: CaseBatch) -> BatchOut:
    """Record a batch of cases for the token's institution, all or nothing.

    Each case opens its reporting obligation (the province's deadline rule) and is queued to the province's platform. A refused
    batch answers 422 with every problem (``cases[i].field``, message, rule id); a
    malformed one 400; a missing, unknown or revoked token 401.
    """
    items = [msgspec.convert(msgspec.to_builtins(c), CaseInput) for c in data.cases]
    results = await cases.record_cases(token_actor, hooks, items, source="api", label="cases",
                                       declare_unauthorised=data.declare_unauthorised)
    return BatchOut(created=sum(r.status == "created" for r in results),
                    unchanged=sum(r.status == "unchanged" for r in results),
                    results=[msgspec.convert(msgspec.to_builtins(r), CaseOut) for r in results])


class FollowUpIn(msgspec.Struct, kw_only=True):
    """Follow-up after discharge: ``outcome`` the 转归 30 days after discharge
    (cured/improved/unchanged/worse/death/other), ``died`` whether the patient died within
    those 30 days, ``followed_on`` the follow-up date (for a surviving patient at least
    30 days after discharge)."""

    outcome: Annotated[str, msgspec.Meta(description="cured/improved/unchanged/worse/death/other")]
    died: bool
    followed_on: dt.date
    note: str = ""


class FollowUpOut(msgspec.Struct):
    case_id: str
    id: int
    version: int


@post(f"{PATH}/{{case_id:str}}/follow-up", tags=["cases"], status_code=200,
      dependencies={"token_actor": Provide(provide_token_actor)},
      exception_handlers={ValidationException: _malformed},
      responses={400: ResponseSpec(ErrorOut, description="格式不正确"),
                 401: ResponseSpec(ErrorOut, description="令牌缺失、无效或已吊销"),
                 404: ResponseSpec(ErrorOut, description="本机构没有该病例号"),
                 422: ResponseSpec(ErrorOut, description="随访未通过校验，未保存")},
      summary="登记出院后随访（30天转归与死亡，HOSP-15）")
async def post_follow_up(token_actor: Actor, hooks: HookView, case_id: str, data: FollowUpIn) -> FollowUpOut:
    """Add the follow-up of a case known by the hospital's own case id: the 30-day outcome
    and mortality cannot be known at discharge. A new version of the case, audited and
    sent to the province's platform; it fulfils the follow-up deadline where the
    province's rules define one."""
    from core.cases import corrections

    record_id = await cases.case_by_external_id(token_actor, case_id)
    version = await corrections.add_follow_up(token_actor, hooks, record_id, corrections.FollowUp(
        outcome=data.outcome, died=data.died, followed_on=data.followed_on, note=data.note))
    return FollowUpOut(case_id=case_id, id=record_id, version=version)


ROUTES = [post_cases, post_follow_up]
