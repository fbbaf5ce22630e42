"""``obligation_year_summary`` (issue 14): obligations per institution × kind × year of
the due date × status (× ``done_late``; × due date for open ones), filled from the rows
already there and kept by triggers on ``obligation`` in the transaction of every write —
as ``obligation_summary`` is (migration 2026-12-05T08:30, whose pattern this follows:
PostgreSQL statement-level triggers over the transition tables, SQLite row-level
triggers). The region's credit scores read it; ``tests/test_summaries.py`` proves it
equals the raw aggregation on both databases."""

from enum import Enum

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean, Integer, Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

ID = "2026-12-05T22:52:56:471389"
VERSION = "1.38.0"
DESCRIPTION = "Obligation summary by kind and year for the credit scores of a region, issue 14"

KEY = "institution, kind, year, status, done_late, due"
# Read by tests/test_migrations.py: this index exists with this key.
INDEXES = [("obligation_year_summary_key", f"obligation_year_summary ({KEY})")]
_COLUMNS = "institution, kind, status, done_late, due_on"


def _pg_rows(rows: str, sign: str) -> str:
    return f"""
        SELECT COALESCE(institution, 0) AS institution, kind, COALESCE(to_char(due_on, 'YYYY'), '') AS year,
               status, done_late,
               CASE WHEN status = 'open' THEN COALESCE(to_char(due_on, 'YYYY-MM-DD'), '') ELSE '' END AS due,
               {sign} AS n
        FROM {rows}"""


def _pg_upsert(parts: list[str]) -> str:
    """One upsert of the summed contributions, skipping groups that sum to nothing, in key
    order (concurrent writers lock alike)."""
    return f"""
        INSERT INTO obligation_year_summary AS s ({KEY}, n)
        SELECT {KEY}, SUM(n) FROM ({' UNION ALL '.join(parts)}) d
        GROUP BY {KEY} HAVING SUM(n) <> 0 ORDER BY {KEY}
        ON CONFLICT ({KEY}) DO UPDATE SET n = s.n + EXCLUDED.n"""


_PG_CLEANUP = """DELETE FROM obligation_year_summary s
                WHERE s.n = 0 AND s.institution IN (SELECT DISTINCT COALESCE(institution, 0) FROM old_rows)"""


