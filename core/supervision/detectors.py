"""What core looks for on live data: one detector per kind of finding. A plugin's
``warning_rules`` name a detector and say which rule it enforces and how it reads; the
detectors themselves never name a province.

Another area adds a detector with ``@detector("name", "what it finds")`` in its own module
and lists that module in ``DETECTOR_MODULES`` (e.g. physicians' authorisations: the
``unauthorised_operator`` detector reads the filing's physician list until authorisations
exist, and an area holding authorisations may register a sharper one under a new name).

A detector receives a ``Scope`` (the institutions to look at, ``None`` for all; the day)
and returns ``Finding``s; each is grouped and aggregated in SQL so the cost follows the
findings, not the million cases. ``records`` lists the records behind one finding, read
only when a warning is raised or its count changes.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Awaitable, Callable

import msgspec

from core import clock
from core.plugins import HookView


class Scope(msgspec.Struct, frozen=True):
    """Where and when to look: ``institution_ids`` (``None``: every institution) and ``today``."""

    institution_ids: tuple[int, ...] | None
    today: dt.date
    hooks: HookView | None = None


class Record(msgspec.Struct, frozen=True):
    """A record behind a finding, linked from the warning and the credit score."""

    type: str
    id: int
    label: str
    href: str


class Finding(msgspec.Struct, frozen=True):
    """One problem of one institution, named by ``fingerprint`` across evaluations."""

    institution_id: int
    fingerprint: str
    detail: str
    count: int = 1
    technology_code: str = ""
    technology_name: str = ""
    fact_on: dt.date | None = None


Find = Callable[[Scope], Awaitable[list[Finding]]]
Records = Callable[[Finding, int], Awaitable[list[Record]]]


class Detector(msgspec.Struct, frozen=True):
    name: str
    description: str
    find: Find
    records: Records


DETECTORS: dict[str, Detector] = {}
# Modules of other areas that register detectors (imported when the rules are read).
DETECTOR_MODULES: list[str] = ["core.supervision.cusum", "core.people.detectors", "core.body.detectors"]


def detector(name: str, description: str, records: Records | None = None) -> Callable[[Find], Find]:
    """Register ``find`` as the detector ``name`` (its ``records`` lists what is behind a finding)."""

    def register(fn: Find) -> Find:
        DETECTORS[name] = Detector(name=name, description=description, find=fn,
                                   records=records or _no_records)
        return fn

    return register


def registered() -> dict[str, Detector]:
    for module in DETECTOR_MODULES:
        importlib.import_module(module)
    return dict(DETECTORS)


async def _no_records(finding: Finding, limit: int) -> list[Record]:
    return []


# ---------------------------------------------------------------- helpers


def _in(scope: Scope, column: str) -> str:
    """``AND <column> IN (…)`` for the scope's institutions (ids, never ``LIKE`` on paths: at
    1,000,000 cases PostgreSQL would walk every case), or nothing for all."""
    if scope.institution_ids is None:
        return ""
    return f"AND {column} IN ({', '.join(str(int(i)) for i in scope.institution_ids) or '-1'})"


def _code(finding: Finding) -> str:
    return finding.fingerprint.split(":", 1)[1]


def _date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


async def _raw(sql: str, *args) -> list[dict]:
    from core.cases.tables import CaseRecord

    return await CaseRecord.raw(sql, *args)


async def _case_records(where: str, finding: Finding, limit: int, *args) -> list[Record]:
    rows = await _raw(f"""
        SELECT c.id AS id, c.external_id AS external_id, c.operated_on AS operated_on
        FROM case_record c WHERE c.institution = {int(finding.institution_id)} AND NOT c.voided {where}
        ORDER BY c.operated_on DESC, c.id DESC LIMIT {int(limit)}""", *args)
    return [Record(type="case", id=r["id"], label=f"病例 {r['external_id']}（{_date(r['operated_on'])}）",
                   href=f"/cases/{r['id']}") for r in rows]


def _grouped(rows: list[dict], text: Callable[[dict], str], date_key: str = "last_on") -> list[Finding]:
    return [Finding(institution_id=r["institution"], fingerprint=f"code:{r['code']}", count=int(r["n"]),
                    technology_code=r["code"] or "", technology_name=r["technology"] or "",
                    fact_on=_date(r[date_key]), detail=text(r)) for r in rows]


# ---------------------------------------------------------------- late reports (NAT-37)


async def _late_records(finding: Finding, limit: int) -> list[Record]:
    return await _case_records("AND c.report_late AND c.technology_code = {}", finding, limit, _code(finding))


@detector("late_report", "病例报送晚于报送时限（按权威平台回执日计）", _late_records)
async def late_reports(scope: Scope) -> list[Finding]:
    """Cases reported after their deadline, per institution × technology. Reads the
    partial index of late cases only, so the cost follows the late cases."""
    rows = await _raw(f"""
        SELECT c.institution AS institution, c.technology_code AS code, MAX(c.technology_name) AS technology,
               COUNT(*) AS n, MAX(c.reported_on) AS last_on
        FROM case_record c
        WHERE c.report_late AND NOT c.voided {_in(scope, 'c.institution')}
        GROUP BY c.institution, c.technology_code""")
    return _grouped(rows, lambda r: f"{r['code']} {r['technology']}：{r['n']} 例病例晚于时限报送")


# ---------------------------------------------------------------- cases never reported (NAT-41 (5)(6))


def _unreported_where(scope: Scope) -> tuple[str, list]:
    day = scope.today.isoformat() if _sqlite() else scope.today
    return (f"c.report_due_on < {{}} AND c.reported_on IS NULL AND NOT c.voided {_in(scope, 'c.institution')}",
            [day])


async def _unreported_records(finding: Finding, limit: int) -> list[Record]:
    where, args = _unreported_where(Scope((finding.institution_id,), clock.today()))
    return await _case_records(f"AND c.technology_code = {{}} AND {where}", finding, limit, _code(finding), *args)


@detector("unreported_cases", "病例已过报送时限仍未被权威平台接收（未报送）", _unreported_records)
async def unreported_cases(scope: Scope) -> list[Finding]:
    """Cases whose reporting deadline has passed with no receipt from the platform: not
    reported at all, where ``late_report`` counts those reported after the deadline."""
    where, args = _unreported_where(scope)
    rows = await _raw(f"""
        SELECT c.institution AS institution, c.technology_code AS code, MAX(c.technology_name) AS technology,
               COUNT(*) AS n, MIN(c.report_due_on) AS last_on
        FROM case_record c WHERE {where}
        GROUP BY c.institution, c.technology_code""", *args)
    return _grouped(rows, lambda r: f"{r['code']} {r['technology']}：{r['n']} 例病例已过报送时限仍未报送"
                                    f"（最早应于 {_date(r['last_on'])} 前报送）")


# ---------------------------------------------------------------- cases without a completed filing (NAT-11)


def _unfiled_cases(scope: Scope) -> str:
    from core.admission.tables import Project
    from core.filing.tables import Filing

    where = _in(scope, "c.institution")
    return f"""
        SELECT c.id, c.institution, c.technology_code, c.technology_name, c.operated_on
        FROM case_record c
        WHERE c.tech_class = 'restricted' AND NOT c.voided {where}
          AND c.project IN (SELECT p.id FROM {Project._meta.tablename} p
                            WHERE NOT EXISTS (SELECT 1 FROM {Filing._meta.tablename} f
                                              WHERE f.project = p.id AND f.status = 'completed'))
        UNION ALL
        SELECT c.id, c.institution, c.technology_code, c.technology_name, c.operated_on
        FROM case_record c
        WHERE c.tech_class = 'restricted' AND NOT c.voided {where} AND c.project IS NULL"""


async def _unfiled_records(finding: Finding, limit: int) -> list[Record]:

    ids = f"SELECT x.id FROM ({_unfiled_cases(Scope((finding.institution_id,), clock.today()))}) x"
    return await _case_records(f"AND c.technology_code = {{}} AND c.id IN ({ids})", finding, limit, _code(finding))


@detector("unfiled_cases", "限制类技术已开展病例，但没有完成的备案", _unfiled_records)
async def unfiled_cases(scope: Scope) -> list[Finding]:
    """Restricted-technology cases whose project has no completed filing. Projects without
    a completed filing are few, so the index on the project is walked for those only."""
    rows = await _raw(f"""
        SELECT c.institution AS institution, c.technology_code AS code, MAX(c.technology_name) AS technology,
               COUNT(*) AS n, MAX(c.operated_on) AS last_on
        FROM ({_unfiled_cases(scope)}) c
        GROUP BY c.institution, c.technology_code""")
    return _grouped(rows, lambda r: f"{r['code']} {r['technology']}：已开展 {r['n']} 例，备案尚未完成")


# ---------------------------------------------------------------- prohibited technologies (NAT-9)


async def _prohibited(scope: Scope) -> tuple[list[str], list[str]]:
    """Codes and names of the technologies prohibited by an edition in force today."""
    if scope.hooks is None:
        return [], []
    from core.catalog import service as catalog

    found = await catalog.choices(scope.hooks, classes=("prohibited",), on=scope.today)
    return sorted({t.code for t in found}), sorted({t.name for t in found})


def _prohibited_where(codes: list[str], names: list[str]) -> tuple[str, list]:
    """Cases prohibited when recorded, or of a code or name prohibited today (placeholders)."""
    return (f"(c.tech_class = 'prohibited' OR c.technology_code IN ({', '.join('{}' for _ in codes) or 'NULL'})"
            f" OR c.technology_name IN ({', '.join('{}' for _ in names) or 'NULL'}))", [*codes, *names])


async def _prohibited_records(finding: Finding, limit: int) -> list[Record]:
    return await _case_records("AND c.technology_code = {}", finding, limit, _code(finding))


@detector("prohibited_technology", "开展了禁止类技术（按现行目录，含后来列为禁止类的技术）", _prohibited_records)
async def prohibited_technology(scope: Scope) -> list[Finding]:
    """Cases of a technology that a catalogue edition in force today lists as prohibited
    (by code or by name: an evaluation that prohibits a technology lists it anew)."""
    codes, names = await _prohibited(scope)
    where, args = _prohibited_where(codes, names)
    rows = await _raw(f"""
        SELECT c.institution AS institution, c.technology_code AS code, MAX(c.technology_name) AS technology,
               COUNT(*) AS n, MAX(c.operated_on) AS last_on
        FROM case_record c
        WHERE {where} AND NOT c.voided {_in(scope, 'c.institution')}
        GROUP BY c.institution, c.technology_code""", *args)
    return _grouped(rows, lambda r: f"{r['code']} {r['technology']}：现行目录列为禁止类技术，仍有 {r['n']} 例病例")


# ---------------------------------------------------------------- stopped technologies still in use (NAT-25)

USE_LABELS = {"suspended": "暂停", "stopped": "停止", "cancelled": "注销备案", "region_suspended": "辖区暂停"}


def _stopped_sql(scope: Scope) -> str:
    """Cases performed on or after the day the institution's use of the technology was
    suspended, stopped or its filing cancelled (``core.lifecycle``'s state of use: a case
    recorded before the stop was entered, or a stop entered with an earlier date) — and
    cases performed while a region's suspension of the technology covered the institution
    (NAT-25 (4): the provincial department suspends it in its whole region), from its start
    until it was lifted. A case may appear under both: count it once (``DISTINCT``)."""
    from core.lifecycle.tables import RegionSuspension, TechnologyUse
    from core.tenancy.tables import Institution, Region

    key_match = """((c.technology_code <> '' AND UPPER(c.technology_code) = {key})
              OR (c.technology_code = '' AND 'P' || CAST(c.project AS TEXT) = {key}))"""
    return f"""
        SELECT c.id, c.institution, c.technology_code, c.technology_name, c.operated_on,
               u.technology_key AS use_key, u.since AS stopped_on, u.status AS use_status
        FROM {TechnologyUse._meta.tablename} u
        JOIN case_record c ON c.institution = u.institution AND {key_match.format(key='u.technology_key')}
        WHERE u.status <> 'in_use' AND u.since IS NOT NULL AND c.operated_on >= u.since
          AND NOT c.voided {_in(scope, 'u.institution')}
        UNION ALL
        SELECT c.id, c.institution, c.technology_code, c.technology_name, c.operated_on,
               s.technology_key AS use_key, s.started_on AS stopped_on, 'region_suspended' AS use_status
        FROM {RegionSuspension._meta.tablename} s
        JOIN {Region._meta.tablename} sr ON sr.id = s.region
        JOIN {Region._meta.tablename} ir ON ir.path LIKE sr.path || '%'
        JOIN {Institution._meta.tablename} i ON i.region = ir.id
        JOIN case_record c ON c.institution = i.id AND {key_match.format(key='s.technology_key')}
        WHERE c.operated_on >= s.started_on AND (s.lifted_on IS NULL OR c.operated_on < s.lifted_on)
          AND NOT c.voided {_in(scope, 'i.id')}"""


async def _stopped_records(finding: Finding, limit: int) -> list[Record]:
    key = finding.fingerprint.split(":", 1)[1]
    rows = await _raw(f"SELECT DISTINCT x.id AS id, x.operated_on AS operated_on "
                      f"FROM ({_stopped_sql(Scope((finding.institution_id,), clock.today()))}) x "
                      f"WHERE x.use_key = {{}} ORDER BY x.operated_on DESC LIMIT {int(limit)}", key)
    return await _case_records(f"AND c.id IN ({', '.join(str(r['id']) for r in rows) or '-1'})", finding, limit)


@detector("stopped_technology", "技术已暂停、停止或注销备案后（含辖区暂停期间）仍有病例（按院内技术使用状态及辖区暂停）",
          _stopped_records)
async def stopped_technology(scope: Scope) -> list[Finding]:
    rows = await _raw(f"""
        SELECT x.institution AS institution, x.use_key AS use_key, MAX(x.technology_code) AS code,
               MAX(x.technology_name) AS technology, COUNT(DISTINCT x.id) AS n, MAX(x.operated_on) AS last_on,
               MIN(x.stopped_on) AS stopped_on, MIN(x.use_status) AS use_status
        FROM ({_stopped_sql(scope)}) x GROUP BY x.institution, x.use_key""")
    return [Finding(institution_id=r["institution"], fingerprint=f"use:{r['use_key']}", count=int(r["n"]),
                    technology_code=r["code"] or "", technology_name=r["technology"] or "",
                    fact_on=_date(r["last_on"]),
                    detail=f"{r['code']} {r['technology']}：{_date(r['stopped_on'])} 起"
                           f"{USE_LABELS.get(r['use_status'], r['use_status'])}，此后仍有 {r['n']} 例病例")
            for r in rows]


# ---------------------------------------------------------------- operators outside the filing


async def _operator_records(finding: Finding, limit: int) -> list[Record]:
    case_id = int(finding.fingerprint.split(":", 1)[1])
    return await _case_records("AND c.id = {}", finding, limit, case_id)


@detector("unauthorised_operator", "限制类技术病例的术者不在该技术完成备案的医师名单（含技术负责人）内",
          _operator_records)
async def unauthorised_operator(scope: Scope) -> list[Finding]:
    """Restricted cases of a project with a completed filing whose operator is neither the
    filing's lead nor on its list of physicians who perform it. Read per case for the
    current and the previous year (the years a credit score looks at)."""
    from core.accounts.tables import User
    from core.filing.tables import Filing

    since = dt.date(scope.today.year - 1, 1, 1)
    filings = await Filing.select(Filing.project, Filing.lead, Filing.physicians).where(
        Filing.status == "completed").output(load_json=True)
    allowed: dict[int, set[int]] = {}
    for f in filings:
        ids = {int(p["user_id"]) for p in f["physicians"] or [] if str(p.get("user_id") or "").isdigit()}
        allowed.setdefault(f["project"], set()).update(ids | ({f["lead"]} if f["lead"] else set()))
    if not allowed:
        return []
    args = [since.isoformat()] if _sqlite() else [since]
    rows = await _raw(f"""
        SELECT c.id AS id, c.institution AS institution, c.project AS project, c.technology_code AS code,
               c.technology_name AS technology, c.operators AS operators, c.operated_on AS operated_on,
               c.external_id AS external_id
        FROM case_record c
        WHERE c.tech_class = 'restricted' AND NOT c.voided AND c.operated_on >= {{}}
          AND c.project IN ({', '.join(str(int(p)) for p in allowed)}) {_in(scope, 'c.institution')}""", *args)
    found: list[tuple[dict, list[int]]] = []
    for r in rows:
        operators = msgspec.json.decode(r["operators"]) if isinstance(r["operators"], str | bytes) else r["operators"]
        outside = [int(o) for o in operators or [] if int(o) not in allowed[r["project"]]]
        if outside:
            found.append((r, outside))
    names = {u["id"]: u["display_name"] for u in await User.select(User.id, User.display_name).where(
        User.id.is_in(sorted({o for _, out in found for o in out}) or [-1]))}
    return [Finding(institution_id=r["institution"], fingerprint=f"case:{r['id']}", technology_code=r["code"] or "",
                    technology_name=r["technology"] or "", fact_on=_date(r["operated_on"]),
                    detail=f"病例 {r['external_id']}（{r['code']} {r['technology']}）的术者"
                           f"{'、'.join(names.get(o, str(o)) for o in out)}不在该技术备案的医师名单内")
            for r, out in found]


# ---------------------------------------------------------------- filings and the licence annotation


async def _filing_records(finding: Finding, limit: int) -> list[Record]:
    filing_id = int(finding.fingerprint.split(":", 1)[1])
    return [Record(type="filing", id=filing_id, label=f"备案（{finding.technology_code} "
                                                       f"{finding.technology_name}）", href=f"/filings/{filing_id}")]


@detector("filing_annotation", "备案已完成（或已撤销、注销），但执业许可证副本备注未登记或与备案不一致",
          _filing_records)
async def filing_annotation(scope: Scope) -> list[Finding]:
    from core.filing.tables import Filing

    query = Filing.select(Filing.id, Filing.institution, Filing.technology_code, Filing.technology_name,
                          Filing.annotation_expected, Filing.annotation_recorded, Filing.completed_on,
                          Filing.closed_on).where(
        Filing.status.is_in(["completed", "withdrawn", "cancelled"])
        & (Filing.annotation_expected != Filing.annotation_recorded))
    if scope.institution_ids is not None:
        query = query.where(Filing.institution.is_in(list(scope.institution_ids) or [-1]))
    return [Finding(institution_id=r["institution"], fingerprint=f"filing:{r['id']}",
                    technology_code=r["technology_code"], technology_name=r["technology_name"],
                    fact_on=r["closed_on"] or r["completed_on"],
                    detail=f"{r['technology_code']} {r['technology_name']}：" + (
                        "副本未备注" if not r["annotation_recorded"] else "副本备注与备案不一致"))
            for r in await query]


# ---------------------------------------------------------------- disclosure (NAT-24; NAT-41 (7))


async def _disclosure_records(finding: Finding, limit: int) -> list[Record]:
    i = finding.institution_id
    return [Record(type="institution", id=i, label="本机构院务公开页面", href=f"/public/institutions/{i}"),
            Record(type="grading", id=i, label="本机构手术分级管理目录", href=f"/grading/{i}")]


@detector("disclosure_incomplete", "开展限制类技术的医疗机构，院务公开缺少手术分级管理目录（无现行版本）",
          _disclosure_records)
async def disclosure_incomplete(scope: Scope) -> list[Finding]:
    """NAT-24: an institution that performs restricted technologies discloses its
    restricted list, its surgery-grading catalogue and each technology's use. The portal
    publishes the list and the counts itself (``/public/institutions/<id>``); what the
    institution can leave out is the catalogue — none in force today means its 院务公开
    lacks it (NAT-41 (7): 未将相关信息纳入院务公开范围向社会公开). Institutions with a
    completed filing or a restricted case (voided ones aside) are looked at."""
    from core.filing.tables import Filing
    from core.grading.tables import GradingEdition

    day = scope.today.isoformat() if _sqlite() else scope.today
    rows = await _raw(f"""
        SELECT x.institution AS institution, MIN(x.since) AS since FROM (
            SELECT f.institution AS institution, f.completed_on AS since FROM {Filing._meta.tablename} f
            WHERE f.status = 'completed' {_in(scope, 'f.institution')}
            UNION ALL
            SELECT c.institution AS institution, MIN(c.operated_on) AS since FROM case_record c
            WHERE c.tech_class = 'restricted' AND NOT c.voided {_in(scope, 'c.institution')}
            GROUP BY c.institution) x
        WHERE NOT EXISTS (SELECT 1 FROM {GradingEdition._meta.tablename} g
                          WHERE g.institution = x.institution AND g.effective_on <= {{}})
        GROUP BY x.institution""", day)
    return [Finding(institution_id=r["institution"], fingerprint="grading", fact_on=_date(r["since"]),
                    detail=f"自 {_date(r['since'])} 起开展限制类技术，院务公开尚无现行的手术分级管理目录")
            for r in rows]


# ---------------------------------------------------------------- standardised training (NAT-26; NAT-41 (8))


def _restricted_operators_sql(scope: Scope) -> tuple[str, list]:
    """The operators of the institutions' restricted cases of this and last year (voided
    ones aside)."""
    since = dt.date(scope.today.year - 1, 1, 1)
    return f"""
        SELECT c.institution AS institution, CAST(c.operators AS TEXT) AS operators, COUNT(*) AS n
        FROM case_record c
        WHERE c.tech_class = 'restricted' AND NOT c.voided AND c.operated_on >= {{}} {_in(scope, 'c.institution')}
        GROUP BY c.institution, CAST(c.operators AS TEXT)""", [since.isoformat() if _sqlite() else since]


async def _trained(user_ids: set[int]) -> set[int]:
    """Those with a standardised-training record: a training certificate in their archive
    (``physician_certificate`` of kind ``training``, not removed) or a passed final exam
    of a training base's course (``training_trainee``)."""
    from core.people.tables import Certificate
    from core.training.tables import Trainee

    ids = sorted(user_ids) or [-1]
    found = {r["user"] for r in await Certificate.select(Certificate.user).where(
        Certificate.user.is_in(ids) & (Certificate.kind == "training") & (Certificate.removed == 0))}
    found |= {r["user"] for r in await Trainee.select(Trainee.user).where(
        Trainee.user.is_in(ids) & (Trainee.final_result == "pass"))}
    return found


