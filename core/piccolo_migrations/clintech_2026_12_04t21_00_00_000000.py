"""Voided cases count nowhere (NAT-37): the two partial indexes behind the regulator's case
warnings leave them out, so the warnings' queries (which now skip voided cases) still read
the index only. No column changes."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-04T21:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Case-warning indexes leave voided cases out"

# (name, table and key, predicate before, predicate now)
_CHANGED = [
    ("case_record_late_warnings",
     "case_record (institution, technology_code, reported_on, technology_name)",
     "report_late", "report_late AND NOT voided"),
    ("case_record_restricted_by_project",
     "case_record (project, institution, technology_code, operated_on, technology_name)",
     "tech_class = 'restricted'", "tech_class = 'restricted' AND NOT voided"),
]

# Read by tests/test_migrations.py: these indexes exist with this key.
INDEXES = [(name, f"{target} WHERE {now}") for name, target, _, now in _CHANGED]


async def _rebuild(predicate_index: int) -> None:
    engine = engine_finder()
    for entry in _CHANGED:
        name, target = entry[0], entry[1]
        await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")
        await engine.run_ddl(f"CREATE INDEX {name} ON {target} WHERE {entry[predicate_index]}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="clintech", description=DESCRIPTION)

    async def run():
        await _rebuild(3)

    async def run_backwards():
        await _rebuild(2)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
