"""One sync cycle on a workbook: read → diff against the last state seen → rules → safe write →
audit. And undo, which is a cycle of its own.

The order of the steps is what makes the promises hold:
- person edits are logged before anything is written, and the seen state moves on with them, so
  a retried cycle never logs them twice; the seen state says how far into the audit log it
  took in, and what was logged after that (an undo; the batches of a cycle killed before it
  saved what it saw) is taken in before the next diff, so it is not logged as a person's;
- the batch is recorded `pending` (with the digest the new workbook will have) just before the
  file is replaced, then `written`; a crash in between is settled by the next cycle from the
  digest, so the log always says exactly which changes reached the workbook;
- a workbook that changed on disk since it was read is read and planned again (a person got
  there first); one open in Excel or LibreOffice is left for the next cycle.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from audit.log import AuditLog, ChangeRecord, encode_value
from rules.ids import id_number
from sheet_templates import Template

from .errors import SheetkeeperError
from . import collector, review
from .cycle_lock import one_at_a_time
from .plan import CellChange, DuplicateMatch, Finding, Plan, RuleSettings, plan_table
from .seen import (Seen, SeenBody, SeenStateError, SeenStore, encode_body, folded,
                   rows_by_id, same_value, with_changes)
from .since import since_last
from .table import SheetTable, TableFacts
from .targets import Batch, Target
from .xlsx.target import WorkbookTarget
from .xlsx.write import CellWrite, WorkbookChanged, date_formats

DATA_FOLDER = ".sheetkeeper"
ATTEMPTS = 3


@dataclass(frozen=True)
class ApplyResult:
    plan: Plan
    batch: str | None            # what sheetkeeper wrote (None: nothing to write, or dry run)
    person_batch: str | None     # the person edits found since the last cycle
    written: int
    attempts: int
    merges: tuple[str, ...] = ()   # batches that carried out review decisions first
    notes: tuple[str, ...] = ()    # decisions that could not be carried out, and why
    moved: tuple[str, ...] = ()    # cells left for the next cycle: a person changed their row
    requests: int | None = None    # API requests the cycle used (a remote target)


def default_data_folder(workbook: Path) -> Path:
    return workbook.resolve().parent / DATA_FOLDER


def apply_workbook(path: Path | str, settings: RuleSettings, data: Path | None = None,
                   dry_run: bool = False, templates: Sequence[Template] | None = None,
                   sheet: str | None = None, auto_merge: str = "none") -> ApplyResult:
    path = Path(path)
    return run_cycle(WorkbookTarget(path, templates, sheet), settings,
                     data or default_data_folder(path), dry_run, auto_merge)


def run_cycle(target: Target, settings: RuleSettings, data: Path, dry_run: bool = False,
              auto_merge: str = "none") -> ApplyResult:
    key = target.key
    first_request = target.requests
    merge_batches: list[str] = []

    def result(plan: Plan, *args: Any, **kwargs: Any) -> ApplyResult:
        used = None if first_request is None else target.requests - first_request
        return ApplyResult(plan, *args, merges=tuple(merge_batches), requests=used, **kwargs)

    with AuditLog(data / "audit.sqlite3") as audit, one_at_a_time(data, key), collector.paused():
        seen = SeenStore(data)
        # What this cycle has seen but not saved yet: saved once, at the end, or by `finally`
        # if the cycle stops early, so person edits once logged are never logged twice.
        unsaved: Seen | None = None
        ahead: SeenBody | None = None      # its rows part, if encoded already
        try:
            attempt = 0
            while attempt < ATTEMPTS:
                attempt += 1
                effective = dataclasses.replace(
                    settings, kept_pairs=audit.kept_pairs(key),
                    ids_issued=max(settings.ids_issued, audit.counter(key, "ids_issued")))
                judged_with = _judged_with(effective, auto_merge, target.reading)
                last = unsaved or seen.load(key)
                quiet = (last is not None and not dry_run and last.facts
                         and last.day == settings.today.isoformat()
                         and last.judged_by == _judged_by(last.read_as, judged_with))
                if quiet and not unsaved and last.digest == target.digest_now() \
                        and not audit.pending(key):
                    # The very bytes a quiet cycle left, judged the same way on the same day:
                    # its findings stand, and there is nothing to do, nor to read.
                    return result(_unchanged_plan(last), None, None, 0, attempt)
                table, last = _read(target, seen, last)   # None if its rows are damaged
                landed = target.settle(audit, table)
                if quiet and last is not None and last.digest == table.digest:
                    # The same, for a target that cannot tell without reading (a Google Sheet).
                    return result(_unchanged_plan(last, table), None, None, 0, attempt)
                judged_by = _judged_by(_read_as(table), judged_with)
                ids = table.row_ids[0]
                as_read = rows_by_id(table, ids)
                if last is not None:
                    last = _with_logged(last.aligned(table.layout.headers), audit, key, landed,
                                        table, as_read)
                judged, edits = since_last(table, ids, as_read, last, judged_by,
                                           _own_columns(table))
                plan = _without_held(plan_table(table, effective, *judged), audit.holds(key))
                if dry_run:
                    return result(plan, None, None, 0, attempt)
                chosen = review.decisions(table, plan, auto_merge)
                merges, problems = review.merge_batch(table, chosen, settings.today) \
                    if chosen else (Batch.empty(), [])
                notes = tuple(problems)
                work = merges if merges.records else _work(table, plan)
                # A big workbook's new package is made by a second process meanwhile.
                with target.prepare(table, work) or contextlib.nullcontext() as prepared:
                    person_batch = audit.record(key, table.sheet, edits, "person",
                                                actor="person") if edits else None
                    if edits or last is None or last.judged_by != judged_by \
                            or not plan.changes:
                        # Only a cycle with nothing to do marks the values settled (their
                        # digest); one that writes may leave work for the next (pairs of new
                        # IDs). Without changes, `work` is the review work pending: decisions
                        # to act on, or a listing to bring up to date.
                        settled = "" if plan.changes or chosen or work.records \
                            else table.digest
                        unsaved = _seen(as_read, plan, judged_by, settled, settings, plan.changes,
                                        audit.head())
                    if merges.records:
                        # Decisions first, as a batch of their own (undone as one); then read
                        # again.
                        written = target.write(table, merges, audit, "merge", prepared=prepared)
                        if written is None:   # a person changed a row meanwhile: look again
                            if target.reads_again:
                                continue
                            return result(plan, None, person_batch, 0, attempt, notes=notes)
                        audit.keep_pairs(key, [d.ids for d in chosen
                                               if d.action == "keep_both"])
                        merge_batches.append(written.batch)
                        # Our own writes are not a person's edits; the digest is a new read's.
                        # The cells it changed are judged again as they are now: what the
                        # plan found in them went with their values.
                        table_cells = [r for r in merges.records if r.sheet is None]
                        rows, again = folded(as_read, table.layout.headers, _id_header(table),
                                             table_cells, {})
                        unsaved = _judged_again(_seen(rows, plan, judged_by, "", settings,
                                                      plan.changes, audit.head()), again)
                        if not target.reads_again:
                            return result(plan, None, person_batch, 0, attempt, notes=notes)
                        attempt -= 1   # acting on decisions is progress, not a failed try
                        continue
                    if not work.cells:
                        return result(plan, None, person_batch, 0, attempt, notes=notes)
                    numbers = [n for c in plan.changes if c.rule == "id"
                               and (n := id_number(c.after, table.layout.template.id))]
                    # The state to save once all of it is written, encoded here while a
                    # second process makes a big workbook's new package, not after it.
                    landed_all = _seen(with_changes(table, as_read, plan.changes), plan,
                                       judged_by, "", settings, ())
                    ahead = encode_body(landed_all)
                    written = target.write(table, work, audit, "apply",
                                           {"ids_issued": max(numbers)} if numbers else None,
                                           whole=False, prepared=prepared)
                if written is None:
                    continue   # changed meanwhile: read again and re-plan
                done = set(written.done)
                landed = [c for k, c in enumerate(plan.changes) if k in done]
                unwritten = [c for k, c in enumerate(plan.changes) if k not in done]
                # All written, and nothing left for a next pass (new IDs may make new pairs to
                # list; a merge changed the rows): the bytes just written are settled, and the
                # next cycle on them finds at once that there is nothing to do. (The rules are
                # idempotent, so planning those bytes again would change nothing.)
                settled = written.digest if (len(done) == len(work.cells) and not numbers
                                             and not merge_batches) else ""
                unsaved = _seen(with_changes(table, as_read, landed), plan, judged_by, settled,
                                settings, unwritten, audit.head()) if unwritten \
                    else dataclasses.replace(landed_all, digest=settled, logged=audit.head())
                return result(plan, written.batch, person_batch, len(done), attempt,
                              notes=notes, moved=written.moved)
        finally:
            if unsaved is not None:
                try:
                    seen.save(key, unsaved, ahead)
                except SeenStateError:
                    if sys.exc_info()[1] is None:
                        raise
                    # The cycle failed already, most likely of the same cause (a full disk):
                    # that error is the one to tell.
    raise WorkbookChanged(f"{target.key}: kept changing while sheetkeeper worked ({ATTEMPTS} "
                          "tries); nothing was written. It will try again on the next cycle")


def _work(table: SheetTable, plan: Plan) -> Batch:
    """The plan's changes as cells to write, with the Review tab's listing brought up to date.
    A change is cells[k] and records[k] for its index k in the plan."""
    layout = table.layout
    work = Batch([(table.sheet, CellWrite(c.row_number, layout.first_column
                                          + layout.columns[c.key], c.after))
                  for c in plan.changes],
                 [ChangeRecord(c.row_id, c.column, c.before, c.after, c.rule, c.reason)
                  for c in plan.changes])
    work.extend(review.listing_batch(table, plan))
    return work


def _read(target: Target, seen: SeenStore, last: Seen | None) -> tuple[SheetTable, Seen | None]:
    """The table as it stands, and the last state seen with all of it parsed. Both at once:
    the reader (calamine's Rust, or the network) does not hold the GIL, and parsing the rows
    of a 100k-row list's seen state takes a second. The parse waits until the reader is
    there: before, both would need the interpreter, and calamine would start later."""
    parsing = threading.Event()

    def read() -> SheetTable:
        try:
            return target.read(parsing)
        finally:
            parsing.set()

    with ThreadPoolExecutor(1, thread_name_prefix="read") as pool:
        reading = pool.submit(read)
        parsing.wait()
        last = seen.complete(last) if last is not None else None
        if not reading.done():
            # Still reading (a big sheet): meanwhile, load what writing it will need.
            date_formats()
        return reading.result(), last


def _read_as(table: SheetTable) -> str:
    """What a judgement depends on in the table besides the values: template, headers, lists."""
    layout = table.layout
    return "|".join(map(str, (layout.template.name, layout.lang, layout.headers,
                              sorted(table.list_values.items()))))


def _judged_with(settings: RuleSettings, auto_merge: str, reading: str) -> str:
    """What it depends on besides the table: the versions of sheetkeeper and of the libraries
    its rules trust, the rules' settings and how the target is read (which templates, which
    sheet). (Dates matter to statuses, which are recomputed every cycle anyway.)"""
    return "|".join(map(str, (rule_versions(), settings.phone_region, settings.date_order,
                              settings.thresholds, sorted(map(sorted, settings.kept_pairs)),
                              auto_merge, reading)))


@functools.cache
def rule_versions() -> str:
    # A new phonenumbers knows new number ranges: what it said of a number may change.
    from importlib.metadata import version
    return ",".join(f"{name} {version(name)}"
                    for name in ("sheetkeeper", "phonenumbers", "email-validator"))


def _judged_by(read_as: str, judged_with: str) -> str:
    return f"{read_as}#{judged_with}"


def _seen(rows: dict, plan: Plan, judged_by: str, digest: str, settings: RuleSettings,
          unwritten: Sequence[CellChange], logged: tuple[int, str] | None = None) -> Seen:
    """The state to remember; `unwritten`: the plan's changes that did not reach the sheet
    (all of them, before a write), whose cells the next cycle must judge again; `logged`:
    the audit log's head, all of which `rows` take in."""
    again: dict[str, list[str]] = {}
    for c in unwritten:
        if c.row_id and c.column not in again.setdefault(c.row_id, []):
            again[c.row_id].append(c.column)
    problems: dict[str, dict[str, list[str]]] = {}
    for rid, header, kind, why in plan.problems:
        problems.setdefault(rid, {})[header] = [kind, why]
    facts = {**plan.facts._asdict(), "notes": list(plan.facts.notes), "region": plan.region}
    return Seen(rows, again, judged_by, digest, settings.today.isoformat(),
                [list(f) for f in plan.findings],
                [[list(d.rows), list(d.ids), d.kind, d.score, d.reason] for d in plan.duplicates],
                problems, _read_as(plan.table), facts, plan.table.layout.headers,
                logged=logged)


