"""`sheetkeeper run`: the service that keeps watched workbooks clean while people work.

One thread (this one) owns every workbook's state and runs every workbook's cycle; watchdog's
thread only queues paths and wakes it. So two cycles never touch one workbook at once and
nothing of a workbook needs a lock. Google Sheets are looked after by a thread of their own
(service.google_watch.GoogleWatches.run): Google's answers can be slow, stall until a timeout,
or wait for quota, and none of that may hold up a workbook's cycle. The two share only the event
log and the status file (each written under a lock) and the data folder's SQLite files (which
lock for themselves).

For each workbook: file events are debounced (a save is several events); a workbook open in
Excel on this machine (Windows, macOS) is cleaned in the open book (sync.excel) and looked at
again every `excel_poll` seconds while it stays open (a look reads the book only when its cheap
change sign moved, or every tenth look: sync/excel/signal.py, through the target's peek); one
open in LibreOffice, or in Excel where xlwings cannot reach it (Linux, another machine), is left
until its lock file goes; a file still being written is given time;
the bytes sheetkeeper itself left are recognised (inode, size, mtime) and not looked at again,
so its own writes cause no cycle. A cycle that merged rows or gave out new IDs is followed at
once by another (the new IDs' duplicate pairs can be listed only then); any other leaves
nothing. Errors are per workbook: logged, retried with backoff, never stopping the others.
The log tells what each look at a changed workbook came to: a cycle, `waiting` (when it is
opened, and again at each save while it stays open) or `own-write` (once per write).

Nightly (and at start, if the newest snapshot is over a day old): a forced cycle, which moves
statuses on with the date, then a snapshot and pruning by the retention rules.

Shutdown (SIGINT, SIGTERM): the cycle in flight finishes, then the service exits 0. A second
signal abandons it; the writer's atomic replace and the audit log's pending batches mean that
leaves the workbook and the log exactly as before, never half-written.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import queue
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import IO, Callable

from audit.snapshots import SnapshotStore
from sync import collector
from sync.xlsx.backup import file_identity, take_snapshot
from sync.cycle import ApplyResult
from sync.errors import SheetkeeperError
from sync.errors import WorkbookBusy, WorkbookChanged
from sync.opening import apply_to, open_in_excel
from sync.targets import Target
from sync.xlsx.replace import lock_files, recover_set_aside, recover_set_aside_in
from sync.xlsx.target import apply_workbook
from i18n import _

from .config import ServiceConfig, Watch
from . import reporting
from .google_watch import GoogleWatches
from .schedule import LOCKED_RECHECK, Schedule, WorkbookState, next_nightly, snapshot_overdue
from .status import hold_lock, utc_now, write_status
from .watch import WorkbookEvents, is_workbook_name, start_observer

CONVERGE = 3   # cycles in a row on one workbook before leaving the rest to the next event


class EventLog:
    """One line per event: `TIME EVENT key=value …` for people, or one JSON object a line."""

    def __init__(self, stream: IO[str] = sys.stderr, fmt: str = "text"):
        self.stream, self.fmt = stream, fmt
        self.lock = threading.Lock()    # the workbooks' and the Google thread's lines, whole

    def __call__(self, event: str, **fields: object) -> None:
        at = utc_now()
        if self.fmt == "json":
            line = json.dumps({"at": at, "event": event, **fields}, ensure_ascii=False,
                              default=str)
        else:
            parts = [f"{k}={_quoted(v)}" for k, v in fields.items() if v is not None]
            line = " ".join([at, event, *parts])
        with self.lock:
            self.stream.write(line + "\n")
            self.stream.flush()


def _quoted(value: object) -> str:
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if (" " in text or not text) else text


def _gave_ids(result: ApplyResult) -> bool:
    """New IDs were written: their rows' duplicate pairs can be listed only now, by another
    pass. Any other write leaves nothing for a second pass to do."""
    return result.batch is not None and any(c.rule == "id" for c in result.plan.changes)


class Service:
    def __init__(self, config: ServiceConfig, log: EventLog | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now().astimezone(),
                 apply: Callable[..., ApplyResult] = apply_workbook,
                 in_excel: Callable[..., Target | None] = open_in_excel):
        """`apply`: one cycle on a workbook (sync.xlsx.target.apply_workbook; a test passes
        one that fails the way only an unusual workbook does). `in_excel`: the workbook as it
        is open in Excel, or None (sync.opening.open_in_excel; a test passes a double's)."""
        self.config, self.log = config, log or EventLog()
        self.monotonic, self.now, self.apply = monotonic, now, apply
        self.in_excel = in_excel
        self.schedule = Schedule(config.debounce, config.retry_max)
        self.events: queue.SimpleQueue[tuple[Path, bool]] = queue.SimpleQueue()   # (book, saved)
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.started = utc_now()
        self.next_night: dt.datetime | None = None
        self.google = GoogleWatches(config, self.log, monotonic, lambda: self.now().date())
        self.status_lock = threading.Lock()
        # Per workbook, the version (file_identity) the last "waiting" or "own-write" line was
        # about: each is told once per version, however many file events that version made.
        self.told: dict[Path, tuple] = {}

    # -- control ---------------------------------------------------------------------------

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        self.google.wake.set()
        try:
            self.log("stopping", note="after the cycle in flight, if any; a second signal "
                                      "abandons that cycle, and nothing is half-written")
        except RuntimeError:
            pass   # from a signal handler that cut into a line being written: stderr refuses
                   # to write twice at once, and this line is lost (the stop is not)

    def run(self) -> None:
        missing = [f for f in self._folders() if not f.is_dir()]
        if missing:
            raise SheetkeeperError(_("the folder {value} does not exist, so there is nothing "
                                     "there to watch; create it, or fix the [[watch]] path in "
                                     "{value2}",
                                     value=missing[0], value2=self.config.source or 'the config'))
        lock = hold_lock(self.config.data)
        try:
            for path in self._discover():
                self.schedule.add(path, self.monotonic())
            self._catch_up()
            observer = start_observer(self._folders(), WorkbookEvents(self._wanted, self._notify),
                                      self.config.poll)
            try:
                self.next_night = next_nightly(self.now(), self.config.snapshot_at)
                self.log("start", pid=os.getpid(), data=self.config.data,
                         watching=",".join([*(str(w.path) for w in self.config.watches),
                                            *(w.key for w in self.config.sheets)]),
                         workbooks=len(self.schedule.books),
                         sheets=len(self.config.sheets) or None,
                         nightly=self.next_night.isoformat(),
                         config=self.config.source or "embedded default")
                self._write_status()
                google = self._start_google()
                try:
                    self._loop()
                finally:
                    if google is not None:
                        # The look in flight finishes (each request has its timeouts); a
                        # second signal leaves it, as the thread is a daemon thread.
                        self.google.wake.set()
                        google.join()
            finally:
                observer.stop()
                observer.join(timeout=5)
                self.log("stop", reason="signal")
                self._write_status()
        finally:
            lock.close()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            collector.tidy()       # idle: what the last cycles left, back to the collector
            self.wake.wait(self._timeout())
            self.wake.clear()
            self._take_events()
            if self.next_night and self.now() >= self.next_night:
                self._nightly("nightly")
                self.next_night = next_nightly(self.now(), self.config.snapshot_at)
            for state in self.schedule.due(self.monotonic()):
                if self.stopping.is_set():
                    break
                try:
                    self._look_at(state)
                except FileNotFoundError:
                    self.events.put((state.path, False))   # gone meanwhile: the next look drops it
                    self.schedule.touched(state.path, self.monotonic(), force=True)
                except Exception as e:            # the last guard: log, back off, go on
                    traceback.print_exc(file=sys.stderr)
                    self.log("error", workbook=state.path, error=f"{type(e).__name__}: {e}",
                             retry_in_s=round(self.schedule.failed(state.path,
                                                                   self.monotonic()), 1))
                self._take_events()

    def _timeout(self) -> float:
        waits = [3600.0]
        due = self.schedule.next_due()
        if due is not None:
            waits.append(due - self.monotonic())
        if self.next_night is not None:
            waits.append((self.next_night - self.now()).total_seconds())
        return max(0.0, min(waits))

    def _start_google(self) -> threading.Thread | None:
        if not self.google.states:
            return None
        thread = threading.Thread(target=self.google.run, name="sheetkeeper-google",
                                  args=(self.stopping, self._snapshot, self._write_status),
                                  daemon=True)
        thread.start()
        return thread

    # -- what to watch ---------------------------------------------------------------------

    def _folders(self) -> list[Path]:
        """The folders to observe: a watched folder, or the folder of a watched workbook
        (which may not exist yet: it is picked up when it appears)."""
        return [w.path.parent if is_workbook_name(w.path.name) and not w.path.is_dir()
                else w.path for w in self.config.watches]

    def _discover(self) -> list[Path]:
        found = []
        for folder in self._folders():
            for back in recover_set_aside_in(folder):   # a write killed mid-swap (Windows)
                self.log("recovered", workbook=back,
                         reason="set aside by a write that was cut off; put back")
        for w in self.config.watches:
            found += [p for p in w.workbooks() if p.is_file()]
            if not w.path.exists():
                self.log("warning", watch=w.path,
                         problem="no such workbook yet; it is picked up when it appears")
        return found

    def _wanted(self, path: Path) -> bool:
        return (is_workbook_name(path.name) and self.config.watch_for(path) is not None
                and self.config.data not in path.parents)

    def _notify(self, path: Path, saved: bool = False) -> None:   # watchdog's thread
        self.events.put((path, saved))
        self.wake.set()

    def _take_events(self) -> None:
        while True:
            try:
                path, saved = self.events.get_nowait()
            except queue.Empty:
                return
            if path not in self.schedule.books:
                if not path.exists():
                    continue
                self.schedule.add(path, self.monotonic())
                self.log("added", workbook=path)
            else:
                self.schedule.touched(path, self.monotonic(), saved=saved)

    # -- nightly ---------------------------------------------------------------------------

    def _catch_up(self) -> None:
        now = self.now()
        with SnapshotStore(self.config.data) as store:
            for state in [*self.schedule.books.values(), *self.google.states.values()]:
                last = store.last(state.path)
                if snapshot_overdue(last.taken if last else None, now):
                    state.snapshot = "catch-up"

    def _nightly(self, reason: str) -> None:
        self.log("nightly", workbooks=len(self.schedule.books),
                 sheets=len(self.google.states) or None)
        for state in self.schedule.books.values():
            state.snapshot = reason
            self.schedule.touched(state.path, self.monotonic(), force=True)
        self.google.nightly(reason)

    # -- one workbook ----------------------------------------------------------------------

    def _look_at(self, state: WorkbookState) -> None:
        path, mono = state.path, self.monotonic()
        if not path.exists() and not recover_set_aside(path):
            self.schedule.drop(path)
            self.told.pop(path, None)
            self.log("removed", workbook=path)
            self._write_status()
            return
        locks = lock_files(path)
        if locks:
            if state.snapshot:
                self._snapshot(state)
            if self._live(state):
                return
            held = file_identity(path)
            # Told when it is opened, and at each save while it stays open; not at a recheck.
            if state.report.get("outcome") != "waiting" or self.told.get(path) != held:
                self.log("waiting", workbook=path, lock=locks[0].name, saved=_saved_at(held),
                         reason="open in a spreadsheet program; sheetkeeper writes once it "
                                "is closed")
                self.told[path] = held
            state.report.update(outcome="waiting", error=f"open elsewhere ({locks[0].name})")
            self.schedule.later(path, mono + LOCKED_RECHECK)
            self._write_status()
            return
        age = self.now().timestamp() - os.stat(path).st_mtime
        saved, state.saved = state.saved, False
        if not saved and 0 <= age < self.config.debounce:
            self.schedule.later(path, mono + self.config.debounce - age)   # still being saved
            return
        identity = file_identity(path)
        if identity == state.own and not state.forced and not state.snapshot:
            self.schedule.succeeded(path)   # the bytes sheetkeeper itself left
            if self.told.get(path) != identity:
                self.log("own-write", workbook=path, saved=_saved_at(identity),
                         reason="the workbook is as sheetkeeper's last cycle left it; no cycle")
                self.told[path] = identity
            return
        self._cycle(state)
        if state.snapshot and not state.failures:
            self._snapshot(state)
        self._write_status()

    def _cycle(self, state: WorkbookState) -> None:
        path, start = state.path, time.perf_counter()
        watch = self.config.watch_for(path) or Watch(path)
        identity = _identity_or_none(path)
        try:
            results = self._converge(path, watch)
        except WorkbookBusy as e:
            state.report.update(outcome="waiting", error=str(e))
            self.schedule.later(path, self.monotonic() + LOCKED_RECHECK)
            self.log("waiting", workbook=path, saved=identity and _saved_at(identity),
                     reason=str(e))
            return
        except WorkbookChanged as e:
            if _identity_or_none(path) != identity:   # a person saved meanwhile: look again
                self.schedule.touched(path, self.monotonic(), force=True)
                return
            # "Changed" while nobody changed it: a workbook sheetkeeper cannot handle, not a
            # race. Told once per try, and tried again later and later, never in a tight loop.
            reporting.failed(state, self.schedule.failed(path, self.monotonic()), e, self.log)
            return
        except Exception as e:   # one workbook's trouble never stops the others
            reporting.failed(state, self.schedule.failed(path, self.monotonic()), e, self.log)
            return
        state.own = file_identity(path)
        self.schedule.succeeded(path)
        reporting.cycled(state, results, time.perf_counter() - start, self.log)

    def _live(self, state: WorkbookState) -> bool:
        """A workbook open in Excel on this machine: a cycle in the open book, and another in
        `excel_poll` seconds while it stays open (nothing tells of an edit there: the cycle
        peeks at the book's change sign, and reads it only when that moved). False where
        Excel cannot be reached (Linux, another machine, LibreOffice): wait for it to close."""
        path, start = state.path, time.perf_counter()
        watch = self.config.watch_for(path) or Watch(path)
        poll = self.monotonic() + self.config.excel_poll
        try:
            target = self.in_excel(path, watch.templates, watch.sheet)
            if target is None:
                return False
            results = self._converge_on(target, path)
        except WorkbookBusy as e:      # a cell being edited, the book closing, no permission
            state.report.update(outcome="waiting", error=str(e))
            self.schedule.later(path, poll)
            self.log("waiting", workbook=path, reason=str(e))
        except Exception as e:         # one workbook's trouble never stops the others
            reporting.failed(state, self.schedule.failed(path, self.monotonic()), e, self.log)
        else:
            self.schedule.succeeded(path)
            self.schedule.later(path, poll)
            if any(r.batch or r.merges for r in results):
                # Written into the open book, not the file: once it is closed, its file is
                # looked at again whatever it holds (saved, or not).
                state.own = None
            reporting.cycled(state, results, time.perf_counter() - start, self.log)
        self._write_status()
        return True

    def _converge_on(self, target: Target, path: Path) -> list[ApplyResult]:
        c = self.config
        settings = c.rule_settings(path, self.now().date())
        results: list[ApplyResult] = []
        for _round in range(CONVERGE):
            result = apply_to(target, settings, c.data, auto_merge=c.auto_merge)
            results.append(result)
            if not (result.merges or _gave_ids(result)):
                break
        return results

    def _converge(self, path: Path, watch: Watch) -> list[ApplyResult]:
        c = self.config
        settings = c.rule_settings(path, self.now().date())
        results: list[ApplyResult] = []
        for _round in range(CONVERGE):
            result = self.apply(path, settings, c.data, templates=watch.templates,
                                sheet=watch.sheet, auto_merge=c.auto_merge)
            results.append(result)
            if not (result.merges or _gave_ids(result)):
                break
        return results

    def _snapshot(self, state: WorkbookState, sheet=None) -> None:
        """Snapshot a workbook, or (with `sheet`, opened) a Google Sheet; then prune."""
        reason, state.snapshot = state.snapshot, None
        start = time.perf_counter()
        try:
            if sheet is None:
                watch = self.config.watch_for(state.path) or Watch(state.path)
                snap = take_snapshot(state.path, self.config.data, reason, watch.templates)
            else:
                from sync.gsheets.backup import take_google_snapshot
                watch = self.config.sheet_watch(state.path)
                snap = take_google_snapshot(sheet, self.config.data, reason,
                                            watch.templates if watch else None)
            with SnapshotStore(self.config.data) as store:
                gone = [s for s, kept in store.prune(state.path, self.config.retention)
                        if kept is None]
        except Exception as e:
            self.log("error", workbook=state.path, error=f"snapshot not taken: {e}")
            return
        self.log("snapshot", workbook=state.path, id=snap.id, reason=reason, rows=snap.rows,
                 pruned=len(gone), ms=round((time.perf_counter() - start) * 1000))

    def _write_status(self) -> None:
        """From either thread: each writes the whole file, one at a time."""
        try:
            with self.status_lock:
                write_status(self.config.data, {
                    "pid": os.getpid(), "started": self.started, "updated": utc_now(),
                    "config": str(self.config.source or "embedded default"),
                    "next_nightly": self.next_night.isoformat() if self.next_night else None,
                    "workbooks": {**{str(p): s.report for p, s in self.schedule.books.items()},
                                  **self.google.reports()}})
        except OSError as e:
            self.log("warning", problem=f"status file not written: {e}")


def _saved_at(identity: tuple[int, int, int]) -> str:
    """When the version of a workbook with this file_identity was saved (UTC, to the ms)."""
    return dt.datetime.fromtimestamp(identity[2] / 1e9, dt.UTC).isoformat(
        timespec="milliseconds")


def _identity_or_none(path: Path):
    try:
        return file_identity(path)
    except OSError:
        return None
