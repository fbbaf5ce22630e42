"""The yearly credit score of an institution's technology management (信誉评分, NAT-39;
a province's rule, e.g. its link to the social credit system, comes with its
``credit_items``). No source publishes a formula: ours is the plugins' items and weights,
measured by core on the institution's own records, and every point lost names the record
behind it (an obligation done late, a warning, a suspension, the public page lacking the
surgery-grading catalogue), linked.

Computed when read (a few grouped queries per institution and year), so a score always
agrees with the records; the institution's answers are kept (``CreditAnswer``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from core import clock, listing
from core.accounts.schemas import Actor
from core.audit import service as audit
from core.contract import CreditItem
from core.db import write_transaction
from core.errors import DomainError, NotFound, Problem
from core.plugins import HookView
from core.supervision import rules
from core.supervision.tables import CreditAnswer, RiskWarning
from core.tenancy.service import require_institution, visible_institution_ids

SEVERITY_FACTOR = {"notice": 0.5, "warning": 1.0, "serious": 2.0}
YEARS_SHOWN = 3
FIRST_YEAR = 2000  # the earliest year a score is computed for


def years(today: dt.date | None = None) -> list[int]:
    """The years a score can be asked for, this year first."""
    return list(range((today or clock.today()).year, FIRST_YEAR - 1, -1))


class Loss(msgspec.Struct, frozen=True):
    """Points lost to one record, with the sentence that explains it and its links."""

    points: float
    text: str
    href: str
    also: tuple[tuple[str, str], ...] = ()  # further records behind it: (label, href)


class ItemScore(msgspec.Struct, frozen=True):
    key: str
    title: str
    rule: str
    description: str
    points: float
    earned: float
    basis: str  # how the earned points were reached, in one sentence
    losses: tuple[Loss, ...] = ()


class Score(msgspec.Struct, frozen=True):
    institution_id: int
    institution_name: str
    year: int
    total: float
    maximum: float
    items: tuple[ItemScore, ...]


def items_in_force(hooks: HookView) -> list[CreditItem]:
    """Every enabled plugin's ``credit_items``, the first answer for a key winning."""
    found: dict[str, CreditItem] = {}
    for answer in hooks.answers("credit_items"):
        for item in answer.value:
            found.setdefault(item.key, item)
    return list(found.values())


def _r(x: float) -> float:
    return round(x + 0.0, 1)


