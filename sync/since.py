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
    headers = table.layout.headers
    column = {h: j for j, h in enumerate(headers) if h}
    named = [(j, h) for j, h in enumerate(headers) if h]
    theirs = {j for j, h in named if h not in own_columns}
    judging = last.judged_by == judged_by
    before_rows, flagged, problems = last.rows, last.flagged, last.problems
    # A row sharing its ID with another cannot be told apart from it by ID: judged whole, and
    # its edits are those of the reading `as_read` kept for that ID.
    shared = {rid for rid, n in Counter(ids).items() if n > 1}
    judged, recheck, restate = [], set(), {}
    edits: list[ChangeRecord] = []
    taken: set[str] = set()
    for i, (rid, now) in enumerate(zip(ids, table.rows)):
        if not rid:
            continue
        judge = judging
        if rid in shared:
            if rid in taken:
                continue
            taken.add(rid)
            judge, now = False, as_read[rid]
        before = before_rows.get(rid)
        if before is None:
            edits.append(ChangeRecord(rid, ROW, None, row_text(headers, now), "edit",
                                      "row added in the workbook"))
            continue
        flags = found = None
        if judge:
            judged.append(i)
            flags, found = flagged.get(rid), problems.get(rid)
        if now == before:
            if not flags and not found:
                continue                  # most rows: untouched, nothing flagged
            differing: list[int] = []
        else:
            differing = [j for j, _ in named if before[j] != now[j]
                         and differs(before[j], now[j])]
            for j in differing:
                if j in theirs:
                    # A column the last cycle did not have was empty then, as far as edits go.
                    # (Every cell in `differing` differs from what it was, but one of a
                    # new column may differ from empty only as ABSENT does.)
                    was = None if before[j] is ABSENT else before[j]
                    if before[j] is ABSENT and not differs(None, now[j]):
                        continue
                    edits.append(ChangeRecord(rid, headers[j], plain(was), plain(now[j]),
                                              "edit", "changed in the workbook"))
        if judge:
            again = {column[h] for h in flags or () if h in column}
            again.update(differing)
            recheck.update((i, j) for j in again)
            for h, (kind, why) in (found or {}).items():
                if (j := column.get(h)) is not None and j not in again:
                    restate[(i, j)] = (kind, why)
    for rid in before_rows.keys() - as_read.keys():
        edits.append(ChangeRecord(rid, ROW, row_text(headers, before_rows[rid]), None, "edit",
                                  "row removed from the workbook (its last values are in "
                                  "'before')"))
    judgement = Judged(frozenset(judged), frozenset(recheck), restate) if judging else NOT_JUDGED
    return judgement, edits
