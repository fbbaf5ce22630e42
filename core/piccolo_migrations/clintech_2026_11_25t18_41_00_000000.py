"""The regulator's case warnings (HN-3 late reports, HN-4.3 restricted cases without a
completed filing) read partial covering indexes: the late cases only, and the restricted
cases by project, so each warning query is an index-only scan of the cases it reports
(about 0.5 s → tens of ms each at 1,000 institutions / 1,000,000 cases).
Hand-written (piccolo cannot declare a partial or composite index); PostgreSQL and SQLite alike."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-25T18:41:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "partial covering indexes for the regulator's case warnings"

INDEXES = [
    ("case_record_late_warnings",
     "case_record (institution, technology_code, reported_on, technology_name) WHERE report_late"),
    ("case_record_restricted_by_project",
     "case_record (project, institution, technology_code, operated_on, technology_name)"
     " WHERE tech_class = 'restricted'"),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="clintech", description=DESCRIPTION)

    async def create():
        from core.cases.tables import CaseRecord

        for name, target in INDEXES:
            await CaseRecord.raw(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")

    async def drop():
        from core.cases.tables import CaseRecord

        for name, _ in INDEXES:
            await CaseRecord.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
