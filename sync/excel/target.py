"""A workbook open in Excel on this machine, as a sync cycle's target: the same cycle, rules,
review queue, undo and audit log as for the file (the same key: it is the same workbook), but
read from and written into the open book through xlwings instead of waiting for Excel to close
it.

    read     the table's sheet: its used range's values in one call (raw values: text stays text,
             so IDs and phones typed as text are read as typed) and its formulas in one more
             (formula cells are never written); the Lists, Review and Merged tabs and the
             template's ledgers (Purchases, Follow-ups…), one call each
    guard    right before a write, the rows about to change are read again (one call per run of
             adjacent rows, or one for them all); only rows still exactly as the cycle read them
             are written (like a Google Sheet's guard: a person's typing is never overwritten,
             and a sort cannot make a write land on another row)
    commit   the same rows read once more, at once before writing: if a person changed one since
             the guard, nothing is written (WorkbookChanged: the cycle reads again); then the
             cells, coalesced into rectangles, one call each, with screen updating off; values
             only, so every cell keeps its format

sheetkeeper never saves the book: what it writes is in the open workbook, as if typed, and
reaches the file when the person saves it. Its audit batches say so in their note. A person who
closes without saving discards those changes with their own; the next cycle on the file reads
the cells as they were, diffs them against what it last saw, and writes its changes again
(README, "A workbook open in Excel").

Excel refusing calls while a person edits a cell is tried again a few times (session.ExcelCalls)
and then left for the next cycle (WorkbookBusy); a book closed, or Excel quitting, mid-cycle is
ExcelClosed. xlwings is imported by sync/excel/session.py alone; here, the objects it gives
(Book, Sheet, Range) are only used.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from audit.log import OPEN_BOOK_MARK
from i18n import _
from sheet_templates import Template, templates_or_builtin

from ..cells import CellWrite, same_value
from ..errors import ExcelClosed, SheetNotFound, TableLayoutError, WorkbookBusy, \
    WorkbookChanged, WriteUncertain
from ..header import best_header, layout_for, list_values
from ..table import SheetTable, SideTab
from ..targets import Batch, Step, first_columns, reading_of, rows_as_read
from . import signal
from .rectangles import Rectangle, rectangles
from .session import ExcelCalls, attach, ensure_ready

# What an error cell reads as (xlwings' err_to_str): reported for what it shows, never written.
ERROR_TEXTS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                         "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!",
                         "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#PYTHON!"})
# Past this many runs of adjacent rows to check, the guard reads the band from the first to
# the last in one call rather than one call a run.
GUARD_RUNS = 16
READ = {"ndim": 2, "empty": None, "err_to_str": True}
OPEN_WORKBOOK_NOTE = ("written into the workbook open in Excel, not saved: it is in the file "
                      "once the person saves the workbook there")


def attached(path: Path | str, templates: Sequence[Template] | None = None,
             sheet: str | None = None, apps=None) -> "ExcelTarget | None":
    """The workbook at `path` as it is open in Excel, or None where it is not (or xlwings
    cannot reach Excel: Linux, no Excel)."""
    book = attach(Path(path), apps)
    return None if book is None else ExcelTarget(book, Path(path), templates, sheet)


@dataclass
class ExcelTarget:
    book: Any                          # the xlwings Book
    path: Path
    templates: Sequence[Template] | None = None
    sheet: str | None = None
    calls: ExcelCalls = field(default=None)     # type: ignore[assignment]
    # A read is local and quick: after review decisions, or a person's edit under a write,
    # read again within the cycle, as for the file.
    reads_again = True
    writes_whole = False        # a block at a time: a write cut off part way is part written
    # What it writes is in the open book, not the file, until the person saves (the cycle
    # settles that from the file once the book is closed: writing.settle_unsaved).
    writes_unsaved = True

    def __post_init__(self) -> None:
        if self.calls is None:
            self.calls = ExcelCalls(str(self.path))

    @property
    def key(self) -> str:
        # The file's key: the open book is the same workbook, with the same log and seen state.
        return str(Path(self.path).resolve())

    @property
    def reading(self) -> str:
        return reading_of(self.templates, self.sheet)

    def peek(self) -> str | None:
        """The last read's digest where the book's change sign (sync/excel/signal.py: a few
        calls, no cells) is as it was just before that read; None where it changed, cannot be
        had, or the last FULL_READ_EVERY polls were all answered from it: then the cycle reads."""
        sheets = signal.MEMORY.sheets(self.key)
        if sheets is None:
            return None       # never read in this process: nothing to compare with
        return signal.MEMORY.unchanged(self.key, signal.take(self.book, sheets, self.calls))

    # -- reading -----------------------------------------------------------------------------

    def read(self) -> SheetTable:
        # The change sign is taken before the read, over the sheets the last read used: an
        # edit made during the read is then in the digest but not in the sign, and the next
        # poll reads again.
        before_sheets = signal.MEMORY.sheets(self.key)
        before = (signal.take(self.book, before_sheets, self.calls)
                  if before_sheets is not None else None)
        templates = templates_or_builtin(self.templates)
        names = self.calls(lambda: [s.name for s in self.book.sheets])
        name, grid, formulas = self._table_sheet(names, templates)
        match = best_header(grid, templates)
        if match is None:
            raise TableLayoutError(_("{path}: no header row found on sheet {sheet}; install "
                                     "the template with `sheetkeeper install crm`",
                                     path=self.path, sheet=repr(name)))
        layout = layout_for(grid[match.row], match.row + 1, match.template)
        words = layout.template.words["tabs"]
        side = {role: next((n for n in names if n in set(words[role].values())), None)
                for role in ("lists", "review", "merged")}
        ledger_tabs = {g.key: next((n for n in names if n in g.sheet_names.values()), None)
                       for g in layout.template.ledgers}
        wanted = [*side.values(), *ledger_tabs.values()]
        grids = {n: self._values(n)[0] for n in dict.fromkeys(wanted) if n and n != name}
        table = _table(str(self.path), name, layout, grid, formulas,
                       grids.get(side["lists"]) or [])
        review, merged = (SideTab.from_rows(side[r], grids[side[r]]) if side[r] in grids
                          else None for r in ("review", "merged"))
        ledgers = {key: SideTab.from_rows(n, grids[n]) for key, n in ledger_tabs.items()
                   if n in grids}
        # The digest covers every tab read: a decision on the Review tab, a purchase entered,
        # is a change too.
        digest = hashlib.sha256(json.dumps([grid, formulas, *grids.values()],
                                           default=str).encode()).hexdigest()
        used = (name, *(n for n in grids))
        signal.MEMORY.read(self.key, used, before if before_sheets == used else None, digest)
        return SheetTable(source=table.source, sheet=name, layout=layout, rows=table.rows,
                          row_numbers=table.row_numbers, formulas=table.formulas,
                          errors=table.errors, list_values=table.list_values, digest=digest,
                          review=review, merged=merged, ledgers=ledgers)

    def _table_sheet(self, names: list[str], templates: Sequence[Template]
                     ) -> tuple[str, list[list[Any]], list[list[str | None]]]:
        """The sheet named for this target; else the first a template names; else the first
        whose header a template matches. Its values and formulas."""
        if self.sheet is not None:
            if self.sheet not in names:
                raise SheetNotFound(_("{path}: there is no sheet called {sheet}; the sheets "
                                      "are: {sheets}", path=self.path, sheet=repr(self.sheet),
                                      sheets=", ".join(names)))
            return (self.sheet, *self._values(self.sheet, formulas=True))
        named = [n for n in names for t in templates if n in t.sheet_names.values()]
        for name in dict.fromkeys(named + names):
            grid, formulas = self._values(name, formulas=True)
            if best_header(grid, templates) is not None:
                return name, grid, formulas
        raise TableLayoutError(_("{path}: no sheet has a header sheetkeeper knows; install the "
                                 "template with `sheetkeeper install crm`", path=self.path))

    def _values(self, name: str, formulas: bool = False
                ) -> tuple[list[list[Any]], list[list[str | None]]]:
        """A sheet's cells from A1 to the end of its used range (values, and formulas where
        asked: "=…" for a formula cell, None for any other)."""
        def read():
            used = self.book.sheets[name].used_range
            top, left = used.row, used.column
            values = used.options(**READ).value
            texts = used.formula if formulas else None
            return top, left, values, texts
        top, left, values, texts = self.calls(read)
        grid = _from_a1(top, left, [[_plain(v) for v in row] for row in values])
        if texts is None:
            return grid, []
        rows = [texts] if isinstance(texts, str) else texts
        rows = [[row] if isinstance(row, str) else row for row in rows]
        marks = [[t if isinstance(t, str) and t.startswith("=") else None for t in row]
                 for row in rows]
        return grid, _from_a1(top, left, marks)

    # -- writing -----------------------------------------------------------------------------

    @staticmethod
    def parts(batch: Batch) -> list[list[int]]:
        return [list(range(len(batch.cells)))]      # one write: no bound on its size

    def prepare(self, table: SheetTable, batch: Batch) -> "LiveWrite":
        """The guard: the rows about to change read again; only cells whose row is still
        exactly as the cycle read it are written."""
        expected = rows_as_read(table, batch)
        firsts = first_columns(table)
        now = self.rows_now(expected, firsts)
        same = {key for key in expected if _row_same(now.get(key, ()), expected[key])}
        done = tuple(k for k, (tab, w) in enumerate(batch.cells) if (tab, w.row) in same)
        if not done and batch.cells:
            raise WorkbookChanged(_("{path}: every row to write was changed in Excel "
                                    "meanwhile; nothing written", path=self.path))
        return LiveWrite(self, [batch.cells[k] for k in done], done,
                         {key: expected[key] for key in same}, firsts, self.file_digest())

    def file_digest(self) -> str | None:
        """The SHA-256 of the workbook's file as last saved (None where it cannot be read)."""
        try:
            return hashlib.sha256(Path(self.path).read_bytes()).hexdigest()
        except OSError:
            return None

    def rows_now(self, rows: Mapping[tuple[str, int], Sequence[Any]],
                 firsts: Mapping[str, int]) -> dict[tuple[str, int], list[Any]]:
        """The rows (tab, row number) as the book holds them now, each as wide as in `rows`:
        one call per run of adjacent rows, or one call for the band they span."""
        out: dict[tuple[str, int], list[Any]] = {}
        by_tab: dict[str, list[int]] = {}
        for tab, r in rows:
            by_tab.setdefault(tab, []).append(r)
        for tab, numbers in by_tab.items():
            numbers.sort()
            width = max(len(rows[(tab, r)]) for r in numbers)
            first = firsts.get(tab, 0)
            runs = _runs(numbers)
            if len(runs) > GUARD_RUNS:
                runs = [(numbers[0], numbers[-1])]
            for top, bottom in runs:
                block = self.calls(functools.partial(self._block, tab, (top, first + 1),
                                                     (bottom, first + width)))
                for i, row in enumerate(block):
                    out[(tab, top + i)] = [None if isinstance(v, str) and v in ERROR_TEXTS
                                           else _plain(v) for v in row]
        return out


    def _block(self, tab: str, corner: tuple[int, int], other: tuple[int, int]) -> list:
        return self.book.sheets[tab].range(corner, other).options(**READ).value