def _unchanged_plan(last: Seen, table: SheetTable | None = None) -> Plan:
    """The plan of a cycle on what the last one left: its findings and pairs, nothing to do.
    Without `table`, the sheet was not read: the report says what the last cycle saw."""
    facts = dict(last.facts)
    region = facts.pop("region", None)
    return Plan(table=table, region=region,
                findings=tuple(Finding(*f) for f in last.findings),
                duplicates=tuple(DuplicateMatch(tuple(r), tuple(i), k, s, why)
                                 for r, i, k, s, why in last.duplicates),
                remembered=None if table else TableFacts(**{**facts,
                                                            "notes": tuple(facts["notes"])}))


def _with_logged(last: Seen, audit: AuditLog, key: str, landed: list[str], table: SheetTable,
                 as_read: dict) -> Seen:
    """The last state seen, with what was logged for the workbook after it was saved: none
    of that is a person's edit (again). An undo writes without a cycle's seen state; a cycle
    cut off after logging (person edits, or a write: `landed`, batches it left pending, now
    known to have been written) never saved its own. A row such a batch gave its ID is taken
    as it reads now (an edit a person made to it in that moment goes unrecorded as theirs;
    it is still in the sheet and in later diffs)."""
    if last.logged is None:   # a state from before it said how far into the log it took in
        entries = [e for batch in landed for e in audit.entries(batch=batch)]
    else:
        # A log started anew since (a lost one set aside): all of it came after.
        newer_than = last.logged[0] if audit.has(*last.logged) else 0
        entries = list(audit.entries(workbook=key, newer_than=newer_than, written=True))
    entries = [e for e in entries if e.sheet == table.sheet]
    if not entries:
        return last
    rows, again = folded(last.rows, table.layout.headers, _id_header(table), entries, as_read)
    # What was folded in was never judged as it now is (the cycle that logged it did not
    # save its judgement, or an undo put it back).
    return _judged_again(dataclasses.replace(last, rows=rows), again)


