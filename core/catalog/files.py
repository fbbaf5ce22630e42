"""Catalogue files that people exchange: the XLSX export of a view, the import template,
and reading an uploaded XLSX/CSV (type checked by content, size limited)."""

from __future__ import annotations

import csv
import io
import zipfile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from core.catalog.schemas import CLASS_LABELS, SCOPE_LABELS, TechnologyRef
from core.catalog.service import IMPORT_HEADERS
from core.errors import DomainError, Problem
from core.exports import csv_bytes, xlsx_bytes

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

EXPORT_HEADERS = ["编码", "技术名称", "类别", "范围", "目录版本", "施行日期", "废止日期", "手术级别限制",
                  "管理规范", "质控指标", "备注"]


def _levels(levels: tuple[int, ...]) -> str:
    words = {1: "一", 2: "二", 3: "三", 4: "四"}
    return "、".join(words[level] for level in levels) + "级手术" if levels else ""


def export_xlsx(technologies: list[TechnologyRef], *, title: str = "技术目录") -> bytes:
    """The rows of a catalogue view as an XLSX workbook with Chinese headers."""
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(EXPORT_HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for t in technologies:
        ws.append([t.code, t.name, CLASS_LABELS.get(t.tech_class, t.tech_class), SCOPE_LABELS.get(t.scope, t.scope),
                   t.edition_title, t.effective_on.isoformat() if t.effective_on else "",
                   t.superseded_on.isoformat() if t.superseded_on else "", _levels(t.surgery_levels),
                   t.specification, "；".join(i.name for i in t.qc_indicators), t.note])
    for column, width in zip("ABCDEFGHIJK", (8, 36, 8, 8, 36, 12, 12, 14, 50, 30, 30), strict=True):
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "A2"
    return xlsx_bytes(wb)


TEMPLATE_EXAMPLE = ["H01", "（示例）某省级限制类技术", "限制类", "三、四级", "该技术临床应用管理规范", "指标一；指标二", ""]


def template_xlsx() -> bytes:
    """The import template: the headers, one example row to replace, and the rules."""
    wb = Workbook()
    ws = wb.active
    ws.title = "目录"
    ws.append(list(IMPORT_HEADERS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.append(TEMPLATE_EXAMPLE)
    notes = wb.create_sheet("填写说明")
    for line in ("第一行为表头，请勿修改；从第二行起每行一项技术（示例行请替换）。",
                 "编码、技术名称必填；同一文件内编码不得重复。",
                 "类别：禁止类 / 限制类 / 常规类（留空按限制类）。",
                 "手术级别限制：如“三、四级”，无限制留空。质控指标：多个以“；”分隔。",
                 "任何一行有误，整个文件都不会导入。"):
        notes.append([line])
    return xlsx_bytes(wb)


def template_csv() -> bytes:
    return csv_bytes([list(IMPORT_HEADERS), TEMPLATE_EXAMPLE])


def _problem(message: str) -> DomainError:
    return DomainError(Problem(message, "file"))


def _rows_from_matrix(matrix: list[list[object]]) -> list[tuple[int, dict]]:
    """Header row → field names; every later non-empty row → ``(row number, values)``."""
    if not matrix:
        raise _problem("文件是空的")
    header = [str(c or "").strip() for c in matrix[0]]
    unknown = [h for h in header if h and h not in IMPORT_HEADERS]
    if unknown:
        raise _problem(f"第 1 行表头有无法识别的列：{'、'.join(unknown)}（请使用模板的表头）")
    for required in ("编码", "技术名称"):
        if required not in header:
            raise _problem(f"第 1 行表头缺少「{required}」列（请使用模板的表头）")
    rows = []
    for number, values in enumerate(matrix[1:], start=2):
        cells = {IMPORT_HEADERS[h]: ("" if v is None else str(v).strip())
                 for h, v in zip(header, values, strict=False) if h}
        if any(cells.values()):
            rows.append((number, cells))
    if len(rows) > MAX_ROWS:
        raise _problem(f"文件超过 {MAX_ROWS} 行")
    return rows


def read_table(filename: str, content: bytes) -> list[tuple[int, dict]]:
    """An uploaded catalogue (XLSX or CSV) as rows, by the template's headers."""
    return _rows_from_matrix(read_matrix(filename, content))


def read_matrix(filename: str, content: bytes, max_rows: int = MAX_ROWS) -> list[list[object]]:
    """An uploaded XLSX or CSV as a matrix of cells (header row first). The type is decided
    by the content (an XLSX is a zip holding a workbook; a CSV is text in UTF-8 or GB18030)
    and must match the name."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise _problem(f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB")
    if not content:
        raise _problem("请选择要上传的文件")
    name = filename.lower()
    if content.startswith(b"PK\x03\x04"):
        if not name.endswith(".xlsx"):
            raise _problem("文件内容是 XLSX 表格，但文件名不是 .xlsx")
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                if "xl/workbook.xml" not in archive.namelist():
                    raise _problem("文件不是有效的 XLSX 表格")
            from core.cases.spreadsheet import check_archive

            check_archive(content)  # a zip bomb is refused before parsing (issue 12.1)
            wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except DomainError:
            raise
        except Exception as exc:
            raise _problem("文件不是有效的 XLSX 表格") from exc
        ws = wb.worksheets[0]
        matrix = [list(r) for r in ws.iter_rows(values_only=True, max_row=max_rows + 2)]
        wb.close()
        return matrix
    if not name.endswith(".csv"):
        raise _problem("只接受 .xlsx 或 .csv 文件")
    if b"\x00" in content:
        raise _problem("文件内容不是文本 CSV")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _problem("CSV 文件编码无法识别（请使用 UTF-8）")
    return [list(r) for r in csv.reader(io.StringIO(text))]
