"""Cases as a spreadsheet (XLSX or CSV): the template, reading an upload, one row → one
``CaseInput``. Pure apart from openpyxl; the rules stay in ``core.cases.rules``."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import msgspec

from core.cases.rules import OUTCOME_BY_LABEL, OUTCOMES, CaseInput, Indicator
from core.errors import DomainError, Problem
from core.exports import xlsx_bytes

# header → field; list fields are separated by 、 , ； or ;
COLUMNS = [
    ("医院病例号", "case_id", "本院唯一，重复上传同一病例不会重复登记"),
    ("患者匿名编号", "patient_key", "医院自行保管对照关系；不得填写姓名、身份证号、手机号"),
    ("入院日期", "admitted_on", "如 2026-03-01"),
    ("手术日期", "operated_on", "如 2026-03-02"),
    ("出院日期", "discharged_on", "如 2026-03-09"),
    ("术者工号", "operators", "本机构医师的登录名，多人用、分隔"),
    ("助手工号", "assistants", "可空，多人用、分隔"),
    ("适应症", "indication", ""),
    ("转归", "outcome", "、".join(OUTCOMES.values())),
    ("有无并发症", "complication", "是/否"),
    ("并发症情况", "complications", "有并发症时必填"),
    ("有无不良事件", "adverse_event", "是/否"),
    ("不良事件情况", "adverse_events", "有不良事件时必填"),
    ("随访情况", "follow_up", ""),
    ("已签署知情同意书", "consent", "是/否；未签署的病例不予登记（HOSP-18）"),
]
# Optional columns, after the QC columns (older files without them still import).
OPTIONAL_COLUMNS = [
    ("手术编码", "operation_code", "可空；本机构手术分级目录中的 ICD-9-CM-3 编码（NAT-16），按手术级别管理的技术据此确定是否属于限制类"),
]
QC_PREFIX = "质控:"
MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024


def headers(indicators: list[Indicator]) -> list[str]:
    return ([h for h, _, _ in COLUMNS] + [f"{QC_PREFIX}{i.name}" for i in indicators]
            + [h for h, _, _ in OPTIONAL_COLUMNS])


# Coded columns accept exactly these texts (the listed value or its code), nothing else:
# an unknown value is a row error, never coerced (issue 11: 转归 "很好" is not 其他).
YES_NO = {"是": True, "有": True, "1": True, "否": False, "无": False, "0": False}
DATE_FIELDS = ("admitted_on", "operated_on", "discharged_on")
FLAG_FIELDS = ("complication", "adverse_event", "consent")
TEMPLATE_ROWS = 1000  # rows of the template that carry the dropdowns and date formats


def template_xlsx(indicators: list[Indicator], title: str) -> bytes:
    """The upload template: the header row on sheet 1 with a dropdown on every coded
    column (转归, 是/否 columns, 是/否 indicators) and date cells (yyyy-mm-dd, date
    validation) for the dates; the explanations on sheet 2."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "病例"
    head = headers(indicators)
    ws.append(head)
    last = TEMPLATE_ROWS + 1

    def cells(index: int) -> str:
        letter = get_column_letter(index + 1)
        return f"{letter}2:{letter}{last}"

    def choice(values: list[str], prompt: str) -> DataValidation:
        dv = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True,
                            showErrorMessage=True, showInputMessage=True, errorTitle="取值不在列表中",
                            error=f"请从下拉列表中选择：{'、'.join(values)}", promptTitle="请选择", prompt=prompt)
        ws.add_data_validation(dv)
        return dv

    outcome = choice(list(OUTCOMES.values()), "转归")
    yes_no = choice(["是", "否"], "是或否")
    dates = DataValidation(type="date", operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2099,12,31)",
                           allow_blank=True, showErrorMessage=True, errorTitle="日期格式不正确",
                           error="请填写日期，如 2026-03-01", showInputMessage=True, promptTitle="日期",
                           prompt="如 2026-03-01")
    ws.add_data_validation(dates)
    kinds = {f"{QC_PREFIX}{i.name}": i.kind for i in indicators}
    for index, header in enumerate(head):
        field = dict((h, f) for h, f, _ in COLUMNS).get(header)
        if field == "outcome":
            outcome.add(cells(index))
        elif field in FLAG_FIELDS or kinds.get(header) == "rate":
            yes_no.add(cells(index))
        elif field in DATE_FIELDS:
            dates.add(cells(index))
            for row in range(2, last + 1):
                ws.cell(row=row, column=index + 1).number_format = "yyyy-mm-dd"
        ws.column_dimensions[get_column_letter(index + 1)].width = max(12, 2 * len(header) + 2)
    ws.freeze_panes = "A2"
    help_sheet = wb.create_sheet("填写说明")
    help_sheet.append(["列", "说明"])
    help_sheet.append(["技术", title])
    for header, _, note in COLUMNS + OPTIONAL_COLUMNS:
        help_sheet.append([header, note])
    for i in indicators:
        kind = {"rate": "是/否", "number": "数字", "text": "文字"}.get(i.kind, i.kind)
        help_sheet.append([f"{QC_PREFIX}{i.name}", f"{kind}{'；目标值 ' + i.target if i.target else ''}"])
    return xlsx_bytes(wb)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# An XLSX is a zip: a 636 KB upload expanded to 154 MB of sheet XML and froze the server
