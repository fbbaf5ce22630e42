"""Statuses as enums, continued: ``delivery.status`` (DeliveryStatus, core.outbox.rules),
``qc_annual_report.status`` (ReportStatus) and ``qc_summary.status`` (SummaryStatus,
core.qc.schemas) declare their choices. Only piccolo's record of the columns changes;
no SQL, no data.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from enum import Enum
from piccolo.columns.column_types import Varchar

ID = "2026-12-04T17:34:55:686545"
VERSION = "1.38.0"
DESCRIPTION = "Delivery, QC report and QC summary statuses declare their enum choices (no column change)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="clintech", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Delivery",
        tablename="outbox_delivery",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "DeliveryStatus",
                {
                    "queued": "queued",
                    "sending": "sending",
                    "sent": "sent",
                    "accepted": "accepted",
                    "failed": "failed",
                    "needs_attention": "needs_attention",
                    "rejected": "rejected",
                    "package_ready": "package_ready",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="QcAnnualReport",
        tablename="qc_annual_report",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "ReportStatus",
                {
                    "draft": "draft",
                    "submitted": "submitted",
                    "dept_reviewed": "dept_reviewed",
                    "approved": "approved",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="QcSummary",
        tablename="qc_summary",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "SummaryStatus",
                {
                    "draft": "draft",
                    "submitted": "submitted",
                    "decided": "decided",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
