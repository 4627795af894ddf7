"""Undo: a batch's before-values put back where its after-values still stand, as a batch of its
own (so an undo can be undone). A cell a person changed since is reported and left alone; the
values restored are held, so the rules do not normalise them again."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from audit.log import AuditLog, ChangeRecord
from i18n import _

from .cells import CellPlaces, CellWrite, same_value
from .cycle import AUDIT, ATTEMPTS
from .cycle_lock import one_at_a_time
from .errors import SheetkeeperError, WorkbookChanged
from .table import SheetTable
from .targets import Batch, Target
from .writing import settle_pending, write_batch


@dataclass(frozen=True)
class UndoResult:
    batch: str                         # the undo's own batch (None if nothing to restore)
    undone: str
    restored: int
    skipped: tuple[str, ...]           # what a person changed since: reported, not touched


class UndoError(SheetkeeperError):
    pass


def undo_batch(batch: str, data: Path, open_target: Callable[[str, str], Target]
               ) -> UndoResult:
    """Restore the before-values of `batch` where its after-values still stand. `open_target`
    (key, sheet) opens what the batch was written to."""
    with AuditLog(data / AUDIT) as audit, contextlib.ExitStack() as locked:
        info = audit.batch_info(batch)
        if info is None:
            raise UndoError(_("there is no batch {batch} in {data}; `sheetkeeper audit` lists "
                              "the batches", batch=repr(batch), data=data))
        workbook, sheet, kind = info[:3]
        if kind == "export":
            raise UndoError(_("batch {batch} is an export: it wrote a file, not the list; there "
                              "is nothing to undo (delete the file)", batch=batch))
        target = open_target(workbook, sheet)
        locked.enter_context(one_at_a_time(data, workbook))
        for _attempt in range(ATTEMPTS):
            table = target.read()
            # A batch a crash left pending is settled from the cells first: it may well be
            # written, and then it can be undone.
            settle_pending(audit, workbook, table, getattr(target, "writes_whole", True))
            status = audit.batch_info(batch)[4]
            if status != "written":
                raise UndoError(_("batch {batch} was never written to the workbook ({status}); "
                                  "there is nothing to undo", batch=batch, status=status))
            entries = [e for e in audit.entries(batch=batch) if e.actor == "sheetkeeper"]
            work, skipped, held = _restoring(table, entries, batch)
            _removing_rows(table, entries, work)
            if kind == "merge":
                _requeue(table, entries, work)
            if not work.records:
                return UndoResult(None, batch, 0, tuple(skipped))
            undo = write_batch(target, table, work, audit, "undo", note=f"undo of {batch}")
            if undo is None:
                continue
            audit.hold(workbook, held)
            return UndoResult(undo.batch, batch, len(work.records), tuple(skipped))
    raise WorkbookChanged(_("{workbook}: kept changing; the undo was not written. Try again",
                            workbook=workbook))


def _restoring(table: SheetTable, entries, batch: str
               ) -> tuple[Batch, list[str], list[tuple[str | None, str, object]]]:
    """The cells that put `entries` back (newest first), what is skipped and why, and the
    values to hold against the rules afterwards."""
    work, skipped, held = Batch.empty(), [], []
    # Rows whose ID this batch assigned lose it again; their cells are held by value.
    unassigned = {e.row_id for e in entries if e.rule == "id"}
    places = CellPlaces(table)
    for e in reversed(entries):
        place = places.locate(e)
        if place is None:
            skipped.append(_("{row} {column}: {why}", row=e.row_id or _("a row"),
                             column=e.column, why=places.why_not(e)))
            continue
        where, row, col, current = place
        if not same_value(current, e.after):
            skipped.append(_("{row_id} {column}: changed since to {current}; left as it is",
                             row_id=e.row_id, column=e.column, current=repr(current)))
            continue
        work.cells.append((where, CellWrite(row, col, e.before, style=e.style_before)))
        work.records.append(ChangeRecord(e.row_id, e.column, current, e.before, "undo",
                                         _("undo of batch {batch} ({rule})",
                                           batch=batch, rule=e.rule),
                                         sheet=None if where == table.sheet else where))
        # An empty cell needs no hold: no cell rule is run on one (sync.evaluate). An import's
        # undo empties tens of thousands, and each hold is a row written to the log.
        if e.rule not in ("id", "findings", "status", "review", "merge") \
                and where == table.sheet and e.before is not None:
            held.append((None if e.row_id in unassigned else e.row_id, e.column, e.before))
    return work, skipped, held


def _removing_rows(table: SheetTable, entries, work: Batch) -> None:
    """A row the batch added (an import's: it gave the row its ID and every value) goes whole:
    once the undo empties it, what later cycles wrote in sheetkeeper's own columns of that row
    (its Status, its Findings) goes too, or a row of findings about nobody would stay."""
    added = {e.row_id for e in entries if e.rule == "id" and e.before in (None, "")}
    if not added:
        return
    layout = table.layout
    own = [j for k, j in layout.columns.items()
           if layout.template.column(k).type in ("status", "findings")]
    first = layout.first_column
    emptied: dict[int, dict[int, object]] = {}       # sheet row -> column -> value written
    for where, w in work.cells:
        if where == table.sheet:
            emptied.setdefault(w.row, {})[w.column - first] = w.value
    for rid in added:
        i = table.by_id.get(rid)
        if i is None:
            continue
        number, row = table.row_numbers[i], table.rows[i]
        written = emptied.get(number, {})
        after = [written.get(j, v) for j, v in enumerate(row)]
        if any(v not in (None, "") for j, v in enumerate(after) if j not in own):
            continue          # a person has typed in it since: the row stays, with its values
        for j in own:
            if after[j] not in (None, "") and (number, j) not in table.formulas:
                work.cells.append((table.sheet, CellWrite(number, first + j, None)))
                work.records.append(ChangeRecord(rid, layout.headers[j], after[j], None,
                                                 "undo", _("the row the batch added goes whole")))


def _requeue(table: SheetTable, entries, work: Batch) -> None:
    """Undoing a merge puts the pair back in the review queue undecided; otherwise the next
    cycle would act on the same decision and merge it again."""
    tab = table.review
    if tab is None:
        return
    words = table.layout.template.words["review_headers"]
    decision = next((tab.headers.index(t) for t in words["decision"].values()
                     if t in tab.headers), None)
    if decision is None:
        return
    pairs = {e.row_id for e in entries if e.sheet == tab.name}
    for number, row in tab.rows:
        if row and str(row[0]) in pairs and decision < len(row) and row[decision]:
            work.cells.append((tab.name, CellWrite(number, decision, None)))
            work.records.append(ChangeRecord(str(row[0]), tab.headers[decision], row[decision],
                                             None, "undo", _("the pair goes back to the review "
                                                             "queue"), sheet=tab.name))
