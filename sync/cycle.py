"""One sync cycle on a workbook: read → diff against the last state seen → rules → safe write →
audit. And undo, which is a cycle of its own.

The order of the steps is what makes the promises hold:
- person edits are logged before anything is written, and the seen state moves on with them, so
  a retried cycle never logs them twice;
- the batch is recorded `pending` (with the digest the new workbook will have) just before the
  file is replaced, then `written`; a crash in between is settled by the next cycle from the
  digest, so the log always says exactly which changes reached the workbook;
- a workbook that changed on disk since it was read is read and planned again (a person got
  there first); one open in Excel or LibreOffice is left for the next cycle.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from audit.log import AuditLog, ChangeRecord, encode_value
from rules.ids import id_number
from sheet_templates import Template

from .errors import SheetkeeperError
from .plan import CellChange, Plan, RuleSettings, plan_table
from .seen import SeenStore, person_edits, rows_by_id
from .table import SheetTable
from .xlsx_read import read_table
from .xlsx_write import CellWrite, WorkbookBusy, WorkbookChanged, WriteFailed, write_cells

DATA_FOLDER = ".sheetkeeper"
ATTEMPTS = 3


@dataclass(frozen=True)
class ApplyResult:
    plan: Plan
    batch: str | None            # what sheetkeeper wrote (None: nothing to write, or dry run)
    person_batch: str | None     # the person edits found since the last cycle
    written: int
    attempts: int


def default_data_folder(workbook: Path) -> Path:
    return workbook.resolve().parent / DATA_FOLDER


def workbook_key(path: Path) -> str:
    return str(Path(path).resolve())


def apply_workbook(path: Path | str, settings: RuleSettings, data: Path | None = None,
                   dry_run: bool = False, templates: Sequence[Template] | None = None,
                   sheet: str | None = None) -> ApplyResult:
    path = Path(path)
    data = data or default_data_folder(path)
    key = workbook_key(path)
    with AuditLog(data / "audit.sqlite3") as audit:
        seen = SeenStore(data)
        for attempt in range(1, ATTEMPTS + 1):
            table = read_table(path, templates, sheet)
            audit.settle_pending(key, table.digest)
            plan = plan_table(table, dataclasses.replace(
                settings, ids_issued=max(settings.ids_issued, audit.counter(key, "ids_issued"))))
            plan = _without_held(plan, audit.holds(key))
            if dry_run:
                return ApplyResult(plan, None, None, 0, attempt)
            as_read = rows_by_id(table, [list(r) for r in table.rows], _ids(table, table.rows))
            edits = person_edits(seen.load(path), as_read, _own_columns(table))
            person_batch = audit.record(key, table.sheet, edits, "person", actor="person") \
                if edits else None
            seen.save(path, as_read)
            if not plan.changes:
                return ApplyResult(plan, None, person_batch, 0, attempt)
            batch = _write(path, key, table, plan, audit)
            if batch is None:
                continue   # changed on disk meanwhile: read again and re-plan
            after = plan.values_after()
            seen.save(path, rows_by_id(table, after, _ids(table, after)))
            return ApplyResult(plan, batch, person_batch, len(plan.changes), attempt)
    raise WorkbookChanged(f"{path}: kept changing while sheetkeeper worked ({ATTEMPTS} tries); "
                          "nothing was written. It will try again on the next cycle")


def _write(path: Path, key: str, table: SheetTable, plan: Plan, audit: AuditLog) -> str | None:
    layout = table.layout
    writes = [CellWrite(c.row_number, layout.first_column + layout.columns[c.key], c.after)
              for c in plan.changes]
    sheet = table.sheet
    records = [ChangeRecord(c.row_id, c.column, c.before, c.after, c.rule, c.reason)
               for c in plan.changes]
    numbers = [n for c in plan.changes if c.rule == "id" and (n := id_number(c.after,
                                                                             layout.template.id))]
    batch: str | None = None

    def record_pending(new_digest: str, restyled: dict) -> None:
        nonlocal batch
        styled = [dataclasses.replace(r, style_before=restyled.get((sheet, w.row, w.column)))
                  for w, r in zip(writes, records)]
        batch = audit.record(key, table.sheet, styled, "apply", status="pending",
                             digest_after=new_digest,
                             counters={"ids_issued": max(numbers)} if numbers else None)

    try:
        write_cells(path, {sheet: writes}, table.digest, before_replace=record_pending)
    except WorkbookChanged:
        if batch:
            audit.settle(batch, "abandoned")
        return None
    except (WorkbookBusy, WriteFailed):
        if batch:
            audit.settle(batch, "abandoned")
        raise
    audit.settle(batch, "written")
    return batch


def _ids(table: SheetTable, rows: Sequence[Sequence[Any]]) -> list[str | None]:
    fmt = table.layout.template.id
    j = table.layout.index(fmt.column)
    if j is None:
        return [None] * len(rows)
    out = []
    for row in rows:
        number = id_number(row[j], fmt)
        out.append(fmt.format(number) if number is not None else
                   (None if row[j] in (None, "") else str(row[j])))
    return out


def _own_columns(table: SheetTable) -> set[str]:
    """Columns only sheetkeeper writes: a difference there is not a person's edit."""
    layout = table.layout
    return {layout.headers[j] for k, j in layout.columns.items()
            if layout.template.column(k).type in ("findings", "status")}


