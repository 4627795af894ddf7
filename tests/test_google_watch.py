"""The service's Google side in-process (tests/test_daemon_google.py runs the real daemon):
each sheet on its own, a missing one logged and retried with backoff, one request per idle
poll, and a nightly snapshot."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from service.config import GoogleConfig, ServiceConfig, SheetWatch
from service.google_watch import GoogleWatches

from .fakesheets import installed_sheet


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_each_sheet_on_its_own_and_one_request_per_idle_poll(server, tmp_path):
    good = installed_sheet(server, [["", "ANNA BERG", "", "", "13800138000"]])
    config = ServiceConfig(None, tmp_path / "data", (),
                           sheets=(SheetWatch("1NoSuchSheet"), SheetWatch(good.key)),
                           google=GoogleConfig(api_endpoint=server.url, poll=15))
    events, clock = [], Clock()
    watches = GoogleWatches(config, lambda event, **f: events.append((event, f)), clock,
                            lambda: dt.date(2026, 11, 23))
    snapshots = []
    watches.run_due(lambda: False, lambda state, sheet: snapshots.append(state.path))
    kinds = {(e, f["workbook"]) for e, f in events}
    assert ("error", "gsheet:1NoSuchSheet") in kinds and ("cycle", f"gsheet:{good.key}") in kinds
    error = next(f for e, f in events if e == "error")
    assert "not found" in error["error"] and error["retry_in_s"] > 0
    assert good.spreadsheet.worksheet("Customers").acell("B2").value == "Anna Berg"

    clock.t += 1                                  # written: polled again soon; settles
    watches.run_due(lambda: False, lambda *a: None)
    clock.t += 16
    before, cycles = len(server.faults.log), len(events)
    watches.run_due(lambda: False, lambda *a: None)
    quiet = [p for _, p in server.faults.log[before:] if good.key in p]
    assert quiet == [f"/drive/v3/files/{good.key}"]   # nothing moved: one request
    assert not [e for e, f in events[cycles:] if e == "cycle"]

    watches.nightly("nightly")                    # forced: a cycle and a snapshot
    watches.run_due(lambda: False, lambda state, sheet: snapshots.append(state.path))
    assert f"gsheet:{good.key}" in snapshots
    assert Path(config.data / "audit.sqlite3").exists()
