"""Drop two indexes of ``obligation`` that composite indexes already lead with (issue 15):
``obligation_institution`` (``obligation_institution_counts`` is institution, status,
due_on, done_late) and ``obligation_due_on`` (``obligation_due_counts`` is due_on,
institution, kind, status, done_late). Every batch of cases writes two obligations a case,
and each index is maintained by every write. No column changes."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Date
from piccolo.columns.column_types import ForeignKey

ID = "2026-12-06T02:53:17:766307"
VERSION = "1.38.0"
DESCRIPTION = "Drop the obligation indexes on institution and on due_on alone - the composite indexes obligation_institution_counts and obligation_due_counts lead with the same column"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="clintech", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Obligation",
        tablename="obligation",
        column_name="institution",
        db_column_name="institution",
        params={"index": False},
        old_params={"index": True},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Obligation",
        tablename="obligation",
        column_name="due_on",
        db_column_name="due_on",
        params={"index": False},
        old_params={"index": True},
        column_class=Date,
        old_column_class=Date,
        schema=None,
    )

    return manager
