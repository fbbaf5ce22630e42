from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Date
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-05T09:03:12:362963"
VERSION = "1.38.0"
DESCRIPTION = "admission project restricted_from (EVAL-8 reclassification)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="clintech", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Project",
        tablename="admission_project",
        column_name="restricted_from",
        db_column_name="restricted_from",
        column_class_name="Date",
        column_class=Date,
        params={
            "default": None,
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

    return manager
