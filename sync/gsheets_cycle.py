"""One sync cycle on a Google Sheet: the same rules and the same audit log as for a workbook, at
most four API requests whatever the number of rows:

    1. the tab list (which tab holds the list, and the Lists tab)
    2. one values:batchGet of both, formulas as formulas (so they are never normalised)
    3. the guard: one batchGet of exactly the cells about to change   } only when there is
    4. one RAW values:batchUpdate of those still as the cycle read them } something to write

A write goes only into rows still exactly as this cycle read them, so a person editing,
inserting, deleting or sorting rows meanwhile cannot be overwritten nor make a write land on
another row: those rows are left for the next cycle, which reads the sheet anew.

Not yet here (see the README): the Review tab and merges, holds after undo, and incremental
judging; every cycle judges every row.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from audit.log import AuditLog, ChangeRecord
from rules.ids import id_number
from sheet_templates import BUILTIN, Template, builtin

from .cycle import _ids as row_ids, _own_columns
from .errors import TableLayoutError
from .gsheets import SERIAL_EPOCH, GoogleSheet
from .header import best_header, layout_for
from .plan import Plan, RuleSettings, plan_table
from .seen import Seen, SeenStore, person_edits, rows_by_id
from .table import SheetTable
from .xlsx_read import list_values
from .xlsx_write import CellWrite


MAX_SERIAL = 2_958_465       # 9999-12-31


@dataclass(frozen=True)
class GoogleCycle:
    plan: Plan
    batch: str | None              # what was written (None: nothing)
    person_batch: str | None
    written: int
    moved: tuple[str, ...]         # cells a person changed meanwhile: left for the next cycle
    requests: int                  # API requests this cycle used


def sheet_key(sheet: GoogleSheet) -> str:
    return f"gsheet:{sheet.key}"


def apply_google(sheet: GoogleSheet, settings: RuleSettings, data: Path,
                 templates: Sequence[Template] | None = None) -> GoogleCycle:
    templates = list(templates) if templates else [builtin(n) for n in BUILTIN]
    key = sheet_key(sheet)
    titles = sheet.tabs()
    tab = next((t for t in titles for tpl in templates if t in tpl.sheet_names.values()), None)
    lists_names = {n for tpl in templates for n in tpl.words["tabs"]["lists"].values()}
    lists = next((t for t in titles if t in lists_names), None)
    read = sheet.read([t for t in (tab or titles[0], lists) if t], formulas=True)
    table = table_from_values(key, tab or titles[0], read[tab or titles[0]],
                              read.get(lists, []), templates)
    with AuditLog(data / "audit.sqlite3") as audit:
        effective = dataclasses.replace(
            settings, kept_pairs=audit.kept_pairs(key),
            ids_issued=max(settings.ids_issued, audit.counter(key, "ids_issued")))
        plan = plan_table(table, effective)
        seen = SeenStore(data)
        last = seen.load(key)
        ids = _ids(table)
        as_read = rows_by_id(table, [list(r) for r in table.rows], ids)
        edits = person_edits(last.rows if last else None, as_read, _own_columns(table))
        person_batch = audit.record(key, table.sheet, edits, "person", actor="person") \
            if edits else None
        layout = table.layout
        writes = [CellWrite(c.row_number, layout.first_column + layout.columns[c.key], c.after)
                  for c in plan.changes]
        batch, written, moved, requests = None, 0, (), 2
        if writes:
            by_cell = {(w.row, w.column): c for w, c in zip(writes, plan.changes)}
            outcome = sheet.write({table.sheet: writes}, read_rows(table), layout.first_column)
            requests += 2 if outcome.written else 1
            done = [by_cell[(w.row, w.column)] for _, w in outcome.written]
            moved = tuple(f"{by_cell[(w.row, w.column)].row_id} {by_cell[(w.row, w.column)].column}"
                          for _, w in outcome.moved)
            numbers = [n for c in done if c.rule == "id"
                       and (n := id_number(c.after, layout.template.id))]
            if done:
                batch = audit.record(key, table.sheet, [
                    ChangeRecord(c.row_id, c.column, c.before, c.after, c.rule, c.reason)
                    for c in done], "apply",
                    counters={"ids_issued": max(numbers)} if numbers else None)
            written = len(done)
            after = [list(r) for r in table.rows]
            index = {n: i for i, n in enumerate(table.row_numbers)}
            for c in done:
                after[index[c.row_number]][layout.columns[c.key]] = c.after
            as_read = rows_by_id(table, after, _ids(table, after))
        seen.save(key, Seen(as_read, {}, "", "", settings.today.isoformat()))
    return GoogleCycle(plan, batch, person_batch, written, moved, requests)


def read_rows(table: SheetTable) -> dict[tuple[str, int], list[Any]]:
    """Each data row as the cycle read it (formulas as their "=…" text): the guard's
    reference for whether a row is still the one the plan was made for."""
    return {(table.sheet, n): list(row) for n, row in zip(table.row_numbers, table.rows)}


def table_from_values(source: str, tab: str, values: list[list[Any]],
                      lists: list[list[Any]], templates: Sequence[Template]) -> SheetTable:
    """A SheetTable from a tab's value grid (formula cells as "=…" text)."""
    match = best_header(values, templates)
    if match is None:
        raise TableLayoutError(f"{source}: no header row found on tab {tab!r}; install the "
                               "template with `sheetkeeper install crm --to gsheet:KEY`")
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
    digest = hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()
    return SheetTable(source=source, sheet=tab, layout=layout, rows=tuple(rows),
                      row_numbers=tuple(numbers), formulas=frozenset(formulas),
                      list_values=list_values(lists, layout), digest=digest)


def as_date(value: Any) -> Any:
    """Google gives a date cell as its serial number; a workbook's date cell reads as a date.
    Read it as the date it shows, or every cycle would 'normalise' it again. (A typed
    20240305 is beyond the last serial, 2958465, and stays a number for the date rule.)"""
    if isinstance(value, (int, float)) and not isinstance(value, bool) \
            and 1 <= value <= MAX_SERIAL:
        day = SERIAL_EPOCH + dt.timedelta(days=int(value))
        fraction = value - int(value)
        return day if not fraction else dt.datetime.combine(day, dt.time()) + dt.timedelta(
            seconds=round(fraction * 86400))
    return value


def _ids(table: SheetTable, rows: list[list[Any]] | None = None) -> list[str | None]:
    return row_ids(table, rows if rows is not None else table.rows)   # one rule, both backends
