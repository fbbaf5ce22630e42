"""The grading catalogue as a spreadsheet: the import template, an upload's rows, the
export of an edition. Files are read by ``core.catalog.files.read_matrix`` (XLSX or CSV,
zip bombs refused) and written by ``core.exports`` (no formula ever runs)."""

from __future__ import annotations

from core.catalog.files import read_matrix
from core.errors import DomainError, Problem
from core.exports import xlsx_bytes
from core.grading.rules import HEADERS, MAX_ROWS, REQUIRED_HEADERS, level_label


def read_rows(filename: str, content: bytes) -> list[tuple[int, dict]]:
    """An upload as ``(row number, {field: text})``, by the template's headers; a missing
    or unknown header is a problem of the file (nothing is read)."""
    matrix = read_matrix(filename, content, MAX_ROWS)
    if not matrix:
        raise DomainError(Problem("文件是空的", "file"))
    header = [str(c or "").strip() for c in matrix[0]]
    unknown = [h for h in header if h and h not in HEADERS]
    if unknown:
        raise DomainError(Problem(f"第 1 行表头有无法识别的列：{'、'.join(unknown)}（请使用模板的表头）", "file"))
    missing = [h for h in REQUIRED_HEADERS if h not in header]
    if missing:
        raise DomainError(Problem(f"第 1 行表头缺少：{'、'.join(missing)}（请使用模板的表头）", "file"))
    rows = []
    for number, cells in enumerate(matrix[1:], start=2):
        values = {HEADERS[h]: ("" if v is None else str(v).strip()) for h, v in zip(header, cells, strict=False) if h}
        if any(values.values()):
            rows.append((number, values))
    return rows


def template_xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "手术分级目录"
    ws.append(list(HEADERS))
    help_sheet = wb.create_sheet("填写说明")
    for line in (["手术编码", "ICD-9-CM-3 编码，如 51.23、45.4201（国家临床版扩展码可用）；同一文件内不得重复"],
                 ["手术名称", "手术（操作）名称"], ["手术级别", "1、2、3、4 或 一级、二级、三级、四级"],
                 ["科室", "可空"],
                 ["说明", "导入生成新版本目录；任何一行有误则整个文件不导入（NAT-16）"]):
        help_sheet.append(line)
    return xlsx_bytes(wb)


def export_xlsx(operations: list[dict]) -> bytes:
    """An edition in the template's shape (it imports back as it is)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "手术分级目录"
    ws.append(list(HEADERS))
    for o in operations:
        ws.append([o["code"], o["name"], level_label(o["level"]), o["department"]])
    return xlsx_bytes(wb)
