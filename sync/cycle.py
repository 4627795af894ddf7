"""One sync cycle on any target (a workbook, a Google Sheet), as a sequence of named steps:

    read → settle what a broken-off write left → take in what was logged since → diff (person
    edits) → plan (the rules) → decide (review decisions) → log person edits → write → remember

The order of the steps is what makes the promises hold:
- person edits are logged before anything is written, and the seen state moves on with them, so
  a retried cycle never logs them twice; the seen state says how far into the audit log it
  took in, and what was logged after that (an undo; the batches of a cycle killed before it
  saved what it saw) is taken in before the next diff, so it is not logged as a person's;
- a write goes through sync.writing: prepared under the target's guard, recorded `pending`,
  committed only if the target still holds what was read, then marked `written`; a batch left
  pending by a crash is settled by the next read from the cells it wrote, so the log always says
  exactly which changes reached the sheet;
- a target that changed since it was read is read and planned again (a person got there
  first), or left for the next cycle where a read costs a request (a Google Sheet); one open
  in Excel or LibreOffice is left for the next cycle.
"""
from __future__ import annotations

import contextlib
import dataclasses
from collections import Counter
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from audit.log import AuditLog, ChangeRecord, encode_value
from i18n import _, catalog_stamp, dump, load
from rules.ids import id_number

from . import collector, review
from .cells import CellWrite
from .cycle_lock import one_at_a_time
from .errors import WorkbookChanged
from .plan import CellChange, DuplicateMatch, Finding, Plan, plan_table
from .settings import RuleSettings
from .seen import Seen, SeenStateError, SeenStore, folded, rows_by_id, with_changes
from .since import Judged, since_last
from .table import SheetTable, TableFacts
from .targets import Batch, Step, Target
from .writing import settle_pending, settle_unsaved, write_batch

AUDIT = "audit.sqlite3"
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
    read: bool = True              # False: the bytes a quiet cycle left, known without a read
    # What the rules were run on: rows judged before and the cells of theirs judged again
    # (sync.since.Judged); None where nothing was planned (nothing changed since a quiet cycle).
    judged: Judged | None = None
    # Every batch the write went out as (a Google Sheet's bodies are bounded: a big first
    # cycle is several); `batch` is the first.
    batches: tuple[str, ...] = ()


def _no_step(_: str) -> None:
    pass


def run_cycle(target: Target, settings: RuleSettings, data: Path, dry_run: bool = False,
              auto_merge: str = "none", between: Step = _no_step) -> ApplyResult:
    """One cycle on `target`, tried again (up to ATTEMPTS) where the target changed under it.
    `between(step)` is told each step by name: tests act there (a person's save, a kill)."""
    with AuditLog(data / AUDIT) as audit, one_at_a_time(data, target.key), collector.paused():
        cycle = Cycle(target, settings, audit, SeenStore(data), dry_run, auto_merge, between)
        try:
            result = cycle.run()
        except BaseException:
            # What it saw is saved even so; but the cycle's own error is the one to tell (a
            # failed save most likely has the same cause, a full disk).
            with contextlib.suppress(SeenStateError):
                cycle.remember()
            raise
        cycle.remember()
        return result


class _Again:
    """An attempt that found the target changed under it: read again."""


AGAIN = _Again()


@dataclass
class Reading:
    """One attempt's read of the target and what the cycle made of it."""

    table: SheetTable
    as_read: dict                 # rows by ID, as read
    judged_by: str
    plan: Plan
    person_batch: str | None = None
    notes: tuple[str, ...] = ()


