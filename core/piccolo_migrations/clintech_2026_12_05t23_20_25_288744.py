"""``institution_change`` (issue 15): a counter per institution raised by triggers in the
transaction of every write to what an institution's dashboard reads, so that a process
may keep the dashboard's figures until the counter moves (``core.dashboard.service``).
PostgreSQL: statement-level triggers over the transition tables (one upsert a statement,
institutions in order); SQLite: row-level triggers. Both the old and the new institution
of an updated row move. ``tests/test_dashboard_cache.py`` writes to every table below
and shows the counter move and the dashboard change."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

ID = "2026-12-05T23:20:25:288744"
VERSION = "1.38.0"
DESCRIPTION = "Institution change counters kept by triggers for the dashboard cache, issue 15"

# table -> how a row names its institution ({r}: the row, NEW/OLD or a transition table's alias)
WATCHED = {
    "admission_project": "{r}.institution",
    "admission_vote": "(SELECT p.institution FROM admission_project p WHERE p.id = {r}.project)",
    "panel_member": "(SELECT p.institution FROM admission_project p WHERE p.id = {r}.project)",
    "qc_annual_report": "{r}.institution",
    "qc_summary": "{r}.institution",
    "obligation": "{r}.institution",
    "risk_warning": "{r}.institution",
    "filing": "{r}.institution",
    "app_user": "{r}.institution",
    "institution": "{r}.id",
}


def _pg_bump(parts: list[str]) -> str:
    return f"""
        INSERT INTO institution_change AS c (institution, version)
        SELECT DISTINCT i, 1 FROM ({' UNION '.join(parts)}) s (i) WHERE i IS NOT NULL ORDER BY i
        ON CONFLICT (institution) DO UPDATE SET version = c.version + 1"""


def _pg_statements() -> list[str]:
    out = []
    for table, expression in WATCHED.items():
        new_rows = f"SELECT {expression.format(r='r')} FROM new_rows r"
        old_rows = f"SELECT {expression.format(r='r')} FROM old_rows r"
        name = f"institution_change_{table}"
        out.append(f"""
        CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {_pg_bump([new_rows])};
            ELSIF TG_OP = 'UPDATE' THEN
                {_pg_bump([old_rows, new_rows])};
            ELSE
                {_pg_bump([old_rows])};
            END IF;
            RETURN NULL;
        END
        $body$""")
        for event, referencing in (("INSERT", "NEW TABLE AS new_rows"),
                                   ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                                   ("DELETE", "OLD TABLE AS old_rows")):
            out.append(f"CREATE TRIGGER {name}_{event.lower()} AFTER {event} ON {table} "
                       f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
    return out


def _sqlite_bump(expression: str) -> str:
    return (f"INSERT INTO institution_change (institution, version) SELECT {expression}, 1 "
            f"WHERE {expression} IS NOT NULL ON CONFLICT (institution) DO UPDATE SET version = version + 1;")


def _sqlite_statements() -> list[str]:
    out = []
    for table, expression in WATCHED.items():
        new, old = _sqlite_bump(expression.format(r="NEW")), _sqlite_bump(expression.format(r="OLD"))
        name = f"institution_change_{table}"
        out.append(f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} BEGIN {new} END")
        out.append(f"CREATE TRIGGER {name}_update AFTER UPDATE ON {table} BEGIN {old} {new} END")
        out.append(f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table} BEGIN {old} END")
    return out


def _backwards_statements(sqlite: bool) -> list[str]:
    out = []
    for table in WATCHED:
        name = f"institution_change_{table}"
        out += [f"DROP TRIGGER IF EXISTS {name}_{e}{'' if sqlite else f' ON {table}'}"
                for e in ("insert", "update", "delete")]
        if not sqlite:
            out.append(f"DROP FUNCTION IF EXISTS {name}()")
    return out


class ChangeCounters(MigrationManager):
    """Piccolo's table steps, then the triggers, in one transaction."""

    async def run(self, backwards: bool = False):
        engine = engine_finder()
        sqlite = engine.engine_type == "sqlite"
        async with engine.transaction():
            if backwards and not self.preview:
                for sql in _backwards_statements(sqlite):
                    await engine.run_ddl(sql)
            await super().run(backwards=backwards)
            if not backwards and not self.preview:
                for sql in _sqlite_statements() if sqlite else _pg_statements():
                    await engine.run_ddl(sql)


async def forwards():
    manager = ChangeCounters(
        migration_id=ID, app_name="clintech", description=DESCRIPTION
    )

    manager.add_table(
        class_name="InstitutionChange",
        tablename="institution_change",
        schema=None,
        columns=None,
    )

    manager.add_column(
        table_class_name="InstitutionChange",
        tablename="institution_change",
        column_name="institution",
        db_column_name="institution",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": True,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="InstitutionChange",
        tablename="institution_change",
        column_name="version",
        db_column_name="version",
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