async def _untrained(scope: Scope) -> dict[int, dict[int, int]]:
    """Per institution: untrained operator id → number of restricted cases they operated."""
    sql, args = _restricted_operators_sql(scope)
    per: dict[int, dict[int, int]] = {}
    for r in await _raw(sql, *args):
        operators = msgspec.json.decode(r["operators"]) if isinstance(r["operators"], str | bytes) else r["operators"]
        for o in operators or []:
            if str(o).isdigit():
                per.setdefault(r["institution"], {}).setdefault(int(o), 0)
                per[r["institution"]][int(o)] += int(r["n"])
    trained = await _trained({o for ops in per.values() for o in ops})
    return {i: {o: n for o, n in ops.items() if o not in trained} for i, ops in per.items()
            if any(o not in trained for o in ops)}


async def _untrained_records(finding: Finding, limit: int) -> list[Record]:
    from core.accounts.tables import User

    ops = (await _untrained(Scope((finding.institution_id,), clock.today()))).get(finding.institution_id, {})
    users = await User.select(User.id, User.display_name).where(User.id.is_in(sorted(ops)[:limit] or [-1]))
    return [Record(type="person", id=u["id"], label=f"{u['display_name']}（{ops[u['id']]} 例限制类技术病例）",
                   href=f"/people/{u['id']}") for u in users]


@detector("untrained_operators", "限制类技术病例的术者没有规范化培训记录（证书档案或培训基地结业考核合格）",
          _untrained_records)
async def untrained_operators(scope: Scope) -> list[Finding]:
    """NAT-26: physicians performing restricted technologies take standardised training;
    NAT-41 (8) names the institution that does not safeguard it. The portal sees who
    operated and whose training is on record: per institution, the operators of this and
    last year's restricted cases with no training record."""
    found = await _untrained(scope)
    return [Finding(institution_id=i, fingerprint="training", count=len(ops), fact_on=scope.today,
                    detail=f"{len(ops)} 名医师开展了限制类技术（共 {sum(ops.values())} 例），但没有规范化培训记录")
            for i, ops in sorted(found.items())]


def _sqlite() -> bool:
    from core.db import is_sqlite

    return is_sqlite()
