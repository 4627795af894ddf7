"""A Google Sheet as a sync cycle's target: the same cycle, rules, review queue, merges, undo
and audit log as for a workbook (sync.cycle), in at most four API requests a cycle whatever the
number of rows:

    1. the tab list (which tab holds the list; the Lists, Review and Merged tabs)
    2. one values:batchGet of them all, formulas as formulas (so they are never normalised)
    3. the guard: one batchGet of exactly the rows about to change   } only when there is
    4. one RAW values:batchUpdate of those still as the cycle read them } something to write

(3 and 4 once for each 2 MB of changes: Google refuses a body over 10 MiB, so a big first
cycle writes in parts, each guarded and audited as a batch of its own; see bodies.py.)

A write goes only into rows still exactly as this cycle read them, so a person editing,
inserting, deleting or sorting rows meanwhile cannot be overwritten nor make a write land on
another row: those cells are left for the next cycle, which reads the sheet anew. Review
decisions (a merge touches two rows and two tabs) are carried out whole or not at all, and a
cycle that carries them out ends there: its own write sets off the next cycle, which does the
rest, so no cycle uses more than four requests.

The batch is recorded pending before the batchUpdate is sent and settled once Google answers.
If the answer never comes (Google gave up, or the connection dropped after Google applied it),
the next cycle settles it from the cells themselves: a values:batchUpdate is applied whole or
not at all, so the batch was written exactly when its cells hold what it wrote.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from itertools import chain
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from rules.dates import EXCEL_EPOCH, FIRST_SERIAL
from sheet_templates import Template, templates_or_builtin
from i18n import _

from ..cycle import ApplyResult
from ..errors import TableLayoutError
from . import bodies
from .client import GoogleSheet
from .install import tab_playing
from .spills import spilled
from ..header import best_header, layout_for, list_values
from ..plan import RuleSettings
from ..table import SheetTable, SideTab
from ..targets import Batch, Step, first_columns, reading_of, rows_as_read

MAX_SERIAL = 2_958_465       # 9999-12-31


def sheet_key(sheet: GoogleSheet) -> str:
    return f"gsheet:{sheet.key}"


@dataclass
class GoogleTarget:
    sheet: GoogleSheet
    templates: Sequence[Template] | None = None
    tab: str | None = None            # the list's tab, when named (else found by its header)
    requests: int = 0
    reads_again = False
    writes_whole = True

    @property
    def key(self) -> str:
        return sheet_key(self.sheet)

    @property
    def reading(self) -> str:
        return reading_of(self.templates, self.tab)

    def peek(self) -> None:
        return None      # only a read (two requests) tells

    def read(self) -> SheetTable:
        templates = templates_or_builtin(self.templates)
        titles = self.sheet.tabs()
        self.requests += 1
        tab = self._table_tab(titles, templates)
        side = {role: tab_playing(role, titles, templates)
                for role in ("lists", "review", "merged")}
        ledger_names = {n for tpl in templates for g in tpl.ledgers
                        for n in g.sheet_names.values()}
        wanted = [tab, *(t for t in side.values() if t),
                  *(t for t in titles if t in ledger_names and t != tab)]
        values = self.sheet.read(wanted, formulas=True)
        self.requests += 1
        table = table_from_values(self.key, tab, values[tab], values.get(side["lists"]) or [],
                                  templates)
        # The digest covers every tab read: a decision on the Review tab, a purchase entered,
        # is a change too.
        digest = hashlib.sha256(json.dumps([values[t] for t in wanted],
                                           default=str).encode()).hexdigest()
        review, merged = (SideTab.from_rows(side[r], values[side[r]]) if side[r] else None
                          for r in ("review", "merged"))
        ledgers = {}
        for g in table.layout.template.ledgers:
            name = next((t for t in wanted if t in g.sheet_names.values()), None)
            if name is not None:
                ledgers[g.key] = _ledger_tab(g, SideTab.from_rows(name, values[name]))
        return dataclasses.replace(table, digest=digest, review=review, merged=merged,
                                   ledgers=ledgers)

    def _table_tab(self, titles: list[str], templates: Sequence[Template]) -> str:
        """The tab named for this target, else the first named as a template names its table
        (else the first tab, where a header may still be found)."""
        tab = self.tab or next((t for t in titles for tpl in templates
                                if t in tpl.sheet_names.values()), titles[0])
        if tab not in titles:
            raise TableLayoutError(_("{key}: there is no tab called {tab}; the tabs are: {value}",
                                     key=self.key, tab=repr(tab), value=', '.join(titles)))
        return tab

    @staticmethod
    def parts(batch: Batch) -> list[list[int]]:
        """Bodies of at most 2 MB (Google's advice; it refuses one over 10 MiB), whole rows
        together: a big first cycle is a few guarded, audited writes."""
        return bodies.parts(batch.cells)

    def prepare(self, table: SheetTable, batch: Batch) -> "GuardedWrite":
        """The guard: one request reads the rows about to change again; only cells whose row
        is still exactly as the cycle read it are written."""
        outcome = self.sheet.guard(batch.cells, rows_as_read(table, batch),
                                   first_columns(table))
        self.requests += 1
        fresh = {(tab, w.row, w.column) for tab, w in outcome.written}
        done = tuple(k for k, (tab, w) in enumerate(batch.cells)
                     if (tab, w.row, w.column) in fresh)
        return GuardedWrite(self, [batch.cells[k] for k in done], done)


class GuardedWrite:
    """Cells the guard let through, sent as one values:batchUpdate on commit (applied whole or
    not at all by Google; a dropped answer leaves it for the next read to settle)."""

    restyled: dict[int, int] = {}
    digest = ""

    def __init__(self, target: GoogleTarget, cells: list, done: tuple[int, ...]):
        self.target, self.cells, self.done = target, cells, done

    def commit(self, between: Step | None = None) -> None:
        sheet = self.target.sheet
        if sheet.grow(self.cells):
            self.target.requests += 1     # a tab outgrew its grid: rare, then one request more
        self.target.requests += 1
        sheet.put(self.cells)

    def __enter__(self) -> "GuardedWrite":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


def apply_google(sheet: GoogleSheet, settings: RuleSettings, data: Path,
                 templates: Sequence[Template] | None = None, tab: str | None = None,
                 auto_merge: str = "none", dry_run: bool = False) -> ApplyResult:
    from ..opening import apply_to
    return apply_to(GoogleTarget(sheet, templates, tab), settings, data, dry_run, auto_merge)


def table_from_values(source: str, tab: str, values: list[list[Any]],
                      lists: list[list[Any]], templates: Sequence[Template]) -> SheetTable:
    """A SheetTable from a tab's value grid (formula cells as "=…" text). Its digest is left
    to the caller, who knows which tabs a change anywhere in should count."""
    match = best_header(values, templates)
    if match is None:
        raise TableLayoutError(_("{source}: no header row found on tab {tab}; install the "
                                 "template with `sheetkeeper install crm --to gsheet:KEY`",
                                 source=source, tab=repr(tab)))
    layout = layout_for(values[match.row], match.row + 1, match.template)
    first, width = layout.first_column, len(layout.headers)
    dates = {j for key, j in layout.columns.items()
             if layout.template.column(key).type == "date"}
    rows, numbers, formulas = [], [], set()
    for r in range(layout.header_row, len(values)):
        cells = list(values[r][first:first + width]) + [None] * width
        cells = cells[:width]
        for j in dates:
            cells[j] = as_date(cells[j])
        for j, v in enumerate(cells):
            if isinstance(v, str) and v.startswith("="):
                formulas.add((r + 1, j))
        if all(v in (None, "") for v in cells):
            continue
        rows.append(tuple(None if v == "" else v for v in cells))
        numbers.append(r + 1)
    # An array formula's result reads as plain values: never written, as a formula's own cell.
    # Its formula may stand anywhere on the tab: the table's formula cells are known from the
    # loop above; only the title rows and columns beside the table are looked at for more.
    anchors = [(number - 1, first + j) for number, j in formulas]
    anchors += _formulas_beside(values, first, width, layout.header_row)
    formulas |= {(r + 1, c - first) for r, c in spilled(values, anchors)
                 if r >= layout.header_row and first <= c < first + width}
    return SheetTable(source=source, sheet=tab, layout=layout, rows=tuple(rows),
                      row_numbers=tuple(numbers), formulas=frozenset(formulas),
                      list_values=list_values(lists, layout))


def _formulas_beside(values: list[list[Any]], first: int, width: int, data_from: int
                     ) -> list[tuple[int, int]]:
    """(row, column), 0-based, of the formula cells of a tab that are not the table's: in the
    rows above its data, and beside its columns."""
    out = []
    for r, row in enumerate(values):
        columns = range(len(row)) if r < data_from else \
            chain(range(min(first, len(row))), range(first + width, len(row)))
        out += [(r, c) for c in columns if isinstance(row[c], str) and row[c].startswith("=")]
    return out


def _ledger_tab(ledger, tab: SideTab) -> SideTab:
    """A ledger tab's date cells as the dates they show (Google gives serial numbers)."""
    from ..ledgers import ledger_columns
    dates = [j for k, j in ledger_columns(ledger, tab).items()
             if ledger.column(k).type == "date"]
    # A formula reads as its text ("=…"): never written over.
    tab = dataclasses.replace(tab, formulas=frozenset(
        (number, j) for number, row in tab.rows for j, v in enumerate(row)
        if v.__class__ is str and v.startswith("=")))
    if not dates:
        return tab
    rows = []
    for number, row in tab.rows:
        row = list(row)
        for j in dates:
            if j < len(row):
                row[j] = as_date(row[j])
        rows.append((number, tuple(row)))
    return dataclasses.replace(tab, rows=tuple(rows))


def as_date(value: Any) -> Any:
    """Google gives a date cell as its serial number; a workbook's date cell reads as a date.
    Read it as the date it shows, or every cycle would 'normalise' it again. (A typed
    20240305 is beyond the last serial, 2958465, and stays a number for the date rule, and so
    does a number too small to be a date a list holds, such as a bare year.)"""
    if isinstance(value, (int, float)) and not isinstance(value, bool) \
            and FIRST_SERIAL <= value <= MAX_SERIAL:
        day = EXCEL_EPOCH + dt.timedelta(days=int(value))
        fraction = value - int(value)
        return day if not fraction else dt.datetime.combine(day, dt.time()) + dt.timedelta(
            seconds=round(fraction * 86400))
    return value
