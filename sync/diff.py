"""Two readings of a table compared row by row, by Customer ID: the one table diff (what a
restore changed, what changed between two snapshots, what people changed since the last cycle),
and the one way a whole row added or removed is written into the audit log."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import orjson

from audit.log import encode_value

from .cells import plain
from .seen import ABSENT
from .table import SheetTable

ROW = "(row)"     # the audit log's pseudo-column for a whole row added or removed


def row_text(headers: Sequence[str], row: Sequence[Any]) -> str:
    """A whole row as the audit log keeps it: JSON of its non-empty cells by header, each
    value as the log encodes it (so a date stays a date)."""
    return orjson.dumps({h: encode_value(plain(v)) for h, v in zip(headers, row)
                         if h and v not in (None, "") and v is not ABSENT}).decode()


@dataclass(frozen=True)
class TableDiff:
    added: tuple[str, ...]                          # row IDs only in the newer table
    removed: tuple[str, ...]                        # row IDs only in the older one
    changed: tuple[tuple[str, str, Any, Any], ...]  # (row ID, column, before, after)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff_tables(old: SheetTable, new: SheetTable) -> TableDiff:
    """Rows by Customer ID (a row without one by its row number), cell by cell by header."""
    return _diff(_rows(old), _rows(new))


def table_changes(old: SheetTable, new: SheetTable) -> list[tuple[str, str, Any, Any]]:
    """The diff as audit-style cell changes; a whole row added or removed is one change of
    the ROW pseudo-column holding the row's values (`row_text`)."""
    before, after = _rows(old), _rows(new)
    d = _diff(before, after)
    whole = lambda rows, rid: row_text(list(rows[rid]), list(rows[rid].values()))  # noqa: E731
    return ([(rid, ROW, None, whole(after, rid)) for rid in d.added]
            + [(rid, ROW, whole(before, rid), None) for rid in d.removed]
            + list(d.changed))


def _diff(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> TableDiff:
    changed = []
    for rid, cells in after.items():
        if rid in before:
            was = before[rid]
            for header in dict.fromkeys([*was, *cells]):
                if was.get(header) != cells.get(header):
                    changed.append((rid, header, was.get(header), cells.get(header)))
    return TableDiff(tuple(r for r in after if r not in before),
                     tuple(r for r in before if r not in after), tuple(changed))


def _rows(table: SheetTable) -> dict[str, dict[str, Any]]:
    layout = table.layout
    j = layout.index(layout.template.id.column)
    out: dict[str, dict[str, Any]] = {}
    for number, row in zip(table.row_numbers, table.rows):
        rid = row[j] if j is not None and row[j] not in (None, "") else f"(row {number})"
        out[str(rid)] = {h: plain(v) for h, v in zip(layout.headers, row)
                         if h and v not in (None, "")}
    return out
