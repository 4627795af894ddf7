"""An xlsx file of rows: the one module of the export that imports openpyxl (the file format's
library, as gspread is the Sheets API's). Text is stored as text, never as a formula; text that
looks like one is marked with Excel's own quote prefix (what Excel writes when a person types
'=1+1), so Excel and LibreOffice show it as typed and keep it text when it is edited."""
from __future__ import annotations

import datetime as dt
import io
from typing import Any, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from .safe import needs_escape

DATE_FORMAT = "yyyy-mm-dd"


def xlsx_bytes(sheet: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
               types: Sequence[str | None]) -> bytes:
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31] or "Export")
    bold = Font(bold=True)
    ws.append([_cell(ws, h, None, bold) for h in headers])
    for row in rows:
        # A cell object only where the value needs more than openpyxl does with a bare value
        # (text, which it would store as a formula if it began with "="; a date): making one
        # for every cell took twice as long at 100k rows.
        ws.append([v if v is None or type(v) in (int, float) else _cell(ws, v, types[j])
                   for j, v in enumerate(row)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(ws, value: Any, column_type: str | None, font: Font | None = None) -> WriteOnlyCell:
    if isinstance(value, dt.datetime) and column_type == "date":
        value = value.date()
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"          # openpyxl would store "=…" as a formula
        if needs_escape(value, column_type):
            cell.quotePrefix = True
    elif isinstance(value, (dt.date, dt.datetime)):
        cell.number_format = DATE_FORMAT if not isinstance(value, dt.datetime) \
            else "yyyy-mm-dd hh:mm:ss"
    if font is not None:
        cell.font = font
    return cell