# (issue 12.1). Before any parsing, the archive's declared sizes and ratios are checked,
# then its real sizes (decompressed in a stream that stops at the cap); rows are streamed
# and reading stops at the row limit; the web layer runs all this in a worker thread.
MAX_UNCOMPRESSED = 40 * 1024 * 1024  # all members together, as declared and as read
MAX_RATIO = 150  # uncompressed / compressed, for members over RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
MAX_COLUMNS = 200
MAX_SCANNED_ROWS = MAX_ROWS * 3  # empty rows count too: a sheet of a million blank rows stops here


def check_archive(data: bytes) -> None:
    """Refuse a zip bomb before parsing: declared sizes, ratios, then the real sizes."""
    import zipfile

    too_big = DomainError(Problem(f"文件解压后过大（超过 {MAX_UNCOMPRESSED // (1024 * 1024)} MB）或压缩比异常，"
                                  "疑似恶意文件，未读取；请使用模板另存为普通 XLSX 后分批上传", "file"))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise DomainError(Problem("文件不是有效的 XLSX（请用 Excel 或 WPS 另存为 .xlsx）", "file")) from exc
    with archive:
        members = archive.infolist()
        if len(members) > 1000 or sum(m.file_size for m in members) > MAX_UNCOMPRESSED:
            raise too_big
        for member in members:
            if member.file_size > RATIO_FLOOR and member.file_size > MAX_RATIO * max(member.compress_size, 1):
                raise too_big
        # Declared sizes can lie: decompress every member in a stream, stopping at the cap.
        total = 0
        try:
            for member in members:
                with archive.open(member) as stream:
                    while chunk := stream.read(1024 * 1024):
                        total += len(chunk)
                        if total > MAX_UNCOMPRESSED:
                            raise too_big
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise DomainError(Problem(f"文件无法读取：{type(exc).__name__}", "file")) from exc


def _xlsx_table(data: bytes):
    """The first sheet's rows as lists of text, streamed (openpyxl's read-only mode)."""
    from openpyxl import load_workbook

    check_archive(data)
    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        ws.reset_dimensions()  # rows at their own length: no padding to a declared (forged) dimension
        for row in ws.iter_rows(values_only=True):
            yield [_cell(c) for c in row[:MAX_COLUMNS]]
    finally:
        wb.close()


def _csv_table(data: bytes):
    text = data.decode("utf-8-sig")
    for row in csv.reader(io.StringIO(text)):
        yield [c.strip() for c in row[:MAX_COLUMNS]]


