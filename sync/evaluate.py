"""Running the cell rules over whole columns, on both cores when a table is big.

Rules are pure, so columns can be evaluated anywhere. For a large table a forked worker takes
the expensive columns (phones, emails) while this process does the rest; the outcomes come back
by pickle. Fork is only used where it is safe and pays: a big table, more than one core, and no
other thread in this process (a forked copy of a threaded process can deadlock). Otherwise
everything runs here, and the rules' caches stay warm for the next cycle.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from rules.outcome import Normalised, Outcome

PARALLEL_FROM_ROWS = 20_000
# Rough cost of one cell, in microseconds, by column type (measured on the benchmark lists).
COST = {"phone": 20, "email": 10, "name": 4, "money": 6, "date": 2}


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

_JOBS: Sequence[ColumnJob] = ()       # handed to the forked worker through memory, not pickle


def evaluate(jobs: Sequence[ColumnJob], rows: Sequence[int],
             cells: int | None = None) -> list[Results]:
    """The outcomes of each job's rule over `rows` (row indices), in job order. `cells`: how
    many cells there really are to judge, when most of `rows` are blanked out (an incremental
    cycle rechecking a few flagged cells); forking pays only for real work."""
    work = len(rows) if cells is None else cells // max(len(jobs), 1)
    if not _parallel_pays(work):
        return [_run(job, rows) for job in jobs]
    mine, theirs = _split(jobs, len(rows))
    global _JOBS
    _JOBS = jobs
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
            future = pool.submit(_run_in_worker, theirs, list(rows))
            results: dict[int, Results] = {n: _run(jobs[n], rows) for n in mine}
            results.update(zip(theirs, future.result()))
    finally:
        _JOBS = ()
    return [results[n] for n in range(len(jobs))]


def _parallel_pays(row_count: int) -> bool:
    return (row_count >= PARALLEL_FROM_ROWS and (os.cpu_count() or 1) > 1
            and threading.active_count() == 1
            and "fork" in multiprocessing.get_all_start_methods())


def _split(jobs: Sequence[ColumnJob], row_count: int) -> tuple[list[int], list[int]]:
    """Greedy halves by estimated cost: the worker gets the heaviest columns first."""
    order = sorted(range(len(jobs)), key=lambda n: -COST.get(jobs[n].type, 1))
    load, halves = [0, 0], ([], [])
    for n in order:
        side = 0 if load[0] <= load[1] else 1
        halves[side].append(n)
        load[side] += COST.get(jobs[n].type, 1) * row_count
    # The worker pays for start-up and pickling, so it takes the half with the big columns.
    worker = 0 if COST.get(jobs[order[0]].type, 1) >= 10 else 1
    return sorted(halves[1 - worker]), sorted(halves[worker])


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


def _run_in_worker(job_numbers: list[int], rows: list[int]) -> list[Results]:
    return [_run(_JOBS[n], rows) for n in job_numbers]