def _pg_statements() -> list[str]:
    function = f"""
        CREATE OR REPLACE FUNCTION obligation_year_summary_apply() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {_pg_upsert([_pg_rows("new_rows", "1")])};
            ELSIF TG_OP = 'UPDATE' THEN
                {_pg_upsert([_pg_rows("old_rows", "-1"), _pg_rows("new_rows", "1")])};
                {_PG_CLEANUP};
            ELSE
                {_pg_upsert([_pg_rows("old_rows", "-1")])};
                {_PG_CLEANUP};
            END IF;
            RETURN NULL;
        END
        $body$"""
    out = [function, _pg_upsert([_pg_rows("obligation", "1")])]  # the rows already there
    for event, referencing in (("INSERT", "NEW TABLE AS new_rows"),
                               ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                               ("DELETE", "OLD TABLE AS old_rows")):
        out.append(f"CREATE TRIGGER obligation_year_summary_{event.lower()} AFTER {event} ON obligation "
                   f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION obligation_year_summary_apply()")
    return out


def _sqlite_row(r: str, sign: str) -> str:
    return (f"INSERT INTO obligation_year_summary ({KEY}, n) "
            f"SELECT COALESCE({r}.institution, 0), {r}.kind, COALESCE(strftime('%Y', {r}.due_on), ''), {r}.status, "
            f"{r}.done_late, CASE WHEN {r}.status = 'open' THEN COALESCE(strftime('%Y-%m-%d', {r}.due_on), '') "
            f"ELSE '' END, {sign} WHERE 1 ON CONFLICT ({KEY}) DO UPDATE SET n = n + excluded.n;")


_SQLITE_CLEANUP = ("DELETE FROM obligation_year_summary WHERE institution = COALESCE(OLD.institution, 0) "
                   "AND kind = OLD.kind AND n = 0;")


def _sqlite_statements() -> list[str]:
    backfill = f"""INSERT INTO obligation_year_summary ({KEY}, n)
        SELECT {KEY}, SUM(n) FROM (
            SELECT COALESCE(institution, 0) AS institution, kind, COALESCE(strftime('%Y', due_on), '') AS year,
                   status, done_late,
                   CASE WHEN status = 'open' THEN COALESCE(strftime('%Y-%m-%d', due_on), '') ELSE '' END AS due,
                   1 AS n FROM obligation) GROUP BY {KEY}"""
    new, old = _sqlite_row("NEW", "1"), _sqlite_row("OLD", "-1")
    return [backfill,
            f"CREATE TRIGGER obligation_year_summary_insert AFTER INSERT ON obligation BEGIN {new} END",
            f"CREATE TRIGGER obligation_year_summary_update AFTER UPDATE OF {_COLUMNS} ON obligation "
            f"BEGIN {old} {new} {_SQLITE_CLEANUP} END",
            f"CREATE TRIGGER obligation_year_summary_delete AFTER DELETE ON obligation BEGIN {old} {_SQLITE_CLEANUP} END"]


def _backwards_statements(sqlite: bool) -> list[str]:
    drops = [f"DROP TRIGGER IF EXISTS obligation_year_summary_{e}{'' if sqlite else ' ON obligation'}"
             for e in ("insert", "update", "delete")]
    return drops + ([] if sqlite else ["DROP FUNCTION IF EXISTS obligation_year_summary_apply()"])


class YearSummary(MigrationManager):
    """Piccolo's table steps, then the index, the rows already there and the triggers, in
    one transaction (piccolo runs ``add_raw`` steps before creating tables)."""

    async def run(self, backwards: bool = False):
        engine = engine_finder()
        sqlite = engine.engine_type == "sqlite"
        async with engine.transaction():
            if backwards and not self.preview:
                for sql in _backwards_statements(sqlite):
                    await engine.run_ddl(sql)
            await super().run(backwards=backwards)
            if not backwards and not self.preview:
                nulls_one = ""
                if not sqlite:
                    version = (await engine.run_ddl("SHOW server_version_num"))[0]["server_version_num"]
                    nulls_one = " NULLS NOT DISTINCT" if int(version) >= 150000 else ""
                for name, target in INDEXES:
                    await engine.run_ddl(f"CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {target}{nulls_one}")
                for sql in _sqlite_statements() if sqlite else _pg_statements():
                    await engine.run_ddl(sql)


async def forwards():
    manager = YearSummary(
        migration_id=ID, app_name="clintech", description=DESCRIPTION
    )

    manager.add_table(
        class_name="ObligationYearSummary",
        tablename="obligation_year_summary",
        schema=None,
        columns=None,
    )

    manager.add_column(
        table_class_name="ObligationYearSummary",
        tablename="obligation_year_summary",
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
        table_class_name="ObligationYearSummary",
        tablename="obligation_year_summary",
        column_name="kind",
        db_column_name="kind",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 60,
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
        table_class_name="ObligationYearSummary",
        tablename="obligation_year_summary",
        column_name="year",
        db_column_name="year",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 4,
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
        table_class_name="ObligationYearSummary",
        tablename="obligation_year_summary",
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
            "choices": Enum(
                "ObligationStatus",
                {
                    "open": "open",
                    "done": "done",
                    "waived": "waived",
                    "exempt": "exempt",
                },
            ),
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="ObligationYearSummary",
        tablename="obligation_year_summary",
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
        table_class_name="ObligationYearSummary",
        tablename="obligation_year_summary",
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
        table_class_name="ObligationYearSummary",
        tablename="obligation_year_summary",
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

    return manager
