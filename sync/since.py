"""What changed in a workbook since the last state seen, worked out in one pass over its rows:
the edits people made (for the audit log), and which rows the last cycle already judged under
the same rules (so that only what changed is judged again).

Both come from the same comparison of each row with its last reading. On a 100k-row list that
comparison is most of the cost (two tuples of cells a row, scattered in memory), so it is made
once: most rows are settled by a single comparison of two tuples, and only a row that differs
is looked at cell by cell.
"""
from __future__ import annotations

from collections import Counter
from typing import NamedTuple, Sequence

from audit.log import ChangeRecord
from i18n import _

from .cells import differs, plain
from .diff import ROW, row_text
from .seen import ABSENT, Rows, Seen
from .table import SheetTable


class Judged(NamedTuple):
    """What `plan_table` needs to judge only what changed: rows (indices) judged already; of
    those, the cells (row, column) to judge again; the outcomes (kind, why) to state again."""

    rows: frozenset[int]
    recheck: frozenset[tuple[int, int]]
    restate: dict[tuple[int, int], tuple[str, str]]


NOT_JUDGED = Judged(frozenset(), frozenset(), {})


def since_last(table: SheetTable, ids: Sequence[str | None], as_read: Rows, last: Seen | None,
               judged_by: str, own_columns: set[str]) -> tuple[Judged, list[ChangeRecord]]:
    """The table (its rows, `ids`, and `as_read`: the rows by ID) against `last`, aligned to
    the table's headers.

    Judged: rows the last cycle judged by the same rules (`judged_by`); of those, the cells to
    judge again (the ones a person changed since, and the ones with a change the last cycle
    did not write) and the outcomes to state again (cells it left as typed, still holding the
    same value). The rules are pure functions of one cell, so after 2% of the cells were
    edited, 2% are judged, not every cell of the rows they are in, nor every flagged cell.

    Person edits: cells changed, rows added (with an ID) and rows removed since, in the order
    of the table; none in `own_columns` (what only sheetkeeper writes), none at all without a
    last state."""
    if last is None or last.rows is None:
        return NOT_JUDGED, []
    judging = last.judged_by == judged_by
    compare = _Comparison(table.layout.headers, own_columns, last)
    for i, rid, now, judge in _readings(ids, table.rows, as_read, judging):
        compare.row(i, rid, now, judge)
    compare.removed(as_read)
    judgement = (Judged(frozenset(compare.judged), frozenset(compare.recheck), compare.restate)
                 if judging else NOT_JUDGED)
    return judgement, compare.edits


def _readings(ids: Sequence[str | None], rows, as_read: Rows, judging: bool):
    """(index, ID, values, judged before?) of each row with an ID. A row sharing its ID with
    another cannot be told apart from it by ID: it is judged whole, once, and its edits are
    those of the reading `as_read` kept for that ID."""
    shared = {rid for rid, n in Counter(ids).items() if n > 1}
    taken: set[str] = set()
    for i, (rid, now) in enumerate(zip(ids, rows)):
        if not rid:
            continue
        if rid not in shared:
            yield i, rid, now, judging
        elif rid not in taken:
            taken.add(rid)
            yield i, rid, as_read[rid], False


class _Comparison:
    """Each row against its last reading: the edits, and what to judge again."""

    def __init__(self, headers: Sequence[str], own_columns: set[str], last: Seen):
        self.headers = headers
        self.column = {h: j for j, h in enumerate(headers) if h}
        self.named = [j for j, h in enumerate(headers) if h]
        self.theirs = {j for j in self.named if headers[j] not in own_columns}
        self.last = last
        self.judged: list[int] = []
        self.recheck: set[tuple[int, int]] = set()
        self.restate: dict[tuple[int, int], tuple[str, str]] = {}
        self.edits: list[ChangeRecord] = []

    def row(self, i: int, rid: str, now: tuple, judge: bool) -> None:
        before = self.last.rows.get(rid)
        if before is None:
            self.edits.append(ChangeRecord(rid, ROW, None, row_text(self.headers, now), "edit",
                                           _("row added in the workbook")))
            return
        flags = found = None
        if judge:
            self.judged.append(i)
            flags, found = self.last.flagged.get(rid), self.last.problems.get(rid)
        if now == before and not flags and not found:
            return                        # most rows: untouched, nothing flagged
        differing = [] if now == before else [j for j in self.named if before[j] != now[j]
                                              and differs(before[j], now[j])]
        self._edited(rid, before, now, differing)
        if judge:
            self._judge_again(i, differing, flags, found)

    def _edited(self, rid: str, before: tuple, now: tuple, differing: list[int]) -> None:
        for j in differing:
            if j not in self.theirs:
                continue
            # A column the last cycle did not have was empty then, as far as edits go. (Every
            # cell in `differing` differs from what it was, but one of a new column may
            # differ from empty only as ABSENT does.)
            was = None if before[j] is ABSENT else before[j]
            if before[j] is ABSENT and not differs(None, now[j]):
                continue
            self.edits.append(ChangeRecord(rid, self.headers[j], plain(was), plain(now[j]),
                                           "edit", _("changed in the workbook")))

    def _judge_again(self, i: int, differing: list[int], flags, found) -> None:
        again = {self.column[h] for h in flags or () if h in self.column}
        again.update(differing)
        self.recheck.update((i, j) for j in again)
        for h, (kind, why) in (found or {}).items():
            if (j := self.column.get(h)) is not None and j not in again:
                self.restate[(i, j)] = (kind, why)

    def removed(self, as_read: Rows) -> None:
        before_rows = self.last.rows
        for rid in before_rows.keys() - as_read.keys():
            self.edits.append(ChangeRecord(
                rid, ROW, row_text(self.headers, before_rows[rid]), None, "edit",
                _("row removed from the workbook (its last values are in 'before')")))
