"""What one values:batchUpdate carries: cells as row ranges, and request bodies of a bounded
size. Pure functions of the cells; the client sends them.

Google refuses a request body over 10 MiB outright (400 "Request payload size exceeds the
limit: 10485760 bytes.", never worth retrying) and recommends at most 2 MB a request
(developers.google.com/workspace/sheets/api/limits: "we recommend a 2 MB maximum payload").
One `data` entry per cell costs about 60-90 bytes, so a first cycle on a messy list of some
35,000 rows, or a restore of a big tab in one body, would be refused on every try. So:

- a row's cells go in one entry, from its first cell written to its last, with null between
  (Google leaves a cell given as null as it is): a row of five changes is one range, not five;
- a write goes out in parts of at most MAX_BODY bytes as sent (gspread sends the body as
  `requests` encodes JSON), whole rows together, each its own request.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Sequence

from rules.dates import serial_number
from sheet_templates.references import column_letter

from ..cells import CellWrite

MAX_BODY = 2_000_000
# {"valueInputOption": "USER_ENTERED", "data": []}, with room to spare.
ENVELOPE = 64


def quoted_tab(tab: str) -> str:
    return "'" + tab.replace("'", "''") + "'"


def raw(value: Any) -> Any:
    """A value as it goes in RAW: dates as serial numbers (the column's date format shows
    them), everything else as is; text stays text."""
    if isinstance(value, dt.date):
        return serial_number(value)
    return "" if value is None else value


def row_ranges(cells: Sequence[tuple[str, CellWrite]]) -> list[dict[str, Any]]:
    """`cells` as values:batchUpdate `data` entries, one per row, in the order the rows first
    appear (a cell written twice: the later value, as two entries in order would leave)."""
    return [_entry(tab, row, values) for (tab, row), values in _by_row(cells).items()]


def parts(cells: Sequence[tuple[str, CellWrite]], limit: int = MAX_BODY) -> list[list[int]]:
    """The indices of `cells` in groups whose row ranges make a body of at most `limit`
    bytes each, whole rows together, in order."""
    rows: dict[tuple[str, int], list[int]] = {}
    for k, (tab, w) in enumerate(cells):
        rows.setdefault((tab, w.row), []).append(k)
    values = _by_row(cells)
    out: list[list[int]] = [[]]
    size = ENVELOPE
    for key, indices in rows.items():
        cost = len(json.dumps(_entry(*key, values[key]))) + 2     # and ", " before the next
        if out[-1] and size + cost > limit:
            out.append([])
            size = ENVELOPE
        out[-1] += indices
        size += cost
    return [p for p in out if p]


def grid_bands(grids: Sequence[tuple[str, list[list[Any]]]], limit: int = MAX_BODY
               ) -> list[list[tuple[str, int, list[list[Any]]]]]:
    """Whole tabs of values from A1 (a restore's) in bodies of at most `limit` bytes each:
    each tab in bands of whole rows, (tab, first row 0-based, rows), in order."""
    bodies: list[list[tuple[str, int, list[list[Any]]]]] = [[]]
    size = ENVELOPE
    for tab, rows in grids:
        head = len(json.dumps({"range": f"{quoted_tab(tab)}!A{len(rows) + 1}",
                               "values": []})) + 2
        start, band, band_size = 0, [], head
        for r, row in enumerate(rows):
            cost = len(json.dumps(row)) + 2
            if (band or bodies[-1]) and size + band_size + cost > limit:
                if band:
                    bodies[-1].append((tab, start, band))
                bodies.append([])
                size, start, band, band_size = ENVELOPE, r, [], head
            band.append(row)
            band_size += cost
        if band:
            bodies[-1].append((tab, start, band))
            size += band_size
    return [b for b in bodies if b]


def body_size(body: dict[str, Any]) -> int:
    """A body's size as sent."""
    return len(json.dumps(body))


def _by_row(cells: Sequence[tuple[str, CellWrite]]) -> dict[tuple[str, int], dict[int, Any]]:
    rows: dict[tuple[str, int], dict[int, Any]] = {}
    for tab, w in cells:
        rows.setdefault((tab, w.row), {})[w.column] = raw(w.value)
    return rows


def _entry(tab: str, row: int, values: dict[int, Any]) -> dict[str, Any]:
    first, last = min(values), max(values)
    where = f"{column_letter(first)}{row}" + (
        f":{column_letter(last)}{row}" if last > first else "")
    return {"range": f"{quoted_tab(tab)}!{where}",
            "values": [[values.get(c) for c in range(first, last + 1)]]}