@dataclass
class Cycle:
    target: Target
    settings: RuleSettings
    audit: AuditLog
    seen: SeenStore
    dry_run: bool = False
    auto_merge: str = "none"
    between: Step = _no_step
    # What this cycle has seen but not saved yet: saved once, at the end (`remember`, even if
    # the cycle stops early), so person edits once logged are never logged twice. Made when
    # first wanted (`_unsaved`): a cycle that goes on to write replaces it unmade.
    unsaved: Seen | Callable[[], Seen] | None = None
    merges: list[str] = field(default_factory=list)
    tries: int = 0
    read: bool = False
    judged: Judged | None = None

    def run(self) -> ApplyResult:
        while self.tries < ATTEMPTS:
            self.tries += 1
            outcome = self.attempt()
            if outcome is not AGAIN:
                return outcome
        raise WorkbookChanged(_("{key}: kept changing while sheetkeeper worked ({ATTEMPTS} "
                                "tries); nothing was written. It will try again on the next cycle",
                                key=self.target.key, ATTEMPTS=ATTEMPTS))

    def remember(self) -> None:
        """Save what this cycle saw, once (also when it stops early: see run_cycle)."""
        if self.unsaved is not None:
            self.seen.save(self.target.key, self._unsaved())

    def _unsaved(self) -> Seen | None:
        if callable(self.unsaved):
            self.unsaved = self.unsaved()
        return self.unsaved

    def result(self, plan: Plan, batch: str | None = None, person_batch: str | None = None,
               written: int = 0, **more: Any) -> ApplyResult:
        return ApplyResult(plan, batch, person_batch, written, self.tries,
                           merges=tuple(self.merges), read=self.read, judged=self.judged,
                           **more)

    # -- one attempt, step by step -----------------------------------------------------------

    def attempt(self) -> ApplyResult | _Again:
        key, audit = self.target.key, self.audit
        self.judged = None
        effective = self.settings_now()
        judged_with = _judged_with(effective, self.auto_merge, self.target.reading)
        last = self._unsaved() or self.seen.load(key)
        quiet = self._quiet(last, judged_with)
        if quiet and not self.unsaved and last.digest == self.target.peek() \
                and not audit.pending(key):
            # The very bytes a quiet cycle left, judged the same way on the same day: its
            # findings stand, and there is nothing to do, nor to read.
            return self.result(_unchanged_plan(last))
        table = self.target.read()
        self.read = True
        self.between("read")
        last = self.seen.complete(last) if last is not None else None  # None: rows damaged
        landed = settle_pending(audit, key, table, getattr(self.target, "writes_whole", True))
        if not getattr(self.target, "writes_unsaved", False):
            # Read from the file: were the writes into the book open in Excel saved?
            settle_unsaved(audit, key, table)
        if quiet and last is not None and last.digest == table.digest:
            # The same, for a target that cannot tell without reading (a Google Sheet).
            return self.result(_unchanged_plan(last, table))
        reading, edits, last = self.diff_and_plan(table, last, landed, effective, judged_with)
        if self.dry_run:
            return self.result(reading.plan)
        chosen, merges = self.decide(reading)
        work = merges if merges.records else _work(table, reading.plan)
        self.log_person_edits(reading, edits, last, bool(chosen or work.records))
        if merges.records:
            return self.carry_out(reading, merges, chosen)
        if not work.cells:
            return self.result(reading.plan, None, reading.person_batch, notes=reading.notes)
        return self.write_changes(reading, work)

    def settings_now(self) -> RuleSettings:
        """The settings with what the log knows: pairs kept apart, IDs already given out."""
        key = self.target.key
        return dataclasses.replace(
            self.settings, kept_pairs=self.audit.kept_pairs(key),
            ids_issued=max(self.settings.ids_issued, self.audit.counter(key, "ids_issued")))

    def _quiet(self, last: Seen | None, judged_with: str) -> bool:
        return bool(last is not None and not self.dry_run and last.facts
                    and last.day == self.settings.today.isoformat()
                    and last.judged_by == _judged_by(last.read_as, judged_with))

    def diff_and_plan(self, table: SheetTable, last: Seen | None, landed: list[str],
                      effective: RuleSettings, judged_with: str
                      ) -> tuple[Reading, list[ChangeRecord], Seen | None]:
        """Take in what was logged since the last state seen, find the person edits, and plan
        what the rules would do."""
        key = self.target.key
        judged_by = _judged_by(_read_as(table), judged_with)
        ids = table.row_ids[0]
        as_read = rows_by_id(table, ids)
        if last is not None:
            last = _with_logged(last.aligned(table.layout), self.audit, key, landed,
                                table, as_read)
            as_read = _originals(table, ids, as_read, last)
        judged, edits = since_last(table, ids, as_read, last, judged_by, _own_columns(table))
        self.judged = judged
        plan = _without_held(plan_table(table, effective, *judged), self.audit.holds(key))
        return Reading(table, as_read, judged_by, plan), edits, last

    def decide(self, reading: Reading) -> tuple[list, Batch]:
        """The decisions on the Review tab to act on, and the merge batch they make (what
        cannot be carried out goes to the result's notes)."""
        chosen = review.decisions(reading.table, reading.plan, self.auto_merge)
        if not chosen:
            return chosen, Batch.empty()
        merges, problems = review.merge_batch(reading.table, chosen, self.settings.today)
        reading.notes = tuple(problems)
        return chosen, merges

    def log_person_edits(self, reading: Reading, edits: list[ChangeRecord], last: Seen | None,
                         review_work: bool) -> None:
        """The person edits go to the log before anything is written, and the state to
        remember moves on with them."""
        table, plan = reading.table, reading.plan
        if edits:
            reading.person_batch = self.audit.record(self.target.key, table.sheet, edits,
                                                     "person", actor="person")
        if edits or last is None or last.judged_by != reading.judged_by or not plan.changes:
            # Only a cycle with nothing to do marks the values settled (their digest); one
            # that writes may leave work for the next (pairs of new IDs), and so does review
            # work pending (decisions to act on, or a listing to bring up to date).
            settled = "" if plan.changes or review_work else table.digest
            # (The log's head now, not when it is made: the rows take in the log up to here.)
            self.unsaved = functools.partial(_seen, reading.as_read, plan, reading.judged_by,
                                             settled, self.settings, plan.changes,
                                             self.audit.head())

    def carry_out(self, reading: Reading, merges: Batch, chosen) -> ApplyResult | _Again:
        """Review decisions first, as a batch of their own (undone as one); then read again,
        within this cycle or (a Google Sheet) in the next."""
        table, plan = reading.table, reading.plan
        written = write_batch(self.target, table, merges, self.audit, "merge",
                              between=self.between)
        if written is None:       # a person changed a row meanwhile: look again
            if self.target.reads_again:
                return AGAIN
            return self.result(plan, None, reading.person_batch, notes=reading.notes)
        self.audit.keep_pairs(self.target.key, [d.ids for d in chosen
                                                if d.action == "keep_both"])
        self.merges.append(written.batch)
        # Our own writes are not a person's edits; the digest is a new read's. The cells it
        # changed are judged again as they are now: what the plan found in them went with
        # their values.
        table_cells = [r for r in merges.records if r.sheet is None]
        rows, again = folded(reading.as_read, table.layout, _id_header(table),
                             table_cells, {})
        self.unsaved = _judged_again(_seen(rows, plan, reading.judged_by, "", self.settings,
                                           plan.changes, self.audit.head()), again)
        if not self.target.reads_again:
            return self.result(plan, None, reading.person_batch, notes=reading.notes)
        self.tries -= 1     # acting on decisions is progress, not a failed try
        return AGAIN

    def write_changes(self, reading: Reading, work: Batch) -> ApplyResult | _Again:
        """The plan's changes (and the Review listing), in one batch; what did not reach the
        sheet (a person's row moved meanwhile) is judged again next time."""
        table, plan = reading.table, reading.plan
        numbers = [n for c in plan.changes if c.rule == "id"
                   and (n := id_number(c.after, table.layout.template.id))]
        written = write_batch(self.target, table, work, self.audit, "apply",
                              {"ids_issued": max(numbers)} if numbers else None,
                              whole=False, between=self.between)
        if written is None:
            return AGAIN      # changed meanwhile: read again and re-plan
        done = set(written.done)
        landed = [c for k, c in enumerate(plan.changes) if k in done]
        unwritten = [c for k, c in enumerate(plan.changes) if k not in done]
        # All written, and nothing left for a next pass (new IDs may make new pairs to list; a
        # merge changed the rows): the bytes just written are settled, and the next cycle on
        # them finds at once that there is nothing to do. (The rules are idempotent, so
        # planning those bytes again would change nothing.)
        settled = written.digest if (len(done) == len(work.cells) and not numbers
                                     and not self.merges) else ""
        self.unsaved = _seen(with_changes(table, reading.as_read, landed), plan,
                             reading.judged_by, settled, self.settings, unwritten,
                             self.audit.head())
        return self.result(plan, written.batch, reading.person_batch, len(done),
                           notes=reading.notes, moved=written.moved, batches=written.batches)


