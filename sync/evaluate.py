"""Running the cell rules over whole columns, on both cores when a table is big.

Rules are pure, so cells can be evaluated anywhere. For a large table a forked child judges the
first rows while this process judges the rest (see sync.forked); the outcomes come back by
pickle. Otherwise everything runs here, and the rules' caches stay warm for the next cycle.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from rules.outcome import Normalised, Outcome

from .forked import Beside, fork_pays

# Cells worth a child: about half a second of rules (a 2,000-row list, or the edits of a day).
PARALLEL_FROM_CELLS = 30_000


@dataclass(frozen=True)
class ColumnJob:
    type: str
    rule: Callable[[Any], Outcome]
    values: Sequence[Any]          # one per row; None is skipped
    skip: frozenset[int] = frozenset()   # rows not to judge (formula cells)


# For every outcome that is not None: (row index, True, new value, reason) for a change, or
# (row index, False, kind, message) for a problem. Plain tuples: they pickle back from the
# worker several times faster than the rules' dataclasses.
Results = list[tuple[int, bool, Any, str]]


def evaluate(jobs: Sequence[ColumnJob], rows: Sequence[int],
             cells: int | None = None) -> list[Results]:
    """The outcomes of each job's rule over `rows` (row indices), in job order. `cells`: how
    many cells there really are to judge, when most of `rows` are blanked out (an incremental
    cycle rechecking a few flagged cells); forking pays only for real work."""
    if not fork_pays(len(rows) * len(jobs) if cells is None else cells, PARALLEL_FROM_CELLS):
        return _run_all(jobs, rows)
    # Half the rows each, not half the columns: one column (phones) costs as much as ten
    # others, and halves of the rows cost the same (measured) wherever they run.
    cut = len(rows) // 2
    with Beside(_run_all, jobs, rows[:cut], pays=True) as theirs:
        mine = _run_all(jobs, rows[cut:])
        return [first + rest for first, rest in zip(theirs.result(), mine)]


def _run(job: ColumnJob, rows: Sequence[int]) -> Results:
    rule, values, skip = job.rule, job.values, job.skip
    out: Results = []
    for i in rows:
        value = values[i]
        if value is None or (skip and i in skip):
            continue
        outcome = rule(value)
        if outcome is None:
            continue
        if isinstance(outcome, Normalised):
            out.append((i, True, outcome.value, outcome.reason))
        else:
            out.append((i, False, outcome.kind, outcome.message))
    return out


def _run_all(jobs: Sequence[ColumnJob], rows: Sequence[int]) -> list[Results]:
    return [_run(job, rows) for job in jobs]
