"""Cell-level requests (formats, notes, data validation, protected ranges, conditional formats)
and grid data as `spreadsheets.get` returns it under a field mask. Google keeps defaults out of
its answers and adds a `…Style` twin to every colour; both are done here."""
from __future__ import annotations

import random
import re
from typing import Any, Iterator

from . import state as st
from .shape import colours, masked
from .state import bad_request


def cells_of(sheet: st.Sheet, grid: dict) -> Iterator[tuple[int, int]]:
    r1 = grid.get("endRowIndex", sheet.rows)
    c1 = grid.get("endColumnIndex", sheet.cols)
    for r in range(grid.get("startRowIndex", 0), r1):
        for c in range(grid.get("startColumnIndex", 0), c1):
            yield r, c


def _styled(fmt: dict) -> dict:
    """A format as Google answers with it: every colour also as its `…Style` twin."""
    out = colours(fmt)
    for key in list(out):
        if key.endswith("Color") and isinstance(out[key], dict):
            out[f"{key}Style"] = {"rgbColor": out[key]}
        elif isinstance(out[key], dict):
            out[key] = _styled(out[key])
    return out


def _format_fields(mask: str) -> list[str] | None:
    """`userEnteredFormat(a,b)` → [a, b]; `userEnteredFormat` → None (all of it)."""
    m = re.fullmatch(r"userEnteredFormat(?:\((.*)\)|\.(\w+))?", mask.strip())
    if not m:
        return []
    if m.group(1):
        return [f.strip() for f in m.group(1).split(",")]
    return [m.group(2)] if m.group(2) else None


def repeat_cell(book: st.Spreadsheet, args: dict) -> dict:
    sheet = book.sheet_by_id(args["range"].get("sheetId", 0))
    fields = _format_fields(args["fields"])
    if fields == []:
        raise st.ApiError(501, "UNIMPLEMENTED", f"the emulator's repeatCell sets "
                          f"userEnteredFormat only, not {args['fields']}")
    fmt = args.get("cell", {}).get("userEnteredFormat", {})
    for cell in cells_of(sheet, args["range"]):
        current = sheet.formats.setdefault(cell, {})
        for key in (fields or list(fmt)):
            if key in fmt:
                current[key] = fmt[key]
            else:
                current.pop(key, None)
    return {}


def update_cells(book: st.Spreadsheet, args: dict) -> dict:
    grid = args.get("range") or {}
    start = args.get("start") or {}
    sheet = book.sheet_by_id(grid.get("sheetId", start.get("sheetId", 0)))
    fields = [f.strip() for f in args["fields"].split(",")]
    if any(f not in ("note", "userEnteredFormat", "userEnteredValue") for f in fields):
        raise st.ApiError(501, "UNIMPLEMENTED", "the emulator's updateCells sets note, "
                          f"userEnteredValue and userEnteredFormat only, not {args['fields']}")
    r0 = grid.get("startRowIndex", start.get("rowIndex", 0))
    c0 = grid.get("startColumnIndex", start.get("columnIndex", 0))
    rows = args.get("rows", [])
    # As Google: a write past the tab's grid is refused, not grown into.
    width = max((len(r.get("values", [])) for r in rows), default=0)
    if r0 + len(rows) > sheet.rows or c0 + width > sheet.cols:
        raise bad_request(f"Invalid requests[0].updateCells: Attempting to write row: "
                          f"{r0 + len(rows) - 1}, beyond the last requested row of: "
                          f"{sheet.rows - 1}" if r0 + len(rows) > sheet.rows else
                          f"Invalid requests[0].updateCells: Attempting to write column: "
                          f"{c0 + width - 1}, beyond the last requested column of: "
                          f"{sheet.cols - 1}")
    for i, row in enumerate(rows):
        for j, data in enumerate(row.get("values", [])):
            key = (r0 + i, c0 + j)
            if "note" in fields:
                if data.get("note"):
                    sheet.notes[key] = data["note"]
                else:
                    sheet.notes.pop(key, None)
            if "userEnteredFormat" in fields:
                sheet.formats[key] = dict(data.get("userEnteredFormat", {}))
            if "userEnteredValue" in fields:
                _enter(sheet, key, data.get("userEnteredValue"),
                       book.properties.get("locale", "en_US"))
    return {}


def set_data_validation(book: st.Spreadsheet, args: dict) -> dict:
    sheet = book.sheet_by_id(args["range"].get("sheetId", 0))
    rule = args.get("rule")
    for cell in cells_of(sheet, args["range"]):
        if rule:
            sheet.validations[cell] = rule
        else:
            sheet.validations.pop(cell, None)
    return {}


def _grid_range(grid: dict) -> dict:
    """Google leaves sheetId 0 (the default) out."""
    return {k: v for k, v in grid.items() if not (k == "sheetId" and v == 0)}


