from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from enum import Enum
from piccolo.columns.column_types import Varchar

ID = "2026-12-05T08:26:39:884309"
VERSION = "1.38.0"
DESCRIPTION = "Obligation status declares its enum choices (no column change)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="clintech", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Obligation",
        tablename="obligation",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "ObligationStatus",
                {
                    "open": "open",
                    "done": "done",
                    "waived": "waived",
                    "exempt": "exempt",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
