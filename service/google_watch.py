"""The Google Sheets the service looks after: polled through Drive, cycled when they moved.

Google tells nobody when a sheet changes, so each watched sheet is polled every `[google] poll`
seconds (default 15) with Drive's files.get (fields modifiedTime and version): one cheap request,
and nothing more while the sheet stays as it was. When it moved, a sync cycle runs (at most four
requests, see sync.gsheets.target). A cycle that wrote moves the sheet itself, so the sheet is
polled again at once; the cycle after that finds nothing left to do (the new IDs' duplicate
pairs are listed there) and the sheet goes quiet. The change signal is read before the cycle
reads the sheet, so a person's edit during a cycle is never taken as seen.

Failures (Google unreachable, the sheet not shared, an API not enabled, a sign-in expired) are
per sheet, logged as what they are (sync.errors' Google errors, each saying what to do) and
retried with the same growing backoff as a workbook's, never stopping the other sheets or the
workbooks. What Google refused is looked at anew on the next try (the sheet opened again, the
sign-in read again after a refused one), so it is taken up as soon as a person puts it right.

Every request of every sheet, from start-up to the nightly snapshot, goes through one client, so
through one quota budget for the account (sync.gsheets.quota): 50 sheets on one account stay
within Google's 60 reads and 60 writes a minute, each waiting its turn.

In the service, all of this runs in a thread of its own (`run`), so a slow or stalled Google
request (each has connect and read timeouts, sync.gsheets.client.TIMEOUTS) or a wait for Google's
quota holds up only the other sheets, never a workbook's cycle. What the service's own thread
asks of it (a nightly run) and reads from it (the sheets' reports) passes under `lock`; the
waits between retries end at once when the service stops.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from sync.errors import GoogleRefused, GoogleSignInRefused, GoogleUnavailable
from sync.opening import apply_to
from i18n import _

from . import reporting
from .config import ServiceConfig, SheetWatch
from .schedule import Schedule, WorkbookState

SOON = 0.5   # seconds before polling again a sheet sheetkeeper has just written


class GoogleWatches:
    def __init__(self, config: ServiceConfig, log: Callable[..., None],
                 monotonic: Callable[[], float], today: Callable[[], object],
                 budget=None):
        """`budget`: the account's quota budget (sync.gsheets.quota.QuotaBudget); by default
        the client's own, kept across sign-ins. Every sheet's requests go through it."""
        self.config, self.log, self.monotonic, self.today = config, log, monotonic, today
        self.budget = budget
        self.schedule = Schedule(0.0, config.retry_max)
        self.signals: dict[str, tuple[str, str]] = {}
        self.sheets: dict[str, object] = {}       # key -> GoogleSheet, opened once
        self.client = None
        self.wake = threading.Event()
        self.stopping = threading.Event()       # the service's, once `run` is given it
        # Guards what another thread touches: the reports it reads, the nightly run it asks.
        self.lock = threading.Lock()
        self.asked: str | None = None
        for watch in config.sheets:
            state = self.schedule.add(watch.key, monotonic())
            state.forced = True                   # look at every sheet once at start

    @property
    def states(self) -> dict[str, WorkbookState]:
        return self.schedule.books

    def next_due(self) -> float | None:
        return self.schedule.next_due()

    def nightly(self, reason: str) -> None:
        """A nightly run of every sheet (a forced cycle and a snapshot), from any thread: taken
        up by the next `run_due`."""
        with self.lock:
            self.asked = reason
        self.wake.set()

    def reports(self) -> dict[str, dict]:
        """Each sheet's report as it stands, copied: for the status file, from any thread."""
        with self.lock:
            return {key: dict(state.report) for key, state in self.states.items()}

    def run(self, stopping: threading.Event,
            snapshot: Callable[[WorkbookState, object], None],
            after: Callable[[], None] = lambda: None) -> None:
        """The service's Google thread: every sheet when due, `after` each round (the status
        file), until `stopping` (the look in flight finishes first; a wait for a retry or for
        quota ends at once)."""
        self.stopping = stopping
        while not stopping.is_set():
            self.run_due(stopping.is_set, snapshot)
            after()
            due = self.next_due()
            self.wake.wait(3600.0 if due is None else max(0.0, due - self.monotonic()))
            self.wake.clear()

    def run_due(self, stopping: Callable[[], bool],
                snapshot: Callable[[WorkbookState, object], None]) -> None:
        with self.lock:
            reason, self.asked = self.asked, None
        if reason:
            for state in self.states.values():
                state.snapshot = reason
                self.schedule.touched(state.path, self.monotonic(), force=True)
        for state in self.schedule.due(self.monotonic()):
            if stopping():
                return
            watch = self.config.sheet_watch(state.path)
            try:
                self._look_at(state, watch, snapshot)
            except Exception as e:     # one sheet's trouble never stops the others
                self._failed(state, e)

    # -- one sheet -------------------------------------------------------------------------

    # gspread is imported only here, when a Google Sheet is watched: a service that watches
    # only workbooks does not pay for it.
    def _open(self, watch: SheetWatch):
        from sync.gsheets.client import GoogleSheet, connect
        if self.client is None:
            g = self.config.google
            self.client = connect(g.credentials, g.authorized_user, g.api_endpoint)
            http = self.client[0].http_client
            http.sleep = self._pause
            if self.budget is None:
                self.budget = http.budget      # one budget for the account, whatever signs in
            else:
                http.budget = self.budget
        sheet = self.sheets.get(watch.key)
        if sheet is None:
            client, account = self.client
            sheet = self.sheets[watch.key] = GoogleSheet.open(client, watch.spreadsheet, account)
        return sheet

    def _look_at(self, state: WorkbookState, watch: SheetWatch,
                 snapshot: Callable[[WorkbookState, object], None]) -> None:
        from sync.gsheets.target import GoogleTarget
        key = state.path
        sheet = self._open(watch)
        signal = sheet.change_signal()
        if signal == self.signals.get(key) and not state.forced and not state.snapshot:
            self._next_poll(state, self.config.google.poll)
            return
        start = time.perf_counter()
        settings = self.config.rule_settings(key, self.today())
        target = GoogleTarget(sheet, watch.templates, watch.sheet)
        result = apply_to(target, settings, self.config.data, auto_merge=self.config.auto_merge)
        self.signals[key] = signal
        with self.lock:
            reporting.cycled(state, [result], time.perf_counter() - start, self.log)
        if state.snapshot:
            snapshot(state, sheet)
        wrote = result.batch is not None or bool(result.merges)
        self._next_poll(state, SOON if wrote else self.config.google.poll)

    def _pause(self, seconds: float) -> None:
        """The client's wait before a retry: cut short when the service stops."""
        if self.stopping.wait(seconds):
            raise GoogleUnavailable(_("the service is stopping; the request was not sent again"))

    def _next_poll(self, state: WorkbookState, wait: float) -> None:
        self.schedule.succeeded(state.path)
        self.schedule.later(state.path, self.monotonic() + wait)

    def _failed(self, state: WorkbookState, e: Exception) -> None:
        with self.lock:
            reporting.failed(state, self.schedule.failed(state.path, self.monotonic()), e,
                             self.log)
        if isinstance(e, GoogleSignInRefused):     # read the token file again: a new login
            self.client = None
            self.sheets.clear()
        elif isinstance(e, GoogleRefused):         # opened anew: once shared, it is taken up
            self.sheets.pop(state.path, None)