def read_rows(filename: str, data: bytes) -> list[dict]:
    """Rows of an upload as ``[{"row": n, "values": {header: text}}]`` (n as the user sees
    it in the sheet, header = row 1). ``DomainError`` for an unreadable file, a zip bomb,
    or more than ``MAX_ROWS`` rows — found while streaming, reading stops there.
    CPU-bound: the web layer calls it in a worker thread, never on the event loop."""
    if len(data) > MAX_BYTES:
        raise DomainError(Problem("文件超过 5 MB，请分批上传", "file"))
    name = filename.lower()
    if name.endswith(".csv"):
        table = _csv_table(data)
    elif name.endswith(".xlsx"):
        table = _xlsx_table(data)
    else:
        raise DomainError(Problem("请上传 XLSX 或 CSV 文件（可先下载模板）", "file"))
    rows: list[dict] = []
    try:
        head = [h.strip() for h in next(table, [])]
        if not any(head):
            raise DomainError(Problem("文件为空：第 1 行应为模板表头", "file"))
        missing = [h for h, _, _ in COLUMNS if h not in head]
        if missing:
            raise DomainError(Problem(f"表头缺少列：{'、'.join(missing)}（请使用模板）", "file"))
        for number, cells in enumerate(table, start=2):
            if number > MAX_SCANNED_ROWS + 1:
                raise DomainError(Problem(f"每个文件最多 {MAX_ROWS} 行病例（空行过多，请删除后重试）", "file"))
            if not any(str(c).strip() for c in cells):
                continue
            rows.append({"row": number,
                         "values": {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(head) if h}})
            if len(rows) > MAX_ROWS:
                raise DomainError(Problem(f"每个文件最多 {MAX_ROWS} 行病例", "file"))
    except DomainError:
        raise
    except Exception as exc:  # any parser failure is the user's file, not our bug
        raise DomainError(Problem(f"文件无法读取：{type(exc).__name__}", "file")) from exc
    finally:
        table.close()
    return rows


def _split(text: str) -> list[str]:
    for sep in ("，", ",", "；", ";", " "):
        text = text.replace(sep, "、")
    return [p.strip() for p in text.split("、") if p.strip()]


def _date(text: str) -> dt.date | None:
    """A date as the template and people write it: 2026-03-01 or 2026/3/1 — nothing else
    (no trailing time or text cut away)."""
    parts = text.replace("/", "-").split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        return None
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


def row_to_case(values: dict[str, str], technology_code: str) -> tuple[CaseInput | None, list[Problem]]:
    """One row → a case, or the row's problems in Chinese naming the column. Coded columns
    take only their listed values or codes (NAT-37: reported data as recorded, HOSP-15:
    truthfully); anything else is a problem on the row, never a guessed value."""
    data: dict[str, Any] = {"technology_code": technology_code, "qc_values": {}}
    problems: list[Problem] = []
    by_header = {h: f for h, f, _ in COLUMNS}
    for header, field in by_header.items():
        text = str(values.get(header, "")).strip()
        if field in ("operators", "assistants"):
            data[field] = _split(text)
        elif field in FLAG_FIELDS:
            if text not in YES_NO:
                shown = f"现为“{text}”" if text else "未填写"
                problems.append(Problem(f"「{header}」应填写“是”或“否”（{shown}）", field,
                                        "HOSP-18" if field == "consent" else "HOSP-15"))
            else:
                data[field] = YES_NO[text]
        elif field == "outcome":
            if text in OUTCOME_BY_LABEL:
                data[field] = OUTCOME_BY_LABEL[text]
            elif text in OUTCOMES or not text:
                data[field] = text
            else:
                problems.append(Problem(f"「{header}」应为：{'、'.join(OUTCOMES.values())}（现为“{text}”）", field,
                                        "NAT-37"))
        elif field in DATE_FIELDS:
            day = _date(text)
            if day is None:
                problems.append(Problem(f"「{header}」应为日期，如 2026-03-01（现为“{text}”）", field, "NAT-37"))
            else:
                data[field] = day
        else:
            data[field] = text
    for header, field, _ in OPTIONAL_COLUMNS:
        data[field] = str(values.get(header, "")).strip()
    for header, value in values.items():
        if header.startswith(QC_PREFIX) and str(value).strip():
            data["qc_values"][header[len(QC_PREFIX):]] = str(value).strip()
    if problems:
        return None, problems
    return msgspec.convert(data, CaseInput), []
