"""A cell, the one definition: what is written into one (CellWrite), when two readings of one are
the same value, and where an audited cell is in a table now. Every target and every step of the
cycle uses these; none of them knows a file format."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from rules.dates import serial_number
from i18n import _

from .table import SheetTable


# The most characters a cell holds (Excel's limit; Google Sheets allows 50,000): nothing
# sheetkeeper writes is longer.
MAX_CELL_TEXT = 32_767


@dataclass(frozen=True, slots=True)
class CellWrite:
    row: int          # 1-based sheet row
    column: int       # 0-based sheet column
    value: Any        # str, int, float, bool, date, datetime, or None for an empty cell
    style: int | None = None   # force this cell style (undo puts the old one back)


def plain(value: Any) -> Any:
    # calamine reads a date cell as a date, a number cell as float: compare them as such.
    if type(value) is str:          # most cells, at once
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def same_value(current: Any, recorded: Any) -> bool:
    """Equal as cell values: calamine reads numbers as floats and dates with a time part;
    Google gives a date outside a date column as its serial number."""
    if _number(current) and _number(recorded):
        return float(current) == float(recorded)
    if isinstance(current, dt.datetime) and type(recorded) is dt.date:
        return current == dt.datetime.combine(recorded, dt.time())
    if _number(current) and isinstance(recorded, dt.date):
        return float(current) == serial_number(recorded)
    if current in ("", None) and recorded in ("", None):
        return True
    return current == recorded


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def differs(before: Any, now: Any) -> bool:
    """Two readings of a cell differ as values (5.0 and 5, a date and its midnight do not)."""
    return before != now and plain(before) != plain(now)


class CellPlaces:
    """Where each audited cell of a table is now. Built once per read of the table: an undo
    looks up every cell of its batch, and finding a row by reading every row's ID each time
    made undoing 3,595 cells of a 10k-row list take two minutes."""

    def __init__(self, table: SheetTable):
        self.table = table
        self.rows = table.by_id                       # the first row with that ID
        # IDs in more than one row (a row copied with its ID): which one a batch wrote cannot
        # be told, so none of them is taken for it.
        ids = [rid for rid in table.row_ids[0] if rid is not None]
        self.shared = {rid for rid, n in Counter(ids).items() if n > 1} \
            if len(set(ids)) < len(ids) else set()
        self.lines: dict[str, dict[str, list[tuple[int, list[Any]]]]] = {}
        self.entries: dict[str, dict[int, Any]] = {}      # a ledger tab's rows by number
        for tab in (table.review, table.merged):
            if tab is not None and tab.name not in self.lines:
                by_first = self.lines[tab.name] = {}
                for n, row in tab.rows:
                    if row:
                        by_first.setdefault(str(row[0]), []).append((n, row))

    def why_not(self, e) -> str:
        """Why `locate` found no place for `e`, in words."""
        if e.sheet == self.table.sheet and e.row_id is None:
            return (_("its row had no Customer ID, so it cannot be found again for sure; left as "
                      "it is (a snapshot from before has it: `sheetkeeper snapshots`)"))
        if e.row_id in self.shared:
            return (_("that ID is in more than one row now (a row copied with its ID?), so which "
                      "one the batch wrote cannot be told; left as it is. Clear the copy's "
                      "Customer ID (the next cycle gives it its own) and undo again"))
        return _("the row or column is no longer in the sheet")

    def locate(self, e) -> tuple[str, int, int, Any] | None:
        """(sheet, row number, 0-based column, current value) of an audited cell: a table
        cell by its row's ID; a Review or Merged cell by its line's first column (pair, or
        ID)."""
        table = self.table
        if e.sheet == table.sheet:
            layout = table.layout
            j = layout.position(e.column)       # a header renamed since is found too
            if e.row_id not in self.rows or e.row_id in self.shared or j is None:
                return None
            i = self.rows[e.row_id]
            return table.sheet, table.row_numbers[i], layout.first_column + j, table.rows[i][j]
        tab = next((t for t in table.side_tabs if t.name == e.sheet), None)
        if tab is None or e.column not in tab.headers:
            return None
        if tab.name not in self.lines:     # a ledger tab: an entry is named by its row
            if tab.name not in self.entries:    # indexed once: an undo looks up every entry
                self.entries[tab.name] = dict(tab.rows)
            return self._entry(tab, self.entries[tab.name], e)
        j = tab.headers.index(e.column)
        line = self._line(self.lines[tab.name].get(e.row_id, []), j, e.after)
        if line is None:
            return None
        n, row = line
        return tab.name, n, j, row[j] if j < len(row) else None

    @staticmethod
    def _entry(tab, rows: dict[int, Any], e) -> tuple[str, int, int, Any] | None:
        from .ledgers import entry_row
        number = entry_row(e.row_id)
        if number is None:
            return None
        j = tab.headers.index(e.column)
        row = rows.get(number, ())
        return tab.name, number, j, row[j] if j < len(row) else None

    @staticmethod
    def _line(lines: list[tuple[int, list[Any]]], j: int, written: Any
              ) -> tuple[int, list[Any]] | None:
        """Of the lines for one row, the one still holding what the batch wrote in column
        `j` (a merged-away row may have been merged, undone and merged again), else the last."""
        for n, row in reversed(lines):
            if same_value(row[j] if j < len(row) else None, written):
                return n, row
        return lines[-1] if lines else None