def _year(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


async def _obligations(item: CreditItem, institution_id: int, year: int, today: dt.date) -> ItemScore:
    from core.obligations.tables import Obligation

    start, end = _year(year)
    rows = await Obligation.select(Obligation.id, Obligation.title, Obligation.subject_type, Obligation.subject_id,
                                   Obligation.subject_label, Obligation.due_on, Obligation.status,
                                   Obligation.done_on, Obligation.done_late, Obligation.rule_id).where(
        (Obligation.institution == institution_id) & Obligation.kind.is_in(list(item.kinds) or ["-"])
        & (Obligation.due_on >= start) & (Obligation.due_on <= end)).order_by(Obligation.due_on)
    on_time, late = [], []
    for o in rows:
        if o["status"] == "done" and not o["done_late"]:
            on_time.append(o)
        elif (o["status"] == "done" and o["done_late"]) or (o["status"] == "open" and o["due_on"] < today):
            late.append(o)
    counted = len(on_time) + len(late)
    if not counted:
        return ItemScore(item.key, item.title, item.rule, item.description, item.points, item.points,
                         "本年度没有到期的该类事项，不扣分")
    each = item.points / counted
    losses = []
    for o in late:
        how = f"逾期完成（{o['done_on']}）" if o["status"] == "done" else "已逾期未完成"
        links = {"case": ("病例", "/cases/"), "filing": ("备案", "/filings/"), "project": ("项目", "/admission/projects/")}
        label, base = links.get(o["subject_type"], ("", ""))
        also = ((f"查看{label}", f"{base}{o['subject_id']}"),) if base else ()
        losses.append(Loss(_r(each), f"{o['title']}：{o['subject_label'] or ''} 应于 {o['due_on']} 前完成，{how}"
                                     f"（{o['rule_id']}）", f"/obligations/{o['id']}", also))
    earned = item.points * len(on_time) / counted
    return ItemScore(item.key, item.title, item.rule, item.description, item.points, _r(earned),
                     f"到期 {counted} 项，按时完成 {len(on_time)} 项：{item.points:g} × {len(on_time)}/{counted}",
                     tuple(losses))


async def _warnings(item: CreditItem, institution_id: int, year: int, today: dt.date) -> ItemScore:
    start, end = _year(year)
    rows = await RiskWarning.select(RiskWarning.id, RiskWarning.title, RiskWarning.rule_id, RiskWarning.severity,
                                    RiskWarning.status, RiskWarning.answered_at, RiskWarning.detail,
                                    RiskWarning.records).where(
        (RiskWarning.institution == institution_id) & (RiskWarning.raised_on >= start)
        & (RiskWarning.raised_on <= end)).order_by(RiskWarning.id).output(load_json=True)
    losses, lost = [], 0.0
    for w in rows:
        answered = w["status"] == rules.WarningStatus.closed and w["answered_at"] is not None
        points = warning_loss(item, w["severity"], answered)
        how = "机构答复后已关闭，减半" if answered else rules.STATUS_LABELS.get(w["status"], w["status"])
        lost += points
        losses.append(Loss(_r(points), f"{w['title']}（{w['rule_id']}，{rules.SEVERITY_LABELS.get(w['severity'], '')}，"
                                       f"{how}）：{w['detail']}", f"/warnings/{w['id']}",
                           tuple((r["label"], r["href"]) for r in (w["records"] or [])[:5])))
    earned = max(0.0, item.points - lost)
    return ItemScore(item.key, item.title, item.rule, item.description, item.points, _r(earned),
                     f"本年度风险预警 {len(rows)} 条，每条扣 {item.per_item:g} 分（严重 ×2、提示 ×0.5，答复后关闭减半），"
                     f"最多扣至 0 分", tuple(losses))


async def _stops(item: CreditItem, institution_id: int, year: int, today: dt.date) -> ItemScore:
    from core.lifecycle.tables import UseEvent

    start, end = _year(year)
    rows = await UseEvent.select(UseEvent.id, UseEvent.technology_key, UseEvent.technology_name, UseEvent.action,
                                 UseEvent.event_on, UseEvent.rule, UseEvent.reason).where(
        (UseEvent.institution == institution_id) & UseEvent.action.is_in(["stop", "suspend", "region_suspend"])
        & (UseEvent.event_on >= start) & (UseEvent.event_on <= end)).order_by(UseEvent.event_on)
    labels = {"stop": "停止", "suspend": "暂停", "region_suspend": "辖区暂停"}
    losses = [Loss(_r(item.per_item), f"{r['event_on']} {labels.get(r['action'], r['action'])} "
                                       f"{r['technology_key']} {r['technology_name']}（{r['rule']}）：{r['reason']}",
                   f"/lifecycle/institutions/{institution_id}/{r['technology_key']}") for r in rows]
    earned = max(0.0, item.points - item.per_item * len(rows))
    return ItemScore(item.key, item.title, item.rule, item.description, item.points, _r(earned),
                     f"本年度技术暂停或停止 {len(rows)} 次，每次扣 {item.per_item:g} 分", tuple(losses))


def _checked_on(year: int, today: dt.date) -> dt.date:
    """The day a year's disclosure is judged on: its last day, or today in the year itself."""
    return min(dt.date(year, 12, 31), today)


async def _restricted_since(ids: list[int], until: dt.date, *, from_cases: bool = False) -> dict[int, dt.date]:
    """Per institution, the first day of its restricted work on record up to ``until``: its
    first completed filing or its first restricted case (voided ones aside). The first case
    is one probe per institution of the partial index ``case_record_restricted_first``
    (a region's 1,000 institutions: not every restricted case of the region, which
    ``from_cases`` still reads — a test proves both equal)."""
    from core.filing.tables import Filing

    inst = f"({', '.join(str(int(i)) for i in ids) or '-1'})"
    day = until.isoformat() if _sqlite() else until
    first_cases = f"""
            SELECT c.institution AS institution, MIN(c.operated_on) AS since FROM case_record c
            WHERE c.tech_class = 'restricted' AND NOT c.voided AND c.institution IN {inst} AND c.operated_on <= {{}}
            GROUP BY c.institution""" if from_cases else f"""
            SELECT i.id AS institution, (
                SELECT MIN(c.operated_on) FROM case_record c
                WHERE c.institution = i.id AND c.tech_class = 'restricted' AND NOT c.voided AND c.operated_on <= {{}}
            ) AS since FROM institution i WHERE i.id IN {inst}"""
    rows = await RiskWarning.raw(f"""
        SELECT x.institution AS institution, MIN(x.since) AS since FROM (
            SELECT f.institution AS institution, MIN(f.completed_on) AS since FROM {Filing._meta.tablename} f
            WHERE f.status = 'completed' AND f.institution IN {inst} AND f.completed_on <= {{}}
            GROUP BY f.institution
            UNION ALL{first_cases}) x
        GROUP BY x.institution""", day, day)
    return {r["institution"]: _as_date(r["since"]) for r in rows if r["since"] is not None}


async def _catalogue_since(ids: list[int]) -> dict[int, dt.date]:
    """Per institution, the day its first surgery-grading catalogue came into force (an
    edition in force stays so until a later one replaces it)."""
    from core.grading.tables import GradingEdition

    rows = await GradingEdition.raw(f"""
        SELECT g.institution AS institution, MIN(g.effective_on) AS since FROM {GradingEdition._meta.tablename} g
        WHERE g.institution IN ({', '.join(str(int(i)) for i in ids) or '-1'}) GROUP BY g.institution""")
    return {r["institution"]: _as_date(r["since"]) for r in rows if r["since"] is not None}


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _disclosure_loss(item: CreditItem, year: int, checked: dt.date, started: dt.date | None,
                     catalogue: dt.date | None) -> tuple[float, str]:
    """The points the year's disclosure loses and why (NAT-24): nothing without restricted
    work; ``per_item`` with no catalogue in force on the day checked; half of it when the
    catalogue came into force after the year's restricted work began."""
    if started is None:
        return 0.0, ""
    due = max(started, dt.date(year, 1, 1))
    if catalogue is None or catalogue > checked:
        return min(item.points, item.per_item), (f"自 {started} 起开展限制类技术，截至 {checked} 院务公开仍无现行的"
                                                 f"手术分级管理目录")
    if catalogue > due:
        return min(item.points, item.per_item / 2), (f"本年度自 {due} 起开展限制类技术，手术分级管理目录 {catalogue} "
                                                     f"起才施行并公开（逾期公开）")
    return 0.0, ""


async def _disclosure(item: CreditItem, institution_id: int, year: int, today: dt.date) -> ItemScore:
    checked = _checked_on(year, today)
    started = (await _restricted_since([institution_id], checked)).get(institution_id)
    catalogue = (await _catalogue_since([institution_id])).get(institution_id)
    lost, why = _disclosure_loss(item, year, checked, started, catalogue)
    if started is None:
        basis = f"截至 {checked} 未开展限制类技术，无需公开限制类技术临床应用情况，不扣分"
    elif not lost:
        basis = f"限制类技术目录、临床应用情况由本平台公开；手术分级管理目录 {catalogue} 起公开，按时"
    else:
        basis = f"缺少或逾期公开手术分级管理目录扣 {lost:g} 分（缺少扣 {item.per_item:g} 分，逾期公开减半）"
    losses = (Loss(_r(lost), f"{why}（{item.rule}）", f"/public/institutions/{institution_id}",
                   (("手术分级管理目录", f"/grading/{institution_id}"),)),) if lost else ()
    return ItemScore(item.key, item.title, item.rule, item.description, item.points, _r(item.points - lost),
                     basis, losses)


MEASURES = {"obligations_on_time": _obligations, "warnings": _warnings, "stops": _stops, "disclosure": _disclosure}


def warning_loss(item: CreditItem, severity: str, answered: bool) -> float:
    """The points one warning loses: ``per_item`` × its severity's factor, halved when it was
    closed after the institution's answer."""
    return item.per_item * SEVERITY_FACTOR.get(severity, 1.0) * (0.5 if answered else 1.0)


async def _region_counts(ids: list[int], year: int, today: dt.date) -> dict[str, Any]:
    """Per institution, in three grouped queries: obligations by kind (on time / late),
    warning losses by severity and answer, suspensions and stops — what ``score`` counts
    record by record, for a whole region at once."""
    from core.lifecycle.tables import UseEvent
    from core.obligations.tables import ObligationYearSummary

    start, end = _year(year)
    inst = f"({', '.join(str(int(i)) for i in ids) or '-1'})"
    args = [start.isoformat(), end.isoformat()] if _sqlite() else [start, end]
    obligations: dict[tuple[int, str], list[int]] = {}
    # From the obligations' summary by kind and year (kept by triggers, migration
    # 2026-12-05T22:52): an open one is late once its due date ("due") is before today.
    for r in await ObligationYearSummary.raw(f"""
        SELECT o.institution AS institution, o.kind AS kind,
               SUM(CASE WHEN o.status = 'done' AND NOT o.done_late THEN o.n ELSE 0 END) AS on_time,
               SUM(CASE WHEN (o.status = 'done' AND o.done_late) OR (o.status = 'open' AND o.due <> '' AND o.due < {{}})
                        THEN o.n ELSE 0 END) AS late
        FROM obligation_year_summary o WHERE o.institution IN {inst} AND o.year = {{}}
        GROUP BY o.institution, o.kind""", today.isoformat(), str(year)):
        obligations[(r["institution"], r["kind"])] = [int(r["on_time"] or 0), int(r["late"] or 0)]
    warnings: dict[int, list[tuple[str, bool, int]]] = {}
    for r in await RiskWarning.raw(f"""
        SELECT w.institution AS institution, w.severity AS severity,
               CASE WHEN w.status = 'closed' AND w.answered_at IS NOT NULL THEN 1 ELSE 0 END AS answered,
               COUNT(*) AS n
        FROM risk_warning w WHERE w.institution IN {inst} AND w.raised_on >= {{}} AND w.raised_on <= {{}}
        GROUP BY w.institution, w.severity, answered""", *args):
        warnings.setdefault(r["institution"], []).append((r["severity"], bool(r["answered"]), int(r["n"])))
    stops = {r["institution"]: int(r["n"]) for r in await UseEvent.raw(f"""
        SELECT e.institution AS institution, COUNT(*) AS n FROM technology_use_event e
        WHERE e.institution IN {inst} AND e.action IN ('stop', 'suspend', 'region_suspend')
          AND e.event_on >= {{}} AND e.event_on <= {{}} GROUP BY e.institution""", *args)}
    checked = _checked_on(year, today)
    return {"obligations": obligations, "warnings": warnings, "stops": stops,
            "disclosure": (checked, await _restricted_since(ids, checked), await _catalogue_since(ids))}


def _earned(item: CreditItem, institution_id: int, counts: dict[str, Any], year: int = 0) -> float:
    """An item's points from the grouped counts, by the same arithmetic as its breakdown."""
    if item.measure == "obligations_on_time":
        on_time = sum(counts["obligations"].get((institution_id, k), [0, 0])[0] for k in item.kinds)
        late = sum(counts["obligations"].get((institution_id, k), [0, 0])[1] for k in item.kinds)
        return item.points if not on_time + late else item.points * on_time / (on_time + late)
    if item.measure == "warnings":
        lost = sum(warning_loss(item, severity, answered) * n
                   for severity, answered, n in counts["warnings"].get(institution_id, []))
        return max(0.0, item.points - lost)
    if item.measure == "disclosure":
        checked, started, catalogue = counts["disclosure"]
        return item.points - _disclosure_loss(item, year, checked, started.get(institution_id),
                                              catalogue.get(institution_id))[0]
    return max(0.0, item.points - item.per_item * counts["stops"].get(institution_id, 0))


def _sqlite() -> bool:
    from core.db import is_sqlite

    return is_sqlite()


async def score(actor: Actor, hooks: HookView, institution_id: int, year: int,
                today: dt.date | None = None) -> Score:
    """The institution's score of ``year`` with every item's breakdown; another tenant's
    institution answers ``NotFound``."""
    institution = await require_institution(actor, institution_id)
    today = today or clock.today()
    items = [await MEASURES[i.measure](i, institution_id, year, today) for i in items_in_force(hooks)]
    return Score(institution_id=institution_id, institution_name=institution["name"], year=year,
                 total=_r(sum(i.earned for i in items)), maximum=_r(sum(i.points for i in items)), items=tuple(items))


async def history(actor: Actor, hooks: HookView, institution_id: int, year: int) -> list[Score]:
    """The scores of ``year`` and the years before it (``YEARS_SHOWN``), newest first."""
    return [await score(actor, hooks, institution_id, y) for y in range(year, year - YEARS_SHOWN, -1)]


async def region_scores(actor: Actor, hooks: HookView, year: int) -> list[Score]:
    """Every institution of the actor's region with its score of ``year``, lowest first: the
    items' points from grouped counts (a few queries for 1,000 institutions); the breakdown
    with every record is ``score``'s, on the institution's page."""
    if not (actor.is_admin or actor.region_path):
        raise NotFound("未找到")
    from core.tenancy.tables import Institution

    ids = await visible_institution_ids(actor)
    query = Institution.select(Institution.id, Institution.name).where(Institution.active == True)  # noqa: E712
    if ids is not None:
        query = query.where(Institution.id.is_in(ids or [-1]))
    institutions = await query
    items = items_in_force(hooks)
    counts = await _region_counts([r["id"] for r in institutions], year, clock.today())
    scores = []
    for r in institutions:
        parts = tuple(ItemScore(i.key, i.title, i.rule, i.description, i.points, _r(_earned(i, r["id"], counts, year)), "")
                      for i in items)
        scores.append(Score(institution_id=r["id"], institution_name=r["name"], year=year,
                            total=_r(sum(p.earned for p in parts)), maximum=_r(sum(i.points for i in items)),
                            items=parts))
    return sorted(scores, key=lambda s: (s.total - s.maximum, s.institution_name))


def region_list(items: list[CreditItem]) -> listing.ListSpec:
    """The region's scores as a list (``listing.page_of`` over ``region_scores``): search by
    institution, sort by total (lowest first, as ``region_scores`` orders them) or name, the
    whole list (every page) as XLSX with one column per item."""
    return listing.ListSpec(
        table=None, columns=(), title="信誉评分", search=(lambda s: s.institution_name,),
        search_hint="医疗机构名称",
        # The year is read by the page itself; as a filter it stays in the page's links. A
        # choice of the years there are, so the field always shows the year the page shows.
        filters=(listing.Filter(key="year", label="年度", choices=tuple((str(y), f"{y} 年度") for y in years()),
                                blank="（默认：本年度）"),),
        sorts=(listing.Sort("total", "总分", lambda s: (s.total - s.maximum, s.institution_name)),
               listing.Sort("name", "医疗机构", lambda s: s.institution_name)),
        default_sort="total",
        export=(listing.attribute("医疗机构", "institution_name"), listing.attribute("总分", "total"),
                listing.attribute("满分", "maximum"),
                *(listing.ExportColumn(f"{i.title}（{_r(i.points)}）", lambda s, n=n: s.items[n].earned)
                  for n, i in enumerate(items))))


def region_summary(scores: list[Score]) -> dict:
    """The figures above the region's list, over every institution (not one page)."""
    totals = [s.total for s in scores]
    return {"institutions": len(scores), "average": _r(sum(totals) / len(totals)) if totals else None,
            "lowest": min(totals) if totals else None,
            "full": sum(1 for s in scores if s.total >= s.maximum)}


async def answers(actor: Actor, institution_id: int, year: int) -> list[dict]:
    await require_institution(actor, institution_id)
    return await CreditAnswer.select().where(
        (CreditAnswer.institution == institution_id) & (CreditAnswer.year == year)).order_by(CreditAnswer.id)


async def answer(actor: Actor, hooks: HookView, institution_id: int, year: int, item: str, text: str) -> int:
    """The institution's medical affairs (or head) answers its score of ``year`` (as a whole
    or one item); the regulators read it beside the score. Audited."""
    await require_institution(actor, institution_id)
    if actor.institution_id != institution_id or not actor.has("medical_affairs", "hospital_head"):
        raise NotFound("未找到该医疗机构")
    problems = rules.check_text(text, "text", "说明")
    if item and item not in {i.key for i in items_in_force(hooks)}:
        problems.append(Problem("请选择要说明的评分项目", "item", "NAT-39"))
    if year not in years():
        problems.append(Problem("年度不正确", "year", "NAT-39"))
    if problems:
        raise DomainError(problems)
    async with write_transaction():
        rows = await CreditAnswer.insert(CreditAnswer(institution=institution_id, year=year, item=item,
                                                      text=text.strip(), answered_by=actor.display_name[:100])
                                         ).returning(CreditAnswer.id)
        await audit.record(actor, "credit.answer", "credit_answer", rows[0]["id"],
                           after={"year": year, "item": item, "text": text.strip()}, institution_id=institution_id)
    return rows[0]["id"]


EXPORT_COLUMNS = ("年度", "医疗机构", "项目", "依据", "分值", "得分", "计算", "扣分", "扣分原因", "链接")


def export_rows(scores: list[Score], base: str = "") -> list[list]:
    out = []
    for s in scores:
        for i in s.items:
            if not i.losses:
                out.append([s.year, s.institution_name, i.title, i.rule, i.points, i.earned, i.basis, 0, "", ""])
            for loss in i.losses:
                out.append([s.year, s.institution_name, i.title, i.rule, i.points, i.earned, i.basis, loss.points,
                            loss.text, base + loss.href])
    return out