def _judged_again(seen: Seen, cells: dict[str, list[str]]) -> Seen:
    """`seen` with `cells` (row ID -> headers) to judge again, like an unwritten change: what
    was found in them is not stated again."""
    flagged = dict(seen.flagged)
    for rid, headers in cells.items():
        flagged[rid] = list(dict.fromkeys([*flagged.get(rid, ()), *headers]))
    return dataclasses.replace(seen, flagged=flagged)


def _id_header(table: SheetTable) -> str | None:
    layout = table.layout
    j = layout.index(layout.template.id.column)
    return None if j is None else layout.headers[j]


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


def undo_batch(batch: str, data: Path,
               open_target: Callable[[str, str], Target] | None = None) -> UndoResult:
    """Restore the before-values of `batch` where its after-values still stand. `open_target`
    (key, sheet) opens what the batch was written to; by default the workbook of that path."""
    with AuditLog(data / "audit.sqlite3") as audit, contextlib.ExitStack() as locked:
        info = audit.batch_info(batch)
        if info is None:
            raise UndoError(f"there is no batch {batch!r} in {data}; `sheetkeeper audit` "
                            "lists the batches")
        workbook, sheet, kind, _, status = info
        if status != "written":
            raise UndoError(f"batch {batch} was never written to the workbook ({status}); "
                            "there is nothing to undo")
        entries = [e for e in audit.entries(batch=batch) if e.actor == "sheetkeeper"]
        target = (open_target or _workbook_target)(workbook, sheet)
        locked.enter_context(one_at_a_time(data, workbook))
        for _ in range(ATTEMPTS):
            table = target.read()
            work, skipped, held = Batch.empty(), [], []
            # Rows whose ID this batch assigned lose it again; their cells are held by value.
            unassigned = {e.row_id for e in entries if e.rule == "id"}
            places = CellPlaces(table)
            for e in reversed(entries):
                place = places.locate(e)
                if place is None:
                    skipped.append(f"{e.row_id} {e.column}: the row or column is no longer "
                                   "in the sheet")
                    continue
                where, row, col, current = place
                if not same_value(current, e.after):
                    skipped.append(f"{e.row_id} {e.column}: changed since to {current!r}; "
                                   "left as it is")
                    continue
                work.cells.append((where, CellWrite(row, col, e.before, style=e.style_before)))
                work.records.append(ChangeRecord(e.row_id, e.column, current, e.before, "undo",
                                                 f"undo of batch {batch} ({e.rule})",
                                                 sheet=None if where == table.sheet else where))
                if e.rule not in ("id", "findings", "status", "review", "merge") \
                        and where == table.sheet:
                    held.append((None if e.row_id in unassigned else e.row_id, e.column,
                                 e.before))
            if kind == "merge":
                _requeue(table, entries, work)
            if not work.records:
                return UndoResult(None, batch, 0, tuple(skipped))
            undo = target.write(table, work, audit, "undo", note=f"undo of {batch}")
            if undo is None:
                continue
            audit.hold(workbook, held)
            return UndoResult(undo.batch, batch, len(work.records), tuple(skipped))
    raise WorkbookChanged(f"{workbook}: kept changing; the undo was not written. Try again")