def _work(table: SheetTable, plan: Plan) -> Batch:
    """The plan's changes as cells to write, with the Review tab's listing brought up to date.
    A change is cells[k] and records[k] for its index k in the plan."""
    layout = table.layout
    work = Batch([(table.sheet, CellWrite(c.row_number, layout.first_column
                                          + layout.columns[c.key], c.after))
                  for c in plan.changes],
                 [ChangeRecord(c.row_id, c.column, c.before, c.after, c.rule, c.reason)
                  for c in plan.changes])
    for c in plan.ledger_changes:
        work.add(c.sheet, c.row_number, c.column, c.before, c.after, c.entry, c.header, c.rule,
                 c.reason, table.sheet)
    work.extend(review.listing_batch(table, plan))
    return work


def _read_as(table: SheetTable) -> str:
    """What a judgement depends on in the table besides the values: template, headers, lists."""
    layout = table.layout
    return "|".join(map(str, (layout.template.name, layout.lang, layout.headers,
                              sorted(table.list_values.items()))))


def _judged_with(settings: RuleSettings, auto_merge: str, reading: str) -> str:
    """What it depends on besides the table: the versions of sheetkeeper and of the libraries
    its rules trust, the rules' settings and how the target is read (which templates, which
    sheet). (Dates matter to statuses, which are recomputed every cycle anyway.) The catalogs
    too: a sheet judged under other words (or before its findings were translated) is judged
    once more, and its texts said in the new words; where they read the same, nothing is
    written."""
    return "|".join(map(str, (rule_versions(), catalog_stamp(), settings.phone_region,
                              settings.date_order,
                              settings.thresholds, settings.value,
                              sorted(map(sorted, settings.kept_pairs)),
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
        problems.setdefault(rid, {})[header] = [kind, dump(why)]
    facts = {**plan.facts._asdict(), "notes": [dump(n) for n in plan.facts.notes],
             "region": plan.region}
    # Texts as messages (i18n.dump), not their English words: a report from memory says them
    # in the reader's language, and a finding stated again is said in the sheet's.
    return Seen(rows, again, judged_by, digest, settings.today.isoformat(),
                [[*f[:4], dump(f.message)] for f in plan.findings],
                [[list(d.rows), list(d.ids), d.kind, d.score, dump(d.reason)]
                 for d in plan.duplicates],
                problems, _read_as(plan.table), facts, plan.table.layout.headers,
                logged=logged)


def _unchanged_plan(last: Seen, table: SheetTable | None = None) -> Plan:
    """The plan of a cycle on what the last one left: its findings and pairs, nothing to do.
    Without `table`, the sheet was not read: the report says what the last cycle saw."""
    facts = dict(last.facts)
    region = facts.pop("region", None)
    return Plan(table=table, region=region,
                findings=tuple(Finding(*f[:4], load(f[4])) for f in last.findings),
                duplicates=tuple(DuplicateMatch(tuple(r), tuple(i), k, s, load(why))
                                 for r, i, k, s, why in last.duplicates),
                remembered=None if table else TableFacts(**{**facts,
                                                            "notes": tuple(map(load,
                                                                               facts["notes"]))}))


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
    rows, again = folded(last.rows, table.layout, _id_header(table), entries, as_read)
    # What was folded in was never judged as it now is (the cycle that logged it did not
    # save its judgement, or an undo put it back).
    return _judged_again(dataclasses.replace(last, rows=rows), again)


def _originals(table: SheetTable, ids: Sequence[str | None], as_read: dict, last: Seen
               ) -> dict:
    """`as_read` where a row was copied with its ID: of the rows sharing the ID, the one still
    exactly as it was stands for it, so the copy is not logged as an edit of the original."""
    named = [rid for rid in ids if rid]
    if len(set(named)) == len(named):
        return as_read
    counts = Counter(named)
    out = as_read
    for i, rid in enumerate(ids):
        if rid and counts[rid] > 1 and last.rows.get(rid) == table.rows[i]:
            if out is as_read:
                out = dict(as_read)
            out[rid] = table.rows[i]
    return out


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
    """Columns only sheetkeeper writes: a difference there is not a person's edit. A roll-up
    column is its own once the ledger it comes from is there."""
    layout = table.layout

    def own(key: str) -> bool:
        column = layout.template.column(key)
        return column.type in ("findings", "status") or bool(
            column.rollup and column.rollup.owned and column.rollup.ledger in table.ledgers)

    return {layout.headers[j] for k, j in layout.columns.items() if own(k)}


def _without_held(plan: Plan, holds: set[tuple[str, str, str]]) -> Plan:
    """Drop changes to cells a person restored with undo, while they still hold that value."""
    if not holds:
        return plan
    assigned = {c.row_id for c in plan.changes if c.rule == "id"}

    def held(c: CellChange) -> bool:
        if c.rule in ("rollup", "tier"):
            # Worked out from the entries, as a Status from the dates: held, a restored Total
            # spend stood against every purchase after it, for good.
            return False
        value = encode_value(c.before)
        return ((c.row_id or "", c.column, value) in holds
                or (c.row_id in assigned and ("", c.column, value) in holds))

    return dataclasses.replace(plan, changes=tuple(c for c in plan.changes if not held(c)))