def add_protected_range(book: st.Spreadsheet, args: dict) -> dict:
    wanted = args["protectedRange"]
    sheet = book.sheet_by_id(wanted.get("range", {}).get("sheetId", 0))
    editors = {k: v for k, v in (wanted.get("editors") or {}).items() if v}
    kept = {"protectedRangeId": wanted.get("protectedRangeId",
                                          random.randrange(1, 2 ** 31 - 1)),
            "range": _grid_range(wanted.get("range", {}))}
    for key in ("namedRangeId", "description", "warningOnly", "unprotectedRanges"):
        if wanted.get(key):
            kept[key] = wanted[key]
    kept["requestingUserCanEdit"] = True     # the emulator's one user owns every sheet
    # "When writing: if warningOnly is true, then editors are ignored"; "Editors are not
    # supported with warning_only protection" (Google's reference): none are kept or shown.
    if not wanted.get("warningOnly"):
        kept["editors"] = editors
    sheet.protected.append(kept)
    return {"addProtectedRange": {"protectedRange": kept}}


def delete_protected_range(book: st.Spreadsheet, args: dict) -> dict:
    for sheet in book.sheets:
        for p in sheet.protected:
            if p["protectedRangeId"] == args["protectedRangeId"]:
                sheet.protected.remove(p)
                return {}
    raise bad_request(f"No protected range with id: {args['protectedRangeId']}")


def add_conditional_format_rule(book: st.Spreadsheet, args: dict) -> dict:
    rule = args["rule"]
    locale = book.properties.get("locale", "en_US")
    condition = rule.get("booleanRule", {}).get("condition", {})
    for value in condition.get("values", []):
        formula = value.get("userEnteredValue", "")
        # A custom formula is parsed by the spreadsheet's locale when the rule is added.
        if condition.get("type") == "CUSTOM_FORMULA" and not st.parses(formula, locale):
            raise bad_request("Invalid requests[0].addConditionalFormatRule: Invalid "
                              f"ConditionalValue.userEnteredValue: {formula}")
    ranges = rule.get("ranges", [])
    sheet = book.sheet_by_id(ranges[0].get("sheetId", 0) if ranges else 0)
    kept = dict(rule, ranges=[_grid_range(r) for r in ranges])
    if "booleanRule" in kept and "format" in kept["booleanRule"]:
        kept["booleanRule"] = dict(kept["booleanRule"],
                                   format=_styled(kept["booleanRule"]["format"]))
    sheet.conditional.insert(min(args.get("index", len(sheet.conditional)),
                                 len(sheet.conditional)), kept)
    return {}


def delete_conditional_format_rule(book: st.Spreadsheet, args: dict) -> dict:
    sheet = book.sheet_by_id(args.get("sheetId", 0))
    try:
        sheet.conditional.pop(args["index"])
    except IndexError:
        raise bad_request(f"No conditional format on sheet {sheet.sheet_id} at index "
                          f"{args['index']}") from None
    return {}


def update_dimension_properties(book: st.Spreadsheet, args: dict) -> dict:
    """Column widths (pixelSize), kept per column in `Sheet.column_pixels` (set on first use:
    the Sheet state is not otherwise told of sizes). Rows and other properties: not here."""
    span = args.get("range", {})
    if span.get("dimension") != "COLUMNS" or args.get("fields") != "pixelSize":
        raise st.ApiError(501, "UNIMPLEMENTED", "the emulator's updateDimensionProperties sets "
                          "the pixelSize of columns only")
    sheet = book.sheet_by_id(span.get("sheetId", 0))
    start, end = span.get("startIndex", 0), span.get("endIndex", sheet.cols)
    if end > sheet.cols:
        raise bad_request(f"Invalid requests[0].updateDimensionProperties: Invalid "
                          f"dimensionRange: endIndex ({end}) is greater than the sheet's "
                          f"columns ({sheet.cols})")
    sizes = sheet.__dict__.setdefault("column_pixels", {})
    for c in range(start, end):
        sizes[c] = args["properties"]["pixelSize"]
    return {}


def _enter(sheet: st.Sheet, key: tuple[int, int], entered: dict | None,
           locale: str = "en_US") -> None:
    """An ExtendedValue into a cell: a formula is kept as typed (the emulator has no engine
    beyond arithmetic), anything else as the value it is."""
    if not entered:
        sheet.cells.pop(key, None)
        return
    (kind, value), = entered.items()
    if kind == "formulaValue":
        sheet.cells[key] = st.Cell(value, st.formula_value(value) if st.parses(
            value, locale) else "#ERROR!")
    elif kind in ("stringValue", "numberValue", "boolValue"):
        sheet.cells[key] = st.Cell(value, value)
    else:
        raise st.ApiError(501, "UNIMPLEMENTED", f"the emulator's updateCells does not take {kind}")


