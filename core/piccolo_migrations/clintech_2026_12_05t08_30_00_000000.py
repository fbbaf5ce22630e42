"""Summary tables (issue 15): ``case_summary``, ``case_indicator_summary`` and
``obligation_summary``, filled from the rows already there and kept by TRIGGERS on
``case_record`` and ``obligation`` — in the transaction of every write, whichever code
writes (the case service, corrections and voids, follow-up, platform receipts, the
obligation engine, the scale demo's COPY). PostgreSQL: statement-level triggers that
aggregate the statement's transition tables once (a batch of 100 cases is one upsert);
SQLite: row-level triggers. What a row contributes is written once per database below;
``tests/test_summaries.py`` proves the tables equal the raw aggregation on both."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.column_types import DoublePrecision
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

ID = "2026-12-05T08:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Case and obligation summary tables kept by triggers (issue 15)"


CASE_KEY = "institution, project, department, technology_code, technology_name, month, due"
CASE_MEASURES = ("cases", "complications", "adverse_events", "reported", "on_time", "pending")
INDICATOR_KEY = "institution, project, department, technology_code, month, name"
INDICATOR_MEASURES = ("recorded", "ones", "number_sum", "number_count")
OBLIGATION_KEY = "institution, status, done_late, due"

# Read by tests/test_migrations.py: these indexes exist with this key.
INDEXES = [
    ("case_summary_key", f"case_summary ({CASE_KEY})"),
    ("case_summary_code_month", "case_summary (technology_code, month)"),
    ("case_summary_project_month", "case_summary (project, month)"),
    ("case_indicator_summary_key", f"case_indicator_summary ({INDICATOR_KEY})"),
    ("case_indicator_summary_code_month", "case_indicator_summary (technology_code, month)"),
    ("case_indicator_summary_project_month", "case_indicator_summary (project, month)"),
    ("obligation_summary_key", f"obligation_summary ({OBLIGATION_KEY})"),
]
_UNIQUE = {"case_summary_key", "case_indicator_summary_key", "obligation_summary_key"}

# A PostgreSQL number as CAST(… AS REAL) reads it (the QC page's mean of a number indicator).
_PG_NUMBER = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"


def _pg_cases(rows: str, sign: str) -> str:
    """What the rows of ``rows`` (a transition table) contribute to ``case_summary``: a
    case not voided counts on its group's main row, and, while its report (it has a rule)
    is not received everywhere, as pending on the row of its due date."""
    return f"""
        SELECT institution, project, department, technology_code, technology_name,
               to_char(operated_on, 'YYYY-MM') AS month, '' AS due, {sign} AS cases,
               {sign} * (CASE WHEN complication THEN 1 ELSE 0 END) AS complications,
               {sign} * (CASE WHEN adverse_event THEN 1 ELSE 0 END) AS adverse_events,
               {sign} * (CASE WHEN report_rule <> '' AND reported_on IS NOT NULL THEN 1 ELSE 0 END) AS reported,
               {sign} * (CASE WHEN report_rule <> '' AND reported_on IS NOT NULL AND NOT report_late
                              THEN 1 ELSE 0 END) AS on_time,
               0 AS pending
        FROM {rows} WHERE NOT voided
        UNION ALL
        SELECT institution, project, department, technology_code, technology_name,
               to_char(operated_on, 'YYYY-MM'), to_char(report_due_on, 'YYYY-MM-DD'), 0, 0, 0, 0, 0, {sign}
        FROM {rows}
        WHERE NOT voided AND report_rule <> '' AND reported_on IS NULL AND report_due_on IS NOT NULL"""


def _pg_indicators(rows: str, sign: str) -> str:
    return f"""
        SELECT r.institution, r.project, r.department, r.technology_code,
               to_char(r.operated_on, 'YYYY-MM') AS month, e.key AS name,
               {sign} * (CASE WHEN e.value IS NOT NULL THEN 1 ELSE 0 END) AS recorded,
               {sign} * (CASE WHEN e.value = '1' THEN 1 ELSE 0 END) AS ones,
               {sign} * (CASE WHEN e.value ~ '{_PG_NUMBER}' THEN CAST(CAST(e.value AS REAL) AS DOUBLE PRECISION)
                              ELSE 0 END) AS number_sum,
               {sign} * (CASE WHEN e.value ~ '{_PG_NUMBER}' THEN 1 ELSE 0 END) AS number_count
        FROM {rows} r CROSS JOIN LATERAL jsonb_each_text(
            CASE WHEN jsonb_typeof(CAST(r.qc_values AS JSONB)) = 'object' THEN CAST(r.qc_values AS JSONB)
                 ELSE CAST('{{}}' AS JSONB) END) e
        WHERE NOT r.voided"""


def _pg_obligations(rows: str, sign: str) -> str:
    return f"""
        SELECT COALESCE(institution, 0) AS institution, status, done_late,
               CASE WHEN status = 'open' THEN COALESCE(to_char(due_on, 'YYYY-MM-DD'), '') ELSE '' END AS due,
               {sign} AS n
        FROM {rows}"""


def _pg_upsert(table: str, key: str, measures: tuple[str, ...], parts: list[str]) -> str:
    """One upsert of the summed contributions, skipping groups whose sum is nothing (an
    update that changed nothing counted), in key order (concurrent writers lock alike)."""
    sums = ", ".join(f"SUM({m})" for m in measures)
    nonzero = " OR ".join(f"SUM({m}) <> 0" for m in measures)
    sets = ", ".join(f"{m} = s.{m} + EXCLUDED.{m}" for m in measures)
    return f"""
        INSERT INTO {table} AS s ({key}, {', '.join(measures)})
        SELECT {key}, {sums} FROM ({' UNION ALL '.join(parts)}) d
        GROUP BY {key} HAVING {nonzero} ORDER BY {key}
        ON CONFLICT ({key}) DO UPDATE SET {sets}"""


def _pg_function(name: str, table: str, key: str, measures: tuple[str, ...], contribution, cleanup: str) -> str:
    insert = _pg_upsert(table, key, measures, [contribution("new_rows", "1")])
    update = _pg_upsert(table, key, measures, [contribution("old_rows", "-1"), contribution("new_rows", "1")])
    delete = _pg_upsert(table, key, measures, [contribution("old_rows", "-1")])
    return f"""
        CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {insert};
            ELSIF TG_OP = 'UPDATE' THEN
                {update};
                {cleanup};
            ELSE
                {delete};
                {cleanup};
            END IF;
            RETURN NULL;
        END
        $body$"""


# Rows that count nothing any more (a pending report received, an obligation closed).
_PG_CASE_CLEANUP = """DELETE FROM case_summary s USING (SELECT DISTINCT institution, project FROM old_rows) o
                WHERE s.institution = o.institution AND s.project = o.project AND s.due <> '' AND s.pending = 0"""
_PG_OBLIGATION_CLEANUP = """DELETE FROM obligation_summary s
                WHERE s.n = 0 AND s.institution IN (SELECT DISTINCT COALESCE(institution, 0) FROM old_rows)"""

_PG_TRIGGERS = [
    ("case_summary_apply", "case_record", "case_summary", CASE_KEY, CASE_MEASURES, _pg_cases, _PG_CASE_CLEANUP),
    ("case_indicator_summary_apply", "case_record", "case_indicator_summary", INDICATOR_KEY, INDICATOR_MEASURES,
     _pg_indicators, "NULL"),
    ("obligation_summary_apply", "obligation", "obligation_summary", OBLIGATION_KEY, ("n",), _pg_obligations,
     _PG_OBLIGATION_CLEANUP),
]


def _pg_statements() -> list[str]:
    out = []
    for name, source, table, key, measures, contribution, cleanup in _PG_TRIGGERS:
        out.append(_pg_function(name, table, key, measures, contribution, cleanup))
        out.append(_pg_upsert(table, key, measures, [contribution(source, "1")]))  # the rows already there
        for event, referencing in (("INSERT", "NEW TABLE AS new_rows"),
                                   ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                                   ("DELETE", "OLD TABLE AS old_rows")):
            out.append(f"CREATE TRIGGER {name}_{event.lower()} AFTER {event} ON {source} "
                       f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
    return out


def _pg_backwards() -> list[str]:
    out = []
    for name, source, *_ in _PG_TRIGGERS:
        out += [f"DROP TRIGGER IF EXISTS {name}_{e} ON {source}" for e in ("insert", "update", "delete")]
        out.append(f"DROP FUNCTION IF EXISTS {name}()")
    return out


# ---------------------------------------------------------------- SQLite: row-level triggers


def _sqlite_upsert(table: str, key: str, measures: tuple[str, ...], select: str) -> str:
    sets = ", ".join(f"{m} = {m} + excluded.{m}" for m in measures)
    return (f"INSERT INTO {table} ({key}, {', '.join(measures)}) {select} "
            f"ON CONFLICT ({key}) DO UPDATE SET {sets};")


def _sqlite_cases(r: str, sign: str) -> list[str]:
    main = f"""SELECT {r}.institution, {r}.project, {r}.department, {r}.technology_code, {r}.technology_name,
               strftime('%Y-%m', {r}.operated_on), '', {sign},
               {sign} * (CASE WHEN {r}.complication THEN 1 ELSE 0 END),
               {sign} * (CASE WHEN {r}.adverse_event THEN 1 ELSE 0 END),
               {sign} * (CASE WHEN {r}.report_rule <> '' AND {r}.reported_on IS NOT NULL THEN 1 ELSE 0 END),
               {sign} * (CASE WHEN {r}.report_rule <> '' AND {r}.reported_on IS NOT NULL AND NOT {r}.report_late
                              THEN 1 ELSE 0 END), 0
               WHERE NOT {r}.voided"""
    pending = f"""SELECT {r}.institution, {r}.project, {r}.department, {r}.technology_code, {r}.technology_name,
               strftime('%Y-%m', {r}.operated_on), strftime('%Y-%m-%d', {r}.report_due_on), 0, 0, 0, 0, 0, {sign}
               WHERE NOT {r}.voided AND {r}.report_rule <> '' AND {r}.reported_on IS NULL
                     AND {r}.report_due_on IS NOT NULL"""
    indicators = f"""SELECT {r}.institution, {r}.project, {r}.department, {r}.technology_code,
               strftime('%Y-%m', {r}.operated_on), e.key,
               {sign} * (CASE WHEN e.value IS NOT NULL THEN 1 ELSE 0 END),
               {sign} * (CASE WHEN e.value = '1' THEN 1 ELSE 0 END),
               {sign} * COALESCE(CAST(e.value AS REAL), 0),
               {sign} * (CASE WHEN e.value IS NOT NULL THEN 1 ELSE 0 END)
               FROM json_each(CASE WHEN json_valid({r}.qc_values) AND json_type({r}.qc_values) = 'object'
                                   THEN {r}.qc_values ELSE '{{}}' END) e
               WHERE NOT {r}.voided"""
    return [_sqlite_upsert("case_summary", CASE_KEY, CASE_MEASURES, main),
            _sqlite_upsert("case_summary", CASE_KEY, CASE_MEASURES, pending),
            _sqlite_upsert("case_indicator_summary", INDICATOR_KEY, INDICATOR_MEASURES, indicators)]


def _sqlite_obligations(r: str, sign: str) -> list[str]:
    select = f"""SELECT COALESCE({r}.institution, 0), {r}.status, {r}.done_late,
               CASE WHEN {r}.status = 'open' THEN COALESCE(strftime('%Y-%m-%d', {r}.due_on), '') ELSE '' END, {sign}
               WHERE 1"""
    return [_sqlite_upsert("obligation_summary", OBLIGATION_KEY, ("n",), select)]


_SQLITE_CASE_CLEANUP = ("DELETE FROM case_summary WHERE institution IS OLD.institution AND project IS OLD.project "
                        "AND due <> '' AND pending = 0;")
_SQLITE_OBLIGATION_CLEANUP = ("DELETE FROM obligation_summary WHERE institution = COALESCE(OLD.institution, 0) "
                              "AND status = OLD.status AND n = 0;")
# The columns a case's contribution reads: other updates (follow-up, delivery id) fire nothing.
_CASE_COLUMNS = ("institution, project, department, technology_code, technology_name, operated_on, voided, "
                 "complication, adverse_event, report_rule, reported_on, report_late, report_due_on, qc_values")
_OBLIGATION_COLUMNS = "institution, status, done_late, due_on"


def _sqlite_statements() -> list[str]:
    out = []
    for name, source, contribution, cleanup, columns in (
            ("case_summary", "case_record", _sqlite_cases, _SQLITE_CASE_CLEANUP, _CASE_COLUMNS),
            ("obligation_summary", "obligation", _sqlite_obligations, _SQLITE_OBLIGATION_CLEANUP,
             _OBLIGATION_COLUMNS)):
        new, old = contribution("NEW", "1"), contribution("OLD", "-1")
        out.append(f"CREATE TRIGGER {name}_insert AFTER INSERT ON {source} BEGIN {' '.join(new)} END")
        out.append(f"CREATE TRIGGER {name}_update AFTER UPDATE OF {columns} ON {source} "
                   f"BEGIN {' '.join(old)} {' '.join(new)} {cleanup} END")
        out.append(f"CREATE TRIGGER {name}_delete AFTER DELETE ON {source} BEGIN {' '.join(old)} {cleanup} END")
    return out


def _sqlite_backfill() -> list[str]:
    """The rows already there (the PostgreSQL contribution queries read alike on SQLite but
    for the month and date formats, so they are spelled out here)."""
    def grouped(table, key, measures, select):
        sums = ", ".join(f"SUM({m})" for m in measures)
        return (f"INSERT INTO {table} ({key}, {', '.join(measures)}) SELECT {key}, {sums} FROM ({select}) "
                f"GROUP BY {key}")

    cases = f"""SELECT institution, project, department, technology_code, technology_name,
               strftime('%Y-%m', operated_on) AS month, '' AS due, 1 AS cases,
               CASE WHEN complication THEN 1 ELSE 0 END AS complications,
               CASE WHEN adverse_event THEN 1 ELSE 0 END AS adverse_events,
               CASE WHEN report_rule <> '' AND reported_on IS NOT NULL THEN 1 ELSE 0 END AS reported,
               CASE WHEN report_rule <> '' AND reported_on IS NOT NULL AND NOT report_late THEN 1 ELSE 0 END AS on_time,
               0 AS pending FROM case_record WHERE NOT voided
               UNION ALL
               SELECT institution, project, department, technology_code, technology_name,
               strftime('%Y-%m', operated_on), strftime('%Y-%m-%d', report_due_on), 0, 0, 0, 0, 0, 1
               FROM case_record WHERE NOT voided AND report_rule <> '' AND reported_on IS NULL
                     AND report_due_on IS NOT NULL"""
    indicators = """SELECT r.institution AS institution, r.project AS project, r.department AS department,
               r.technology_code AS technology_code, strftime('%Y-%m', r.operated_on) AS month, e.key AS name,
               CASE WHEN e.value IS NOT NULL THEN 1 ELSE 0 END AS recorded,
               CASE WHEN e.value = '1' THEN 1 ELSE 0 END AS ones,
               COALESCE(CAST(e.value AS REAL), 0) AS number_sum,
               CASE WHEN e.value IS NOT NULL THEN 1 ELSE 0 END AS number_count
               FROM case_record r, json_each(CASE WHEN json_valid(r.qc_values) AND json_type(r.qc_values) = 'object'
                                                  THEN r.qc_values ELSE '{}' END) e
               WHERE NOT r.voided"""
    obligations = """SELECT COALESCE(institution, 0) AS institution, status, done_late,
               CASE WHEN status = 'open' THEN COALESCE(strftime('%Y-%m-%d', due_on), '') ELSE '' END AS due,
               1 AS n FROM obligation"""
    return [grouped("case_summary", CASE_KEY, CASE_MEASURES, cases),
            grouped("case_indicator_summary", INDICATOR_KEY, INDICATOR_MEASURES, indicators),
            grouped("obligation_summary", OBLIGATION_KEY, ("n",), obligations)]


def _sqlite_backwards() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}_{event}" for name in ("case_summary", "obligation_summary")
            for event in ("insert", "update", "delete")]


async def _forwards_raw():
    engine = engine_finder()
    # A case of no project (or department) keeps NULL in its summary row's key; PostgreSQL 15
    # can make the key's NULLs one group (NULLS NOT DISTINCT). SQLite and older servers add
    # a row per such case instead — the sums read the same.
    nulls_one = ""
    if engine.engine_type != "sqlite":
        version = (await engine.run_ddl("SHOW server_version_num"))[0]["server_version_num"]
        nulls_one = " NULLS NOT DISTINCT" if int(version) >= 150000 else ""
    for name, target in INDEXES:
        unique = "UNIQUE " if name in _UNIQUE else ""
        tail = nulls_one if name in _UNIQUE else ""
        await engine.run_ddl(f"CREATE {unique}INDEX IF NOT EXISTS {name} ON {target}{tail}")
    if engine.engine_type == "sqlite":
        statements = _sqlite_backfill() + _sqlite_statements()
    else:
        statements = _pg_statements()
    for sql in statements:
        await engine.run_ddl(sql)


async def _backwards_raw():
    engine = engine_finder()
    for sql in _sqlite_backwards() if engine.engine_type == "sqlite" else _pg_backwards():
        await engine.run_ddl(sql)


class SummaryTables(MigrationManager):
    """Piccolo's table steps, then the indexes, the rows already there and the triggers
    (piccolo runs ``add_raw`` steps BEFORE creating tables), in one transaction."""

    async def run(self, backwards: bool = False):
        engine = engine_finder()
        async with engine.transaction():
            if backwards and not self.preview:
                await _backwards_raw()
            await super().run(backwards=backwards)
            if not backwards and not self.preview:
                await _forwards_raw()


async def forwards():
    manager = SummaryTables(
        migration_id=ID, app_name="clintech", description=DESCRIPTION
    )

    manager.add_table(
        class_name="CaseIndicatorSummary",
        tablename="case_indicator_summary",
        schema=None,
        columns=None,
    )

    manager.add_table(
        class_name="ObligationSummary",
        tablename="obligation_summary",
        schema=None,
        columns=None,
    )

    manager.add_table(
        class_name="CaseSummary",
        tablename="case_summary",
        schema=None,
        columns=None,
    )

    manager.add_column(
        table_class_name="CaseIndicatorSummary",
        tablename="case_indicator_summary",
        column_name="institution",
        db_column_name="institution",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseIndicatorSummary",
        tablename="case_indicator_summary",
        column_name="project",
        db_column_name="project",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseIndicatorSummary",
        tablename="case_indicator_summary",
        column_name="department",
        db_column_name="department",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseIndicatorSummary",
        tablename="case_indicator_summary",
        column_name="technology_code",
        db_column_name="technology_code",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 40,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseIndicatorSummary",
        tablename="case_indicator_summary",
        column_name="month",
        db_column_name="month",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 7,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseIndicatorSummary",
        tablename="case_indicator_summary",
        column_name="name",
        db_column_name="name",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 200,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseIndicatorSummary",
        tablename="case_indicator_summary",
        column_name="recorded",
        db_column_name="recorded",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseIndicatorSummary",
        tablename="case_indicator_summary",
        column_name="ones",
        db_column_name="ones",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseIndicatorSummary",
        tablename="case_indicator_summary",
        column_name="number_sum",
        db_column_name="number_sum",
        column_class_name="DoublePrecision",
        column_class=DoublePrecision,
        params={
            "default": 0.0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseIndicatorSummary",
        tablename="case_indicator_summary",
        column_name="number_count",
        db_column_name="number_count",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="ObligationSummary",
        tablename="obligation_summary",
        column_name="institution",
        db_column_name="institution",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="ObligationSummary",
        tablename="obligation_summary",
        column_name="status",
        db_column_name="status",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 10,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="ObligationSummary",
        tablename="obligation_summary",
        column_name="done_late",
        db_column_name="done_late",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": False,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="ObligationSummary",
        tablename="obligation_summary",
        column_name="due",
        db_column_name="due",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 10,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="ObligationSummary",
        tablename="obligation_summary",
        column_name="n",
        db_column_name="n",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseSummary",
        tablename="case_summary",
        column_name="institution",
        db_column_name="institution",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseSummary",
        tablename="case_summary",
        column_name="project",
        db_column_name="project",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseSummary",
        tablename="case_summary",
        column_name="department",
        db_column_name="department",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseSummary",
        tablename="case_summary",
        column_name="technology_code",
        db_column_name="technology_code",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 40,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseSummary",
        tablename="case_summary",
        column_name="technology_name",
        db_column_name="technology_name",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 200,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseSummary",
        tablename="case_summary",
        column_name="month",
        db_column_name="month",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 7,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseSummary",
        tablename="case_summary",
        column_name="due",
        db_column_name="due",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 10,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseSummary",
        tablename="case_summary",
        column_name="cases",
        db_column_name="cases",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseSummary",
        tablename="case_summary",
        column_name="complications",
        db_column_name="complications",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseSummary",
        tablename="case_summary",
        column_name="adverse_events",
        db_column_name="adverse_events",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseSummary",
        tablename="case_summary",
        column_name="reported",
        db_column_name="reported",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseSummary",
        tablename="case_summary",
        column_name="on_time",
        db_column_name="on_time",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CaseSummary",
        tablename="case_summary",
        column_name="pending",
        db_column_name="pending",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
