"""Statuses as enums: ``admission_project.status`` (ProjectStatus), ``ethics_status``
(EthicsStatus), ``admission_round.status`` (RoundStatus) and ``filing.status``
(FilingStatus) declare their choices, the enum.StrEnum the services, structs and labels
use. Only piccolo's record of the columns changes; no SQL, no data.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from enum import Enum
from piccolo.columns.column_types import Varchar

ID = "2026-12-04T16:56:03:379892"
VERSION = "1.38.0"
DESCRIPTION = "Admission project, ethics and round statuses and filing statuses declare their enum choices (no column change)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="clintech", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="AdmissionRound",
        tablename="admission_round",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum("RoundStatus", {"open": "open", "closed": "closed"})
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Project",
        tablename="admission_project",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "ProjectStatus",
                {
                    "draft": "draft",
                    "in_review": "in_review",
                    "returned": "returned",
                    "rejected": "rejected",
                    "withdrawn": "withdrawn",
                    "admitted": "admitted",
                    "cancelled": "cancelled",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Project",
        tablename="admission_project",
        column_name="ethics_status",
        db_column_name="ethics_status",
        params={
            "choices": Enum(
                "EthicsStatus",
                {
                    "pending": "pending",
                    "approved": "approved",
                    "deferred": "deferred",
                    "rejected": "rejected",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Filing",
        tablename="filing",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "FilingStatus",
                {
                    "open": "open",
                    "submitted": "submitted",
                    "returned": "returned",
                    "completed": "completed",
                    "withdrawal_requested": "withdrawal_requested",
                    "withdrawn": "withdrawn",
                    "cancelled": "cancelled",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