class LiveWrite:
    """Cells the guard let through, written into the open book on commit."""

    restyled: dict[int, int] = {}      # values only: no cell's format changes
    digest = ""                        # what the book holds after is known only by a read

    def __init__(self, target: ExcelTarget, cells: list[tuple[str, CellWrite]],
                 done: tuple[int, ...], expected: dict[tuple[str, int], list[Any]],
                 firsts: Mapping[str, int], file_digest: str | None):
        self.target, self.cells, self.done = target, cells, done
        self.expected, self.firsts = expected, firsts
        # The audit batch's note: where the write went, and the file as saved then.
        self.note = OPEN_WORKBOOK_NOTE + (f" ({OPEN_BOOK_MARK}{file_digest})"
                                          if file_digest else "")

    def commit(self, between: Step | None = None) -> None:
        target, calls = self.target, self.target.calls
        now = target.rows_now(self.expected, self.firsts)
        moved = [key for key, row in self.expected.items() if not _row_same(now[key], row)]
        if moved:
            tab, row = moved[0]
            raise WorkbookChanged(_("{path}: row {row} of {sheet} was changed in Excel since "
                                    "it was checked; nothing written", path=target.path,
                                    row=row, sheet=repr(tab)))
        shapes = rectangles((tab, w.row, w.column, w.value) for tab, w in self.cells)
        # The book changes under the change sign's memory: the next poll reads it in full.
        signal.MEMORY.forget(target.key)
        app = target.book.app
        # Not while a person edits a cell: Excel not ready is waited out like a rejection.
        calls(functools.partial(ensure_ready, app))
        updating = calls(lambda: app.screen_updating)
        calls(lambda: setattr(app, "screen_updating", False))
        landed = 0
        try:
            for rect in shapes:
                calls(functools.partial(_put, target.book, rect))
                landed += 1
        except (WorkbookBusy, ExcelClosed) as e:
            if not landed:
                raise
            raise WriteUncertain(_("{path}: {landed} of {parts} parts of the write reached the "
                                   "open workbook before: {error}; the next cycle settles the "
                                   "rest from the cells", path=target.path, landed=landed,
                                   parts=len(shapes), error=e)) from e
        finally:
            try:
                calls(lambda: setattr(app, "screen_updating", updating))
            except (WorkbookBusy, ExcelClosed):
                pass      # Excel gone or busy: it restores screen updating itself

    def __enter__(self) -> "LiveWrite":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