def add_chart(book: st.Spreadsheet, args: dict) -> dict:
    """An embedded chart over a grid, as Google checks it: every source range and the anchor
    on a tab that exists and within its grid."""
    chart = dict(args["chart"])
    spec = chart.get("spec", {})
    basic = spec.get("basicChart")
    if basic is None:
        raise st.ApiError(501, "UNIMPLEMENTED", "the emulator's addChart takes basicChart only")
    sources = [s for d in basic.get("domains", []) for s in
               d.get("domain", {}).get("sourceRange", {}).get("sources", [])]
    sources += [s for d in basic.get("series", []) for s in
                d.get("series", {}).get("sourceRange", {}).get("sources", [])]
    if not sources:
        raise bad_request("Invalid requests[0].addChart: No data.")
    for source in sources:
        sheet = book.sheet_by_id(source.get("sheetId", 0))
        if source.get("endRowIndex", 0) > sheet.rows or \
                source.get("endColumnIndex", 0) > sheet.cols:
            raise bad_request("Invalid requests[0].addChart: Invalid source range: beyond the "
                              "grid")
    anchor = chart.get("position", {}).get("overlayPosition", {}).get("anchorCell")
    if anchor is None:
        raise st.ApiError(501, "UNIMPLEMENTED", "the emulator's addChart places charts over a "
                          "grid (overlayPosition) only")
    target = book.sheet_by_id(anchor.get("sheetId", 0))
    if anchor.get("rowIndex", 0) >= target.rows or anchor.get("columnIndex", 0) >= target.cols:
        raise bad_request("Invalid requests[0].addChart: anchor cell beyond the grid")
    taken = {c["chartId"] for s in book.sheets for c in s.charts}
    chart.setdefault("chartId", next(n for n in iter(lambda: random.randrange(1, 2**31), 0)
                                     if n not in taken))
    target.charts.append(chart)
    return {"addChart": {"chart": chart}}


BATCH = {"repeatCell": repeat_cell, "updateCells": update_cells, "addChart": add_chart,
         "updateDimensionProperties": update_dimension_properties,
         "setDataValidation": set_data_validation, "addProtectedRange": add_protected_range,
         "deleteProtectedRange": delete_protected_range,
         "addConditionalFormatRule": add_conditional_format_rule,
         "deleteConditionalFormatRule": delete_conditional_format_rule}


# -- grid data ---------------------------------------------------------------------------------

def cell_data(sheet: st.Sheet, r: int, c: int) -> dict:
    out: dict[str, Any] = {}
    cell = sheet.cells.get((r, c))
    if cell is not None:
        out["userEnteredValue"] = _typed(cell.entered)
        out["formattedValue"] = st.rendered(cell, "FORMATTED_VALUE")
    if sheet.formats.get((r, c)):
        out["userEnteredFormat"] = _styled(sheet.formats[(r, c)])
    if (r, c) in sheet.notes:
        out["note"] = sheet.notes[(r, c)]
    if (r, c) in sheet.validations:
        out["dataValidation"] = sheet.validations[(r, c)]
    return out


def _typed(value: Any) -> dict:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, (int, float)):
        return {"numberValue": value}
    if isinstance(value, str) and value.startswith("="):
        return {"formulaValue": value}
    return {"stringValue": value}


def grid_data(book: st.Spreadsheet, ranges: list[str], fields: str | None) -> dict:
    """`spreadsheets.get` with `ranges` and a field mask asking for `sheets.data`."""
    by_sheet: dict[int, list[dict]] = {}
    for text in ranges:
        sheet, span = book.span(text)
        r0, c0, r1, c1 = span.clamp(sheet.rows, sheet.cols)
        rows = [{"values": [cell_data(sheet, r, c) for c in range(c0, c1)]}
                for r in range(r0, r1)]
        by_sheet.setdefault(sheet.sheet_id, []).append(
            {"startRow": r0, "startColumn": c0, "rowData": rows})
    answer = {"spreadsheetId": book.id,
              "sheets": [{"properties": s.properties(), "data": by_sheet[s.sheet_id]}
                         for s in book.sheets if s.sheet_id in by_sheet]}
    return _trimmed(masked(answer, fields))


def _trimmed(node: Any, key: str = "") -> Any:
    """Google drops empty trailing cells and rows, zero offsets and empty row lists; an empty
    `data` entry stays, as `{}`."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            v = _trimmed(v, k)
            if k in ("startRow", "startColumn") and v == 0:
                continue
            if k in ("rowData", "values") and v == []:
                continue
            out[k] = v
        return out
    if isinstance(node, list):
        items = [_trimmed(v) for v in node]
        if key in ("rowData", "values"):
            while items and items[-1] in ({}, {"values": []}):
                items.pop()
        return items
    return node
