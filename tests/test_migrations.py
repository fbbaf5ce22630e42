"""The Table classes and the migrations agree: a table change without its migration (or a
migration that drifts from the tables) fails here, on SQLite and on PostgreSQL.

Two views of the same question:
* piccolo's own schema diff (what ``make migration`` would generate) is empty;
* the migrated database has exactly the tables' columns, with their types and NULL-ness,
  an index for every ``index=True`` column, a unique constraint for every ``unique=True``
  one, and the initial migration's composite and partial indexes.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.columns import ForeignKey, Serial

from core.db import engine, is_sqlite
from core.piccolo_app import APP_CONFIG


def _initial_indexes() -> list[tuple[str, str]]:
    import core.piccolo_migrations as package

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found += getattr(module, "INDEXES", [])
    return found


async def test_piccolo_schema_diff_is_empty():
    """What ``make migration`` would write for the current tables: nothing."""
    statements = await AutoMigrationManager(auto_input="y").get_alter_statements(app_config=APP_CONFIG)
    pending = [s for group in statements for s in group.statements]
    assert pending == [], "Table classes changed without a migration (make migration DESC=…):\n" + "\n".join(pending)


async def _db_columns(table: str) -> dict[str, tuple[str, bool]]:
    """column -> (type as the tables would declare it, nullable)."""
    if is_sqlite():
        rows = await engine().run_ddl(f"SELECT name, type, \"notnull\" AS nn, pk FROM pragma_table_info('{table}')")
        return {r["name"]: (r["type"].upper(), not (r["nn"] or r["pk"])) for r in rows}
    rows = await engine().run_ddl(
        "SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS nn "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE n.nspname = 'public' AND c.relname = '{table}' AND a.attnum > 0 AND NOT a.attisdropped"
    )
    return {r["name"]: (r["type"], not r["nn"]) for r in rows}


def _declared_type(column) -> str:
    declared = "INTEGER" if isinstance(column, Serial | ForeignKey) else column.column_type
    if is_sqlite():
        return declared.upper()
    declared = declared.lower()
    if match := re.fullmatch(r"varchar\((\d+)\)", declared):
        return f"character varying({match.group(1)})"
    return {"timestamptz": "timestamp with time zone"}.get(declared, declared)


async def _db_indexes(table: str) -> dict[str, tuple[list[str], bool]]:
    """index name -> (its key columns in order, unique)."""
    if is_sqlite():
        out = {}
        for idx in await engine().run_ddl(f"SELECT name, \"unique\" AS u FROM pragma_index_list('{table}')"):
            cols = await engine().run_ddl(f"SELECT name FROM pragma_index_info('{idx['name']}') ORDER BY seqno")
            out[idx["name"]] = ([c["name"] for c in cols], bool(idx["u"]))
        return out
    rows = await engine().run_ddl(
        "SELECT i.relname AS name, x.indisunique AS u, "
        "array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(attnum, n) "
        "      JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.n) AS cols "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        f"WHERE t.relname = '{table}'"
    )
    return {r["name"]: (list(r["cols"]), bool(r["u"])) for r in rows}


@pytest.mark.parametrize("table", APP_CONFIG.table_classes, ids=lambda t: t._meta.tablename)
async def test_migrated_table_matches_its_class(deployment, table):
    name = table._meta.tablename
    db_columns = await _db_columns(name)
    declared = {c._meta.db_column_name: c for c in table._meta.columns}
    assert sorted(db_columns) == sorted(declared), f"{name}: columns differ from the Table class"
    for column_name, column in declared.items():
        db_type, db_null = db_columns[column_name]
        assert db_type == _declared_type(column), f"{name}.{column_name}: type {db_type}"
        if not column._meta.primary_key:
            assert db_null == column._meta.null, f"{name}.{column_name}: nullable {db_null}"
    indexes = await _db_indexes(name)
    for column_name, column in declared.items():
        if column._meta.index:
            assert any(cols[:1] == [column_name] and not unique for cols, unique in indexes.values()), \
                f"{name}.{column_name}: index=True but no index in the database"
        if column._meta.unique:
            assert any(cols == [column_name] and unique for cols, unique in indexes.values()), \
                f"{name}.{column_name}: unique=True but no unique index in the database"
    # No single-column index the class does not declare (a forgotten drop).
    for index_name, (cols, unique) in indexes.items():
        if len(cols) == 1 and not unique and index_name in {f"{name}_{c}" for c in declared}:
            assert declared[cols[0]]._meta.index, f"{index_name}: index in the database, not on the class"


async def test_initial_migration_indexes_exist(deployment):
    expected = _initial_indexes()
    assert expected, "the initial migration lists its composite and partial indexes"
    for index_name, target in expected:
        table = target.split(" ", 1)[0]
        key = [c.strip() for c in target[target.index("(") + 1 : target.index(")")].split(",")]
        indexes = await _db_indexes(table)
        assert indexes.get(index_name, (None,))[0] == key, f"{index_name} missing or not on {key}"


def test_every_migration_says_what_it_changes_and_the_script_passes_the_words_as_one_argument():
    """Issue 9 §5: piccolo's CLI reads ``--desc VALUE`` as a flag, which once described eight
    migrations as "True"; scripts/new_migration.sh passes ``--desc=…`` as one argument, and
    every migration has words of its own."""
    from pathlib import Path

    import core.piccolo_migrations as package

    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        description = str(getattr(module, "DESCRIPTION", "")).strip()
        assert description not in ("", "True", "False") and len(description) >= 5, (info.name, description)
    script = (Path(__file__).resolve().parent.parent / "scripts" / "new_migration.sh").read_text(encoding="utf-8")
    commands = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))
    assert '"--desc=$desc"' in commands and "--desc " not in commands