def _put(book: Any, rect: Rectangle) -> None:
    ensure_ready(book.app)          # each part of the write asks again (one call)
    sheet = book.sheets[rect.sheet]
    cells = sheet.range((rect.top, rect.left + 1), (rect.bottom, rect.right + 1))
    cells.value = [[as_typed(v) for v in row] for row in rect.values]


def as_typed(value: Any) -> Any:
    """A value as it must be put into a cell for Excel to keep it as it is. Excel reads a text
    put into a cell as if typed: "+8613800138000" or "0012" would become numbers, "3/4" a date,
    "=…" a formula. An apostrophe first makes it text, as typed (Excel keeps the apostrophe as
    the cell's prefix, not in its value); text Excel would leave alone goes in as it is."""
    if isinstance(value, str) and _excel_would_parse(value):
        return "'" + value
    return value


def _excel_would_parse(text: str) -> bool:
    stripped = text.strip()
    return bool(stripped) and (stripped[0] in "=+-@'#" or any(c.isdigit() for c in stripped)
                               or stripped.upper() in ("TRUE", "FALSE"))


# -- the table from a grid ------------------------------------------------------------------

def _table(source: str, name: str, layout, grid: list[list[Any]],
           formulas: list[list[str | None]], lists: list[list[Any]]) -> SheetTable:
    first, width = layout.first_column, len(layout.headers)
    rows, numbers, marked, errors = [], [], set(), {}
    for r in range(layout.header_row, len(grid)):
        cells = (list(grid[r][first:first + width]) + [None] * width)[:width]
        marks = formulas[r][first:first + width] if r < len(formulas) else []
        for j, mark in enumerate(marks):
            if mark:
                marked.add((r + 1, j))
        for j, v in enumerate(cells):
            if isinstance(v, str) and v in ERROR_TEXTS:
                errors[(r + 1, j)] = v
                cells[j] = None
        if all(v in (None, "") for v in cells):
            continue
        rows.append(tuple(None if v == "" else v for v in cells))
        numbers.append(r + 1)
    return SheetTable(source=source, sheet=name, layout=layout, rows=tuple(rows),
                      row_numbers=tuple(numbers), formulas=frozenset(marked | errors.keys()),
                      errors=errors, list_values=list_values(lists, layout))


def _from_a1(top: int, left: int, rows: list[list[Any]]) -> list[list[Any]]:
    """A used range's rows, placed from A1 (rows and columns before it empty)."""
    pad = [None] * (left - 1)
    width = left - 1 + max((len(r) for r in rows), default=0)
    return [[None] * width for _ in range(top - 1)] + [pad + list(r) for r in rows]


def _plain(value: Any) -> Any:
    """xlwings reads a date cell as a datetime: a date where it has no time, as calamine
    reads the file, so the open book and the file read alike."""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
        return value.date()
    return value


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs




def _row_same(now: Sequence[Any], before: Sequence[Any]) -> bool:
    width = max(len(now), len(before))
    return all(same_value(now[j] if j < len(now) else None,
                          before[j] if j < len(before) else None) for j in range(width))
