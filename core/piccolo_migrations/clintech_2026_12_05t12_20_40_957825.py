from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from enum import Enum
from piccolo.columns.column_types import Varchar

ID = "2026-12-05T12:20:40:957825"
VERSION = "1.38.0"
DESCRIPTION = "Status columns of eight tables declare their area enum as choices (case_import, region_suspension, risk_warning, evaluation, data_request, physician_authorisation, training_review, obligation_summary); no column change"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="clintech", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="CaseImport",
        tablename="case_import",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "ImportStatus",
                {
                    "queued": "queued",
                    "running": "running",
                    "done": "done",
                    "failed": "failed",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="RegionSuspension",
        tablename="region_suspension",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "SuspensionStatus", {"active": "active", "lifted": "lifted"}
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="RiskWarning",
        tablename="risk_warning",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "WarningStatus",
                {
                    "raised": "raised",
                    "seen": "seen",
                    "explained": "explained",
                    "corrected": "corrected",
                    "escalated": "escalated",
                    "closed": "closed",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Evaluation",
        tablename="evaluation",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "EvaluationStatus",
                {
                    "investigating": "investigating",
                    "panel": "panel",
                    "concluded": "concluded",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="DataRequest",
        tablename="data_request",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "DataRequestStatus", {"open": "open", "answered": "answered"}
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Authorisation",
        tablename="physician_authorisation",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "AuthorisationStatus",
                {
                    "active": "active",
                    "suspended": "suspended",
                    "revoked": "revoked",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="TrainingReview",
        tablename="training_review",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "ReviewStatus",
                {
                    "submitted": "submitted",
                    "passed": "passed",
                    "reviewed": "reviewed",
                    "failed": "failed",
                    "listed": "listed",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="ObligationSummary",
        tablename="obligation_summary",
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