def _workbook_target(key: str, sheet: str) -> WorkbookTarget:
    return WorkbookTarget(Path(key), sheet=sheet)


class CellPlaces:
    """Where each audited cell of a table is now. Built once per read of the table: an undo
    looks up every cell of its batch, and finding a row by reading every row's ID each time
    made undoing 3,595 cells of a 10k-row list take two minutes."""

    def __init__(self, table: SheetTable):
        self.table = table
        self.rows: dict[str | None, int] = {}
        for i, rid in enumerate(table.row_ids[0]):
            self.rows.setdefault(rid, i)                   # the first row with that ID
        self.lines: dict[str, dict[str, list[tuple[int, list[Any]]]]] = {}
        for tab in (table.review, table.merged):
            if tab is not None and tab.name not in self.lines:
                by_first = self.lines[tab.name] = {}
                for n, row in tab.rows:
                    if row:
                        by_first.setdefault(str(row[0]), []).append((n, row))

    def locate(self, e) -> tuple[str, int, int, Any] | None:
        """(sheet, row number, 0-based column, current value) of an audited cell: a table
        cell by its row's ID; a Review or Merged cell by its line's first column (pair, or
        ID)."""
        table = self.table
        if e.sheet == table.sheet:
            layout = table.layout
            if e.row_id not in self.rows or e.column not in layout.headers:
                return None
            i, j = self.rows[e.row_id], layout.headers.index(e.column)
            return table.sheet, table.row_numbers[i], layout.first_column + j, table.rows[i][j]
        tab = next((t for t in (table.review, table.merged) if t and t.name == e.sheet), None)
        if tab is None or e.column not in tab.headers:
            return None
        j = tab.headers.index(e.column)
        lines = self.lines[tab.name].get(e.row_id, [])
        # Of the lines for this row, the one still holding what the batch wrote (a merged-away
        # row may have been merged, undone and merged again).
        for n, row in reversed(lines):
            if same_value(row[j] if j < len(row) else None, e.after):
                return tab.name, n, j, row[j] if j < len(row) else None
        if lines:
            n, row = lines[-1]
            return tab.name, n, j, row[j] if j < len(row) else None
        return None


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
                                             None, "undo", "the pair goes back to the review "
                                             "queue", sheet=tab.name))
