"""The Dashboard tab on a Google Sheet: its cells (labels and formulas) written with updateCells
and its charts added with addChart, in the same spreadsheets:batchUpdate that lays out the tab
(so install and upgrade use no more requests than before)."""
from __future__ import annotations

from typing import Any

from sheet_templates.dashboard import Dashboard, Span
from sheet_templates.presentation import width_px

from .formulas import in_locale

# A chart's size on the tab, in pixels (about what a 15 x 7.5 cm chart is in a workbook).
CHART_WIDTH, CHART_HEIGHT = 560, 280


def dashboard_requests(sheet_id: int, board: Dashboard, separator: str = ",") -> list[dict]:
    """The requests that fill a new, empty Dashboard tab `sheet_id`; `separator` between a
    formula's arguments, as the spreadsheet's locale has it."""
    rows: dict[int, dict[int, dict]] = {}
    for c in board.cells:
        value = in_locale(c.value, separator) if isinstance(c.value, str) and \
            c.value.startswith("=") else c.value
        rows.setdefault(c.row, {})[c.column] = _cell(value, c.number_format, c.bold)
    out: list[dict] = []
    for r, cells in sorted(rows.items()):
        width = max(cells) + 1
        out.append({"updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": r, "columnIndex": 0},
            "rows": [{"values": [cells.get(j, {}) for j in range(width)]}],
            "fields": "userEnteredValue,userEnteredFormat"}})
    out += [{"updateDimensionProperties": {
        "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": j,
                  "endIndex": j + 1},
        "properties": {"pixelSize": width_px(w)}, "fields": "pixelSize"}}
        for j, w in enumerate(board.widths)]
    out += [_chart(sheet_id, spec) for spec in board.charts]
    return out


def _cell(value: Any, number_format: str | None, bold: bool) -> dict:
    if isinstance(value, str) and value.startswith("="):
        entered = {"formulaValue": value}
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        entered = {"numberValue": value}
    else:
        entered = {"stringValue": str(value)}
    fmt: dict[str, Any] = {}
    if bold:
        fmt["textFormat"] = {"bold": True}
    if number_format:
        fmt["numberFormat"] = {"type": "DATE" if "yy" in number_format else "NUMBER",
                               "pattern": number_format}
    return {"userEnteredValue": entered, **({"userEnteredFormat": fmt} if fmt else {})}


def _chart(sheet_id: int, spec) -> dict:
    return {"addChart": {"chart": {
        "spec": {"title": spec.title, "basicChart": {
            "chartType": "COLUMN" if spec.kind == "column" else "LINE",
            "legendPosition": "NO_LEGEND", "headerCount": 0,
            "domains": [{"domain": {"sourceRange": {"sources": [_grid(sheet_id,
                                                                       spec.categories)]}}}],
            "series": [{"series": {"sourceRange": {"sources": [_grid(sheet_id, spec.values)]}},
                        "targetAxis": "LEFT_AXIS"}]}},
        "position": {"overlayPosition": {
            "anchorCell": {"sheetId": sheet_id, "rowIndex": spec.anchor[0],
                           "columnIndex": spec.anchor[1]},
            "widthPixels": CHART_WIDTH, "heightPixels": CHART_HEIGHT}}}}}


def _grid(sheet_id: int, span: Span) -> dict:
    return {"sheetId": sheet_id, "startRowIndex": span.first, "endRowIndex": span.last + 1,
            "startColumnIndex": span.column, "endColumnIndex": span.column + 1}
