"""When each workbook's next cycle is due: debouncing saves, backing off from failures, and the
nightly run. No threads and no clocks of its own: the daemon passes the time in, so tests can
drive it through hours and years without waiting.

A save is several file events (a temp file, a rename, sometimes a second write); each one pushes
the workbook's cycle to `debounce` seconds after the last, except a file moved onto the workbook
(`saved`): the way spreadsheet programs, sync clients and sheetkeeper save, a whole file put in
place at once, so its cycle is due at once (a later event still pushes it back). A workbook
whose cycle fails is tried again after an exponentially growing, jittered wait (tenacity's
strategy), capped at `retry_max`; one success clears it. A workbook open in Excel or
LibreOffice is looked at again when its lock file goes (an event), or every `LOCKED_RECHECK`
seconds in case that event was missed.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import tenacity

LOCKED_RECHECK = 60.0


@dataclass
class WorkbookState:
    """What the daemon knows of one workbook between cycles (also what `status` shows)."""
    path: Path
    due: float | None = None        # monotonic time of the next cycle; None: nothing to do
    forced: bool = False            # run even if the file is as sheetkeeper left it
    saved: bool = False             # the last event was a finished save: no need to wait
    failures: int = 0
    own: tuple | None = None        # (inode, size, mtime) as the last cycle left the file
    snapshot: str | None = None     # a snapshot to take after the next cycle, and why
    report: dict = field(default_factory=dict)   # the last cycle's outcome, for `status`


class Schedule:
    def __init__(self, debounce: float, retry_max: float):
        self.debounce = debounce
        # Full jitter over an exponential bound, on top of a floor of a second: jitter alone
        # sometimes drew a wait of nothing, a retry at once of what had just failed.
        self.backoff = tenacity.wait_fixed(1) + tenacity.wait_random_exponential(
            multiplier=1, max=max(retry_max - 1, 0))
        self.books: dict[Path, WorkbookState] = {}

    def add(self, path: Path, now: float) -> WorkbookState:
        state = self.books.get(path)
        if state is None:
            state = self.books[path] = WorkbookState(path)
            self.touched(path, now)
        return state

    def drop(self, path: Path) -> None:
        self.books.pop(path, None)

    def touched(self, path: Path, now: float, force: bool = False, saved: bool = False) -> None:
        """A file event (or a reason to look): run `debounce` after the last one, or at once
        where it was a finished save (`saved`)."""
        state = self.books.get(path)
        if state is None:
            return
        if state.failures and state.due is not None and not force:
            return   # a failing workbook keeps its backoff; its edits are read then
        state.due = now if saved else now + self.debounce
        state.saved = saved
        state.forced = state.forced or force

    def later(self, path: Path, at: float) -> None:
        state = self.books[path]
        state.due = at

    def succeeded(self, path: Path) -> None:
        state = self.books[path]
        state.failures, state.due, state.forced = 0, None, False

    def failed(self, path: Path, now: float) -> float:
        """Schedule the retry of a failed cycle; returns the wait in seconds."""
        state = self.books[path]
        state.failures += 1
        wait = self.backoff(_attempt(state.failures))
        state.due = now + wait
        return wait

    def due(self, now: float) -> list[WorkbookState]:
        return sorted((s for s in self.books.values() if s.due is not None and s.due <= now),
                      key=lambda s: s.due)

    def next_due(self) -> float | None:
        return min((s.due for s in self.books.values() if s.due is not None), default=None)


def _attempt(number: int) -> tenacity.RetryCallState:
    """tenacity's wait strategies read the attempt number off a call state."""
    state = tenacity.RetryCallState(None, None, (), {})
    state.attempt_number = number
    return state


def next_nightly(after: dt.datetime, at: dt.time) -> dt.datetime:
    """The first `at` (local wall-clock time) strictly after `after` (aware, local)."""
    tz = after.tzinfo
    candidate = dt.datetime.combine(after.date(), at)
    if tz is not None:
        candidate = _localise(candidate, tz)
    if candidate <= after:
        candidate = dt.datetime.combine(after.date() + dt.timedelta(days=1), at)
        if tz is not None:
            candidate = _localise(candidate, tz)
    return candidate


def _localise(naive: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """`naive` wall time in `tz`; a time skipped by a DST change moves on by the gap."""
    aware = naive.replace(tzinfo=tz)
    round_trip = aware.astimezone(dt.timezone.utc).astimezone(tz)
    return round_trip if round_trip.replace(tzinfo=None) != naive else aware


def snapshot_overdue(last: dt.datetime | None, now: dt.datetime) -> bool:
    """Catch-up at start: the newest snapshot is more than a day old (or there is none)."""
    return last is None or now - last > dt.timedelta(days=1)
