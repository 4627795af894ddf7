"""How a batch reaches a target, with the audit log saying exactly what did: the bookkeeping
every write goes through (the cycle's, a merge's, an undo's), the same for every target.

    prepare (under the target's guard) -> record the batch pending -> commit -> mark it written

A batch the target refused is marked abandoned. One whose commit may or may not have landed (a
crash, a save just after the replace, an answer that never came) stays pending, and the next
read settles it by its cells (`settle_pending`): it was written if the cells it wrote hold its
after-values rather than its before-values, or if the target is the very digest it recorded.
Settling by the cells, not by the whole file, is what keeps a person's unrelated save after a
crash from turning a written batch into an abandoned one.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

from audit.log import OPEN_BOOK_MARK, AuditLog, ChangeRecord
from i18n import _

from .cells import CellPlaces, same_value
from .errors import WorkbookBusy, WorkbookChanged, WriteFailed, WriteUncertain
from .table import SheetTable
from .targets import Batch, Step, Target, Written


def _no_step(_: str) -> None:
    pass


def write_batch(target: Target, table: SheetTable, batch: Batch, audit: AuditLog, kind: str,
                counters: dict[str, int] | None = None, note: str = "", whole: bool = True,
                between: Step = _no_step) -> Written | None:
    """Write `batch` into the rows of `target` still as `table` read them, recorded in `audit`
    as one batch of what was written. `whole`: all of it or nothing. None when nothing was
    written because the target changed since it was read (read it again).

    Not `whole`, the batch goes out in the parts the target can carry in one write
    (`target.parts`: a Google Sheet's request bodies are bounded), each guarded, recorded and
    committed as a batch of its own, so that the log says exactly which parts reached the
    target when one of them does not. A part that finds the target changed ends the write
    there: what is not written is left for the next read. (A whole batch, a merge or an undo,
    is never split: it is two rows, or a batch that was written in one part before.)"""
    parts = [list(range(len(batch.cells)))] if whole else target.parts(batch)
    done: list[int] = []
    moved: list[str] = []
    batches: list[str] = []
    digest = ""
    for n, part in enumerate(parts):
        # The IDs issued are counted with the first part: a number is never issued twice,
        # even if a later part never lands.
        one = _write_part(target, table, batch.part(part), audit, kind,
                          counters if n == 0 else None, note, whole, between)
        if one is None:
            if n == 0:
                return None
            break
        done += [part[k] for k in one.done]
        moved += one.moved
        batches += [one.batch] if one.batch else []
        digest = one.digest
    return Written(batches[0] if batches else None, tuple(sorted(done)), tuple(moved), digest,
                   tuple(batches))


def _write_part(target: Target, table: SheetTable, batch: Batch, audit: AuditLog, kind: str,
                counters: dict[str, int] | None, note: str, whole: bool,
                between: Step) -> Written | None:
    try:
        prepared = target.prepare(table, batch)
    except WorkbookChanged:
        return None
    with prepared:
        done = prepared.done
        moved = tuple(f"{batch.records[k].row_id} {batch.records[k].column}"
                      for k in sorted(set(range(len(batch.cells))) - set(done)))
        if whole and moved:
            return None
        if not done:
            return Written(None, (), moved)
        between("prepared")
        try:
            # A target may say where its writes go (the open workbook in Excel: not saved).
            written = record_and_commit(audit, target.key, table.sheet,
                                        _records(batch, done, prepared.restyled), prepared, kind,
                                        counters, _note(note, prepared), between)
        except (WorkbookChanged, WriteUncertain):
            return None      # read again (a batch left pending is settled by its cells)
    return Written(written, done, moved, prepared.digest)


def record_and_commit(audit: AuditLog, key: str, sheet: str, records: list[ChangeRecord],
                      prepared, kind: str, counters: dict[str, int] | None = None,
                      note: str = "", between: Step = _no_step) -> str:
    """Record `records` as a pending batch, commit `prepared` (anything with `digest` and
    `commit(between)`), mark the batch written; its id. Where the commit is refused
    (WorkbookChanged, WorkbookBusy, WriteFailed) the batch is marked abandoned and the error
    raised; where it cannot tell (WriteUncertain), the batch stays pending for a read to
    settle, and the error is raised."""
    batch = audit.record(key, sheet, records, kind, status="pending",
                         digest_after=prepared.digest, counters=counters, note=note)
    between("pending")
    try:
        prepared.commit(between)
    except (WorkbookChanged, WorkbookBusy, WriteFailed):
        audit.settle(batch, "abandoned")
        raise
    between("committed")
    audit.settle(batch, "written")
    between("settled")
    return batch


def _note(note: str, prepared) -> str:
    where = getattr(prepared, "note", "")
    return "; ".join(n for n in (note, where) if n)


def _records(batch: Batch, done: Sequence[int], restyled) -> list[ChangeRecord]:
    records = batch.records
    if not restyled:
        return [records[k] for k in done]
    return [dataclasses.replace(records[k], style_before=restyled[k]) if k in restyled
            else records[k] for k in done]


def settle_pending(audit: AuditLog, key: str, table: SheetTable, whole: bool = True
                   ) -> list[str]:
    """Settle the batches a broken-off write left pending, from what `table` holds now; the
    batches found written, oldest first. `whole`: the target writes a batch whole or not at
    all (a workbook's swap, a Google values:batchUpdate), so a batch is written when more of
    its cells say so than not. Where it does not (a workbook open in Excel, written a block at
    a time), a batch cut off part way is settled cell by cell: it is abandoned, and the cells
    that reached the sheet are recorded as a batch of their own, so they are never taken for
    a person's edits."""
    written: list[str] = []
    pending = audit.pending(key)
    if not pending:
        return written
    places = CellPlaces(table)
    for batch in pending:
        if table.digest and audit.batch_digest(batch) == table.digest:
            audit.settle(batch, "written")
            written.append(batch)
            continue
        entries = list(audit.entries(batch=batch))
        landed, kept = _landed(entries, places)
        if not whole and landed and kept:
            audit.settle(batch, "abandoned")
            written.append(_part_written(audit, key, table, batch, landed))
            continue
        audit.settle(batch, "written" if len(landed) > len(kept) else "abandoned")
        if len(landed) > len(kept):
            written.append(batch)
    return written


def _landed(entries, places: CellPlaces) -> tuple[list, list]:
    """The batch's cells that hold what it wrote, and those that still hold what they held
    before. A cell a person has changed since holds neither and says nothing; a row the batch
    gave its ID is found by that ID only if the batch was written."""
    landed, kept = [], []
    for e in entries:
        if same_value(e.before, e.after) or (place := places.locate(e)) is None:
            continue
        current = place[3]
        if same_value(current, e.after):
            landed.append(e)
        elif same_value(current, e.before):
            kept.append(e)
    return landed, kept


def _part_written(audit: AuditLog, key: str, table: SheetTable, batch: str, landed) -> str:
    """The cells of `batch` that reached the sheet before its write was cut off, as a batch of
    its own (of the same kind, written)."""
    kind = audit.batch_info(batch)[2]
    return audit.record(
        key, table.sheet,
        [ChangeRecord(e.row_id, e.column, e.before, e.after, e.rule, e.reason, e.style_before,
                      sheet=None if e.sheet == table.sheet else e.sheet) for e in landed],
        kind, note=f"the part of {batch} that reached the sheet before its write was cut off")


def settle_unsaved(audit: AuditLog, key: str, table: SheetTable) -> list[str]:
    """`table` read from the workbook's file: what became of the batches written into it while
    it was open in Excel (sync.excel), which reach the file only when the person saves. Each
    such batch's note holds the file's digest as it was saved then. The file still that very
    file: the book was closed without saving, and the batch's changes went with it; a batch of
    kind `unsaved` (the person's, as not saving was their decision) puts them back in the log,
    newest first, so that the log says what the workbook holds, the next diff finds no edits
    nobody made, and the rules do the changes again. Saved since: a `saved` batch of no changes
    says so. The batches found not saved, newest first."""
    waiting = audit.awaiting_save(key)
    if not waiting:
        return []
    gone: list[str] = []
    for batch, note in reversed(waiting):
        saved_as = note.split(OPEN_BOOK_MARK, 1)[1][:64]
        if table.digest and table.digest == saved_as:
            back = [ChangeRecord(e.row_id, e.column, e.after, e.before, "unsaved",
                                 _("written into the workbook while it was open in Excel, and "
                                   "not kept: it was closed without saving"),
                                 sheet=None if e.sheet == table.sheet else e.sheet)
                    for e in reversed(list(audit.entries(batch=batch)))]
            audit.record(key, table.sheet, back, "unsaved", actor="person",
                         note=f"not saved: {batch} was written into the workbook open in Excel, "
                              "which was closed without saving")
            gone.append(batch)
        else:
            audit.record(key, table.sheet, [], "saved",
                         note=f"saved: {batch} is in the file: the workbook was saved in Excel "
                              "after it was written")
    return gone
