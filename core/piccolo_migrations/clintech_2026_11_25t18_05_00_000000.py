"""Indexes the QC figures, the regulator's dashboard and the case warnings need at scale
(1,000 institutions, 1,000,000 cases): composite and partial indexes piccolo cannot
declare on a column. Hand-written; runs on PostgreSQL and SQLite alike."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-25T18:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "case and QC indexes for scale"

INDEXES = [
    ("case_record_institution_operated_on", "case_record (institution, operated_on)"),
    ("case_record_code_operated_on", "case_record (technology_code, operated_on)"),
    ("case_record_project_operated_on", "case_record (project, operated_on)"),
    ("case_record_department_operated_on", "case_record (department, operated_on)"),
    ("case_record_late", "case_record (institution, technology_code) WHERE report_late"),
    ("case_record_restricted", "case_record (project) WHERE tech_class = 'restricted'"),
    ("obligation_institution_status_due", "obligation (institution, status, due_on)"),
    ("filing_project_status", "filing (project, status)"),
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
