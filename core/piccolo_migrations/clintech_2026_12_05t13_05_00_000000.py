"""Indexes of the regulator's pages at 1,000 institutions / 1,000,000 cases (issues 14, 15),
found with EXPLAIN ANALYZE on ``bench/scale.py --keep-db``'s database:

* ``case_record_deaths``: a technology's deaths per institution (the funnel plot of
  mortality, ``core.supervision.funnel``; its cases and complications come from
  ``case_summary``) — a partial index of the deaths only, its predicate word for word;
* ``case_record_restricted_first``: an institution's first restricted case (the credit
  score's disclosure item, ``core.supervision.credit``) — one index probe per institution
  instead of reading every restricted case of the region;
* ``obligation_due_counts``: the obligations falling due in a year per institution, kind,
  status and lateness (the region's credit scores) — read from the index alone.

No column changes."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T13:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Indexes of the regulator's pages at scale (funnel deaths, first restricted case, obligations by due date)"

_INDEXES = [
    ("case_record_deaths", "case_record (technology_code, institution)",
     "NOT voided AND (outcome = 'death' OR followup_died)"),
    ("case_record_restricted_first", "case_record (institution, operated_on)",
     "tech_class = 'restricted' AND NOT voided"),
    ("obligation_due_counts", "obligation (due_on, institution, kind, status, done_late)", ""),
]

# Read by tests/test_migrations.py: these indexes exist with this key.
INDEXES = [(name, f"{target} WHERE {where}" if where else target) for name, target, where in _INDEXES]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="clintech", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for name, target, where in _INDEXES:
            await engine.run_ddl(f"CREATE INDEX IF NOT EXISTS {name} ON {target}" + (f" WHERE {where}" if where else ""))

    async def run_backwards():
        engine = engine_finder()
        for name, _, _ in _INDEXES:
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