def _without_held(plan: Plan, holds: set[tuple[str, str, str]]) -> Plan:
    """Drop changes to cells a person restored with undo, while they still hold that value."""
    if not holds:
        return plan
    assigned = {c.row_id for c in plan.changes if c.rule == "id"}

    def held(c: CellChange) -> bool:
        value = encode_value(c.before)
        return ((c.row_id or "", c.column, value) in holds
                or (c.row_id in assigned and ("", c.column, value) in holds))

    return dataclasses.replace(plan, changes=tuple(c for c in plan.changes if not held(c)))


# -- undo --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UndoResult:
    batch: str                         # the undo's own batch (None if nothing to restore)
    undone: str
    restored: int
    skipped: tuple[str, ...]           # what a person changed since: reported, not touched


class UndoError(SheetkeeperError):
    pass


def undo_batch(batch: str, data: Path) -> UndoResult:
    with AuditLog(data / "audit.sqlite3") as audit:
        info = audit.batch_info(batch)
        if info is None:
            raise UndoError(f"there is no batch {batch!r} in {data}; `sheetkeeper audit` "
                            "lists the batches")
        workbook, sheet, kind, _, status = info
        if status != "written":
            raise UndoError(f"batch {batch} was never written to the workbook ({status}); "
                            "there is nothing to undo")
        entries = [e for e in audit.entries(batch=batch) if e.actor == "sheetkeeper"]
        path = Path(workbook)
        for _ in range(ATTEMPTS):
            table = read_table(path, sheet=sheet)
            layout = table.layout
            ids = _ids(table, table.rows)
            row_of = {rid: i for i, rid in enumerate(ids) if rid}
            writes, records, skipped, held = [], [], [], []
            # Rows whose ID this batch assigned lose it again; their cells are held by value.
            unassigned = {e.row_id for e in entries if e.rule == "id"}
            for e in reversed(entries):
                # An ID the batch assigned is found by that ID itself.
                i = row_of.get(e.row_id)
                j = layout.headers.index(e.column) if e.column in layout.headers else None
                if i is None or j is None:
                    skipped.append(f"{e.row_id} {e.column}: the row or column is no longer "
                                   "in the sheet")
                    continue
                current = table.rows[i][j]
                if not _same(current, e.after):
                    skipped.append(f"{e.row_id} {e.column}: changed since to {current!r}; "
                                   "left as it is")
                    continue
                writes.append(CellWrite(table.row_numbers[i], layout.first_column + j, e.before,
                                        style=e.style_before))
                records.append(ChangeRecord(e.row_id, e.column, current, e.before, "undo",
                                            f"undo of batch {batch} ({e.rule})"))
                if e.rule not in ("id", "findings", "status"):
                    held.append((None if e.row_id in unassigned else e.row_id, e.column,
                                 e.before))
            if not writes:
                return UndoResult(None, batch, 0, tuple(skipped))
            undo: str | None = None

            def record_pending(new_digest: str, restyled: dict) -> None:
                nonlocal undo
                styled = [dataclasses.replace(r, style_before=restyled.get((sheet, w.row,
                                                                             w.column)))
                          for w, r in zip(writes, records)]
                undo = audit.record(workbook, sheet, styled, "undo", note=f"undo of {batch}",
                                    status="pending", digest_after=new_digest)

            try:
                write_cells(path, {sheet: writes}, table.digest, before_replace=record_pending)
            except WorkbookChanged:
                if undo:
                    audit.settle(undo, "abandoned")
                continue
            except (WorkbookBusy, WriteFailed):
                if undo:
                    audit.settle(undo, "abandoned")
                raise
            audit.settle(undo, "written")
            audit.hold(workbook, held)
            return UndoResult(undo, batch, len(writes), tuple(skipped))
    raise WorkbookChanged(f"{workbook}: kept changing; the undo was not written. Try again")


def _same(current: Any, recorded: Any) -> bool:
    """Equal as cell values: calamine reads numbers as floats and dates with a time part."""
    if isinstance(current, float) and isinstance(recorded, (int, float)) \
            and not isinstance(recorded, bool):
        return current == recorded
    if isinstance(current, dt.datetime) and type(recorded) is dt.date:
        return current == dt.datetime.combine(recorded, dt.time())
    if current in ("", None) and recorded in ("", None):
        return True
    return current == recorded
