"""``clintech demo --scale N``: a realistic province for load tests — N institutions in
cities of the demo province, each with departments, physicians, admitted projects of
restricted and routine technologies, filings, and years of cases with their reporting
obligations.

Written with BULK inserts, not the per-row services (a million cases through the case
service would take hours and is what ``make bench`` measures instead): COPY through
asyncpg on PostgreSQL, large ``executemany`` batches on SQLite. No audit events are
written for this synthetic data; ids are assigned here and sequences reset afterwards.
Deterministic for a given seed. Refuses to run twice on the same database.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from core import clock
from core.db import engine, is_sqlite
from core.plugins import HookView

PREFIX = "SCALE-"
CITIES = 12
DEPARTMENTS = [("心血管内科", "内科"), ("普通外科", "外科"), ("神经外科", "外科"), ("骨科", "外科")]
OUTCOMES = ["cured", "improved", "improved", "improved", "unchanged", "worse", "death"]
INDICATORS = [{"name": "并发症发生率", "target": "≤3%", "method": "按月统计"},
              {"name": "手术时间", "target": "<180", "method": "均值"}]


async def _max_id(table: str) -> int:
    rows = await _query(f"SELECT COALESCE(MAX(id), 0) AS m FROM {table}")
    return int(rows[0]["m"])


async def _query(sql: str, *args: Any) -> list[dict]:
    from core.cases.tables import CaseRecord

    return await CaseRecord.raw(sql, *args)


async def bulk(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, batch: int = 20000) -> int:
    """Insert many rows fast: COPY on PostgreSQL, batched executemany on SQLite.
    JSON values must already be strings. Returns the number of rows."""
    db = engine()
    count = 0
    if is_sqlite():
        import sqlite3

        conn = sqlite3.connect(db.connection_kwargs["database"], timeout=60)
        try:
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
            chunk: list = []
            for row in rows:
                chunk.append([v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v for v in row])
                if len(chunk) >= batch:
                    conn.executemany(sql, chunk)
                    count += len(chunk)
                    chunk = []
            if chunk:
                conn.executemany(sql, chunk)
                count += len(chunk)
            conn.commit()
        finally:
            conn.close()
        return count
    conn = await db.get_new_connection()
    try:
        chunk = []
        for row in rows:
            chunk.append(tuple(row))
            if len(chunk) >= batch:
                await conn.copy_records_to_table(table, records=chunk, columns=list(columns))
                count += len(chunk)
                chunk = []
        if chunk:
            await conn.copy_records_to_table(table, records=chunk, columns=list(columns))
            count += len(chunk)
    finally:
        await conn.close()
    return count


async def _reset_sequence(table: str) -> None:
    if not is_sqlite():
        await _query(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))")


CASE_COLUMNS = (
    "id", "institution", "project", "department", "external_id", "dedupe_key", "content_hash", "technology_code",
    "technology_name", "tech_class", "patient_key", "admitted_on", "operated_on", "discharged_on", "operators",
    "assistants", "indication", "outcome", "complication", "complications", "adverse_event", "adverse_events",
    "follow_up", "qc_values", "consent", "source", "report_rule", "report_due_on", "reported_on", "report_late",
    "delivery_id", "recorded_by", "created_at",
)


def case_rows(rng: random.Random, start_id: int, count: int, projects: list[dict], *, until: dt.date,
              years: int, rule: str, source: str = "demo", tag: str = "") -> Iterable[tuple]:
    """``count`` synthetic cases spread over ``years`` years before ``until``."""
    now = dt.datetime.now(dt.UTC)
    span = 365 * years
    for k in range(count):
        p = projects[rng.randrange(len(projects))]
        operated = until - dt.timedelta(days=rng.randrange(span))
        if operated < p["admitted_on"]:
            operated = p["admitted_on"] + dt.timedelta(days=rng.randrange(30))
        admitted = operated - dt.timedelta(days=rng.randrange(1, 4))
        discharged = operated + dt.timedelta(days=rng.randrange(2, 12))
        complication = rng.random() < 0.03
        adverse = rng.random() < 0.01
        restricted = p["tech_class"] == "restricted"
        due = discharged + dt.timedelta(days=21) if restricted else None
        late = restricted and rng.random() < 0.08
        reported = (due + dt.timedelta(days=rng.randrange(1, 20)) if late else
                    discharged + dt.timedelta(days=rng.randrange(1, 15))) if restricted else None
        ext = f"{tag}S{start_id + k}"
        qc = json.dumps({"并发症发生率": "1" if complication else "0", "手术时间": str(rng.randrange(40, 240))},
                        ensure_ascii=False)
        yield (start_id + k, p["institution"], p["id"], p["department"], ext, f"{p['institution']}:{ext}",
               "0" * 64, p["technology_code"], p["technology_name"], p["tech_class"], f"{rng.getrandbits(128):032x}",
               admitted, operated, discharged, json.dumps([p["lead"]]), "[]", "合成病例", rng.choice(OUTCOMES),
               complication, "合成并发症" if complication else "", adverse, "合成不良事件" if adverse else "", "",
               qc, True, source, rule if restricted else "", due, reported, late, None, "scale", now)


async def build(hooks: HookView, institutions: int, cases: int, *, years: int = 3, seed: int = 2026,
                until: dt.date | None = None, log: Callable[[str], None] = print) -> dict:
    """Build the province; returns counts and seconds per step."""
    from core import demo
    from core.catalog import service as catalog
    from core.tenancy.tables import Institution, Region

    started = time.perf_counter()
    timings: dict[str, float] = {}
    if await Institution.exists().where(Institution.licence_no.like(f"{PREFIX}%")):
        raise ValueError("本数据库已生成过规模演示数据（--scale 只能运行一次）")
    await demo.load(hooks)
    await catalog.ensure_synced(hooks.host)
    rng = random.Random(seed)
    until = until or clock.today() - dt.timedelta(days=1)
    techs = [t for t in await catalog.choices(hooks, classes=("restricted",))][:12]
    if not techs:
        raise ValueError("已启用的插件未提供限制类技术目录")
    from core.obligations.service import rules_of

    rule = next((r.id for r in rules_of(hooks) if r.obligation == "case_report"), "NAT-37")
    province = await Region.select().where(Region.level == "province").order_by(Region.id).first()
    now = dt.datetime.now(dt.UTC)

    # Cities below the demo province.
    t0 = time.perf_counter()
    region0 = await _max_id("region") + 1
    await bulk("region", ("id", "name", "code", "level", "parent", "path"),
               ((region0 + c, f"规模市{c + 1:02d}", f"SC{seed}{c:03d}", "city", province["id"],
                 f"{province['path']}{region0 + c}/") for c in range(CITIES)))
    await _reset_sequence("region")
    inst0 = await _max_id("institution") + 1
    grades = ["三级甲等", "三级乙等", "二级甲等"]
    await bulk("institution", ("id", "name", "licence_no", "grade", "region", "licence_region", "registered_subjects",
                               "active"),
               ((inst0 + i, f"规模医院{i + 1:04d}", f"{PREFIX}{i + 1:05d}", grades[i % 3], region0 + i % CITIES,
                 region0 + i % CITIES, json.dumps(["内科", "外科"], ensure_ascii=False), True)
                for i in range(institutions)))
    await _reset_sequence("institution")
    dept0 = await _max_id("department") + 1
    await bulk("department", ("id", "institution", "name", "subject", "active"),
               ((dept0 + i * len(DEPARTMENTS) + d, inst0 + i, name, subject, True)
                for i in range(institutions) for d, (name, subject) in enumerate(DEPARTMENTS)))
    await _reset_sequence("department")
    user0 = await _max_id("app_user") + 1
    await bulk("app_user", ("id", "username", "display_name", "password_hash", "roles", "institution", "department",
                            "region", "title", "active", "created_at", "visiting", "qualifications"),
               ((user0 + i * 2 + k, f"scale{i + 1:04d}_{k}", f"规模医师{i + 1}-{k}", "!", '["clinician"]', inst0 + i,
                 dept0 + i * len(DEPARTMENTS) + k, None, "主治医师", True, now, False, "[]")
                for i in range(institutions) for k in range(2)))
    # A regulator for each city (the demo's password), to see the pages as a city sees them.
    demo_hash = (await _query("SELECT password_hash FROM app_user WHERE username = 'regulator_city1'") or
                 [{"password_hash": "!"}])[0]["password_hash"]
    reg0 = await _max_id("app_user") + 1
    await bulk("app_user", ("id", "username", "display_name", "password_hash", "roles", "institution", "department",
                            "region", "title", "active", "created_at", "visiting", "qualifications"),
               ((reg0 + c, f"regulator_scale{c + 1:02d}", f"规模市{c + 1:02d}医政科", demo_hash, '["regulator"]', None,
                 None, region0 + c, "", True, now, False, "[]") for c in range(CITIES)))
    await _reset_sequence("app_user")
    timings["institutions"] = time.perf_counter() - t0

    # Three admitted projects per institution (two restricted, one routine), a filing each restricted.
    t0 = time.perf_counter()
    proj0 = await _max_id("admission_project") + 1
    projects = []
    for i in range(institutions):
        for k in range(3):
            tech = techs[(i + k) % len(techs)] if k < 2 else None
            admitted = until - dt.timedelta(days=365 * years + rng.randrange(60))
            projects.append({
                "id": proj0 + i * 3 + k, "institution": inst0 + i, "department": dept0 + i * len(DEPARTMENTS) + k,
                "lead": user0 + i * 2 + (k % 2), "tech_class": "restricted" if tech else "routine",
                "technology_code": tech.code if tech else "", "technology_name": tech.name if tech else "院内新技术",
                "technology_id": tech.id if tech else None, "admitted_on": admitted,
            })
    form = json.dumps({"qc_indicators": INDICATORS, "qc_officer": ""}, ensure_ascii=False)
    await bulk("admission_project", (
        "id", "institution", "department", "lead", "title", "path", "technology_id", "technology_ref",
        "technology_code", "technology_name", "tech_class", "outside_lists", "grade", "form", "steps", "status",
        "revision", "version", "ethics_status", "admitted_on", "monitoring_until", "awaiting_first_case",
        "document_no", "outcome_reason", "created_at", "updated_at"),
        ((p["id"], p["institution"], p["department"], p["lead"], f"{p['technology_name']}（规模）", "round",
          p["technology_id"], str(p["technology_id"]) if p["technology_id"] else None, p["technology_code"],
          p["technology_name"], p["tech_class"], p["technology_id"] is None, "三级", form, "[]", "admitted", 1, 1,
          "approved", p["admitted_on"], p["admitted_on"] + dt.timedelta(days=730 if p["tech_class"] == "restricted"
                                                                         else 365),
          False, "", "", now, now) for p in projects))
    await _reset_sequence("admission_project")
    filing0 = await _max_id("filing") + 1
    restricted = [p for p in projects if p["tech_class"] == "restricted"]
    await bulk("filing", ("id", "institution", "project", "technology_ref", "technology_code", "technology_name",
                          "specification", "lead", "first_case_on", "first_case_info", "case_count", "due_rule",
                          "status", "assessment_basis", "assessment_reference", "self_assessment", "form",
                          "physicians", "submitted_late", "return_reason", "completed_by", "annotation_expected",
                          "annotation_recorded", "close_reason", "close_ground", "version", "created_at", "updated_at",
                          "completed_on"),
               ((filing0 + k, p["institution"], p["id"], str(p["technology_id"]), p["technology_code"],
                 p["technology_name"], "", p["lead"], p["admitted_on"] + dt.timedelta(days=10), "", 0, rule,
                 "completed" if rng.random() < 0.9 else "open", "specification", "", "", "{}", "[]", False, "", "",
                 "", "", "", "", 1, now, now, p["admitted_on"] + dt.timedelta(days=40))
                for k, p in enumerate(restricted)))
    await _reset_sequence("filing")
    timings["projects_filings"] = time.perf_counter() - t0

    # Cases and, for restricted ones, their (fulfilled) reporting obligations.
    t0 = time.perf_counter()
    case0 = await _max_id("case_record") + 1
    n = await bulk("case_record", CASE_COLUMNS, case_rows(rng, case0, cases, projects, until=until, years=years,
                                                          rule=rule))
    await _reset_sequence("case_record")
    timings["cases"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    # One INSERT … SELECT: the database derives each case's fulfilled obligation itself.
    now_p = now.isoformat() if is_sqlite() else now
    await _query(f"""
        INSERT INTO obligation (dedupe_key, rule_id, rule_plugin, kind, title, article, setting_note, role,
            institution, subject_type, subject_id, subject_label, event_kind, event_on, occurrence, technology_code,
            technology_class, due_on, provisional, unknown_years, status, done_on, done_late, waived_reason,
            waived_by, created_at, closed_at)
        SELECT '{rule}|case_report|case|' || id || '|discharge|', '{rule}', 'scale', 'case_report',
            '限制类技术病例逐例报送', '', '', 'medical_affairs', institution, 'case', id, external_id, 'discharge',
            discharged_on, '', technology_code, tech_class, report_due_on, {{}}, '', 'done', reported_on, report_late,
            '', '', {{}}, {{}}
        FROM case_record WHERE id >= {{}} AND report_rule <> ''""", False, now_p, now_p, case0)
    rows = await _query("SELECT COUNT(*) AS n FROM obligation WHERE rule_plugin = 'scale'")
    await _reset_sequence("obligation")
    timings["obligations"] = time.perf_counter() - t0
    if not is_sqlite():
        t0 = time.perf_counter()
        # VACUUM too: it sets the visibility map, so counts over the bulk-loaded rows can be
        # index-only scans (the regulator's dashboard counts every obligation of the region).
        for table in ("case_record", "obligation", "institution", "admission_project", "filing"):
            await engine().run_ddl(f"VACUUM ANALYZE {table}")
        timings["analyze"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    log(f"规模数据：{institutions} 家机构，{len(projects)} 个项目，{len(restricted)} 个备案，{n} 例病例，"
        f"{rows[0]['n']} 条报送时限，用时 {timings['total']:.1f} 秒")
    return {"institutions": institutions, "projects": len(projects), "filings": len(restricted), "cases": n,
            "obligations": rows[0]["n"], "seconds": timings, "first_institution": inst0, "projects_list": projects,
            "rule": rule}


def _date(value: Any) -> Any:
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value
