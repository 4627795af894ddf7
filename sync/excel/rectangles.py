"""Cells to write, coalesced into rectangles: each rectangle is one call into Excel, and holds
only cells that are being written (never a cell in between, which would overwrite it with what
was read, a moment ago). Pure: cells in, rectangles out."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True)
class Rectangle:
    sheet: str
    top: int          # 1-based sheet row
    left: int         # 0-based sheet column (as CellWrite's)
    values: tuple[tuple[Any, ...], ...]   # rows of values, all of one width

    @property
    def bottom(self) -> int:
        return self.top + len(self.values) - 1

    @property
    def right(self) -> int:
        return self.left + len(self.values[0]) - 1

    def cells(self) -> Iterable[tuple[int, int, Any]]:
        for i, row in enumerate(self.values):
            for j, value in enumerate(row):
                yield self.top + i, self.left + j, value


def rectangles(cells: Iterable[tuple[str, int, int, Any]]) -> list[Rectangle]:
    """(sheet, row, column, value) as rectangles: the runs of adjacent cells along each row,
    then runs spanning the same columns on adjacent rows stacked into one. (Not the fewest
    rectangles possible, which is a hard problem; a changed column, or a changed block of rows,
    is one rectangle, which is what a cycle writes.)"""
    by_sheet: dict[str, dict[int, dict[int, Any]]] = {}
    for sheet, row, column, value in cells:
        by_sheet.setdefault(sheet, {}).setdefault(row, {})[column] = value
    out: list[Rectangle] = []
    for sheet, rows in by_sheet.items():
        open_: dict[tuple[int, int], list] = {}     # (left, right) -> [top, rows of values]
        last_row = None
        for row in sorted(rows):
            if last_row is not None and row != last_row + 1:
                out += [Rectangle(sheet, top, span[0], tuple(vals))
                        for span, (top, vals) in open_.items()]
                open_ = {}
            runs = _runs(rows[row])
            still = {}
            for (left, right), values in runs:
                if (left, right) in open_:
                    top, vals = open_.pop((left, right))
                    still[(left, right)] = (top, vals + [values])
                else:
                    still[(left, right)] = (row, [values])
            out += [Rectangle(sheet, top, span[0], tuple(vals))
                    for span, (top, vals) in open_.items()]
            open_ = still
            last_row = row
        out += [Rectangle(sheet, top, span[0], tuple(vals)) for span, (top, vals) in open_.items()]
    return sorted(out, key=lambda r: (r.sheet, r.top, r.left))


def _runs(columns: dict[int, Any]) -> list[tuple[tuple[int, int], tuple[Any, ...]]]:
    runs: list[tuple[tuple[int, int], tuple[Any, ...]]] = []
    start = prev = None
    values: list[Any] = []
    for c in sorted(columns):
        if prev is not None and c == prev + 1:
            values.append(columns[c])
        else:
            if start is not None:
                runs.append(((start, prev), tuple(values)))
            start, values = c, [columns[c]]
        prev = c
    if start is not None:
        runs.append(((start, prev), tuple(values)))
    return runs
