"""Read models of cases (what the case pages show), typed, and the status of a spreadsheet import."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

import msgspec

from core.errors import Problem

if TYPE_CHECKING:
    from core.outbox.service import DeliveryView


class ImportStatus(enum.StrEnum):
    """A spreadsheet upload's progress (``CaseImport.status``): queued, checked row by row,
    then every row imported (done) or none, with the rows' problems (failed)."""

    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"

    @property
    def label(self) -> str:
        return IMPORT_STATUS_LABELS[self]


IMPORT_STATUS_LABELS = {ImportStatus.queued: "等待校验", ImportStatus.running: "正在校验", ImportStatus.done: "导入完成",
                        ImportStatus.failed: "文件未导入"}


class ImportJob(msgspec.Struct, frozen=True):
    """A spreadsheet import as its page shows it (``service.get_import``): its progress in
    percent while it is checked, then what was imported or every row's problem."""

    id: int
    filename: str
    status: ImportStatus
    total: int
    checked: int
    imported: int
    problems: list[Problem]
    percent: int


class ReportState(msgspec.Struct, frozen=True):
    """How a case's report stands, honestly: ``key`` (on_time, late, partial, sent,
    package_ready, rejected, failed, pending, no_channel, none), its Chinese ``label``,
    whether it is (or is now) late, and the receipt numbers once every platform gave one."""

    key: str
    label: str
    late: bool = False
    receipt: str = ""


class ChannelReport(msgspec.Struct, frozen=True):
    """A case's report to ONE platform (NAT-36, NAT-37: the national and the provincial
    platform each get it): its delivery, the platform's receipt and when it came
    (Beijing date), and whether that was within the case's reporting deadline."""

    delivery_id: int
    channel: str
    channel_name: str
    status: str
    status_label: str
    receipt_id: str = ""
    received_on: dt.date | None = None
    late: bool = False


class CasePage(msgspec.Struct, frozen=True):
    """Everything a case's page shows (``service.case_view``). ``case`` is the case's row
    (with its institution, department and project columns and the operators' names)."""

    case: dict[str, Any]
    report: ReportState
    reports: list[ChannelReport]
    deliveries: list[DeliveryView]
    history: list[dict[str, Any]]
    may_correct: bool
    may_follow_up: bool

    def context(self) -> dict[str, Any]:
        """The page's template variables."""
        return {f: getattr(self, f) for f in self.__struct_fields__}
