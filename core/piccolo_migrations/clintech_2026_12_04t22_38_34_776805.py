from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import Varchar

ID = "2026-12-04T22:38:34:776805"
VERSION = "1.38.0"
DESCRIPTION = "Drop the four single-column case indexes the composite (column, operated_on) indexes supersede"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="clintech", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="CaseRecord",
        tablename="case_record",
        column_name="institution",
        db_column_name="institution",
        params={"index": False},
        old_params={"index": True},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    manager.alter_column(
        table_class_name="CaseRecord",
        tablename="case_record",
        column_name="project",
        db_column_name="project",
        params={"index": False},
        old_params={"index": True},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    manager.alter_column(
        table_class_name="CaseRecord",
        tablename="case_record",
        column_name="department",
        db_column_name="department",
        params={"index": False},
        old_params={"index": True},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    manager.alter_column(
        table_class_name="CaseRecord",
        tablename="case_record",
        column_name="technology_code",
        db_column_name="technology_code",
        params={"index": False},
        old_params={"index": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
