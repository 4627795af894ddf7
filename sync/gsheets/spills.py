"""Cells that show part of an array formula's result on a Google Sheet. Read with the FORMULA
render option, the formula stands in its own cell and the cells its result spills into read as
plain values, indistinguishable from typing; writing one breaks the formula (#REF!, "Array
result was not expanded because it would overwrite data"). Google's values API does not say
which cells a result fills, so they are found from the formula: below a formula that makes an
array (ARRAYFORMULA, FILTER, QUERY, SPLIT, a {…} literal…), the run of filled cells in its
column, and, for those that can spread across (QUERY, FILTER, SPLIT, TRANSPOSE…), the filled
cells to its right in the same rows. Erring on the side of a few typed cells left alone."""
from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

_DOWN = re.compile(r"^=\s*(\{|.*\b(ARRAYFORMULA|FILTER|SORTN?|UNIQUE|QUERY|IMPORTRANGE|IMPORTDATA|"
                   r"IMPORTHTML|IMPORTXML|IMPORTFEED|SEQUENCE|FLATTEN|TRANSPOSE|ARRAY_CONSTRAIN|"
                   r"MMULT|GOOGLEFINANCE|TOCOL|VSTACK|HSTACK|CHOOSECOLS|CHOOSEROWS|WRAPCOLS|"
                   r"WRAPROWS|MAP|BYROW|BYCOL|SCAN|MAKEARRAY|FREQUENCY)\s*\()", re.IGNORECASE)
_ACROSS = re.compile(r"^=\s*(\{|.*\b(FILTER|SORTN?|UNIQUE|QUERY|IMPORTRANGE|IMPORTDATA|IMPORTHTML|"
                     r"SPLIT|TRANSPOSE|ARRAY_CONSTRAIN|MMULT|GOOGLEFINANCE|TOROW|HSTACK|VSTACK|"
                     r"CHOOSECOLS|WRAPROWS|WRAPCOLS|BYCOL|MAKEARRAY)\s*\()", re.IGNORECASE)


def spilled(grid: Sequence[Sequence[Any]],
            formulas: Iterable[tuple[int, int]] | None = None) -> set[tuple[int, int]]:
    """(row, column), 0-based, of every cell of `grid` (a tab's values, formulas as "=…")
    that an array formula's result may fill. `formulas`: where the grid's formula cells are,
    where the caller has found them already (else every cell is looked at)."""
    if formulas is None:
        formulas = [(r, c) for r, row in enumerate(grid) for c, value in enumerate(row)
                    if _formula(value)]
    out: set[tuple[int, int]] = set()
    for r, c in formulas:
        value = grid[r][c]
        down = _DOWN.match(value) is not None
        across = _ACROSS.match(value) is not None
        if not (down or across):
            continue
        last_row = _run(grid, r, c, 1, 0)
        last_col = _run(grid, r, c, 0, 1) if across else c
        out |= {(i, j) for i in range(r, last_row + 1) for j in range(c, last_col + 1)
                if (i, j) != (r, c) and _filled(grid, i, j)}
    return out


def _run(grid, r: int, c: int, dr: int, dc: int) -> int:
    """How far the filled, formula-free cells go from (r, c) in direction (dr, dc): the last
    row (or column) of the run."""
    i, j = r + dr, c + dc
    while _filled(grid, i, j) and not _formula(grid[i][j]):
        i, j = i + dr, j + dc
    return (i - dr) if dr else (j - dc)


def _filled(grid, i: int, j: int) -> bool:
    return i < len(grid) and j < len(grid[i]) and grid[i][j] not in ("", None)


def _formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")
