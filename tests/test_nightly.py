"""The nightly run, with the service's wall clock in the test's hand: a row turns Paused with
nobody editing it, and a nightly snapshot is taken. The service runs in a thread here (the
clock is injected); file events and cycles are real."""
from __future__ import annotations

import datetime as dt
import gc
import io
import threading

import openpyxl

from audit.snapshots import SnapshotStore
from service import config as service_config
from service.daemon import EventLog, Service
from sheet_templates import builtin
from sync.xlsx.install import install_new

LONDON = dt.timezone(dt.timedelta(0))


class Clock:
    def __init__(self, at: dt.datetime):
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


def status_of(path):
    return openpyxl.load_workbook(path)["Customers"]["K2"].value


def test_nightly_moves_statuses_on_and_takes_snapshots(tmp_path):
    books = tmp_path / "workbooks"
    books.mkdir()
    book = books / "customers.xlsx"
    install_new(builtin("crm"), book, "en", [{
        "name": "Ann Lee", "phone": "+442079460958", "member_since": dt.date(2026, 1, 5),
        "last_contact": dt.date(2026, 11, 1)}])
    config = service_config.embedded(tmp_path)
    clock = Clock(dt.datetime(2026, 11, 23, 12, 0, tzinfo=LONDON))
    log = io.StringIO()
    service = Service(config, EventLog(log, "json"), now=clock)
    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        wait_until(lambda: '"event": "snapshot"' in log.getvalue())   # the catch-up one
        assert status_of(book) == "Active"
        # 61 days without contact, and past 02:00: the nightly run is due.
        clock.at = dt.datetime(2027, 1, 1, 2, 0, 1, tzinfo=LONDON)
        service.wake.set()
        wait_until(lambda: '"reason": "nightly"' in log.getvalue())
        assert status_of(book) == "Paused"
        assert service.next_night == dt.datetime(2027, 1, 2, 2, 0, tzinfo=LONDON)
        # Idle again: what its cycles froze (see sync.collector) is the collector's again.
        wait_until(lambda: gc.get_freeze_count() == 0)
    finally:
        service.stop()
        thread.join(30)
    assert not thread.is_alive()
    with SnapshotStore(config.data) as store:
        assert [s.reason for s in store.list(book)] == ["catch-up", "nightly"]


def wait_until(check, timeout: float = 30) -> None:
    import time
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


class Monotonic:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_workbook_that_keeps_changing_with_nobody_saving_it_is_backed_off(tmp_path):
    """A cycle that finds the workbook 'changed' three times while its file never changed (a
    workbook sheetkeeper cannot handle, not a person at work) is told once per try and tried
    again later and later, never at once: each retry waits for the service's clock to reach
    the time the error line gave (issue 24 #13: such a workbook was retried in a busy loop)."""
    import json
    from sync.errors import WorkbookChanged
    books = tmp_path / "workbooks"
    books.mkdir()
    book = books / "customers.xlsx"
    install_new(builtin("crm"), book, "en", [{"name": "Ann Lee", "phone": "+442079460958"}])
    before = book.read_bytes()
    tried: list[float] = []
    clock = Monotonic()

    def keeps_changing(path, *args, **kwargs):
        tried.append(clock.t)
        raise WorkbookChanged(f"{path}: kept changing while sheetkeeper worked (3 tries)")

    log = io.StringIO()
    service = Service(service_config.embedded(tmp_path), EventLog(log, "json"),
                      monotonic=clock, now=Clock(dt.datetime(2026, 11, 23, 12, tzinfo=LONDON)),
                      apply=keeps_changing)

    def errors():
        return [e for e in map(json.loads, log.getvalue().splitlines()) if e["event"] == "error"]

    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        wait_until(lambda: '"event": "start"' in log.getvalue())
        clock.t += 1.0                          # past the debounce of the first look
        service.wake.set()
        wait_until(lambda: len(errors()) == 1)
        first = errors()[0]
        assert first["retry_in_s"] >= 1 and "kept changing" in first["error"]
        for _ in range(2):                      # each retry only once its time has come
            due = tried[-1] + errors()[-1]["retry_in_s"]
            clock.t = due + 0.06           # (the line gives the wait to a tenth)
            service.wake.set()
            wait_until(lambda n=len(tried): len(errors()) == n + 1)
        assert len(tried) == 3
        assert all(later >= earlier + 1 for earlier, later in zip(tried, tried[1:]))
    finally:
        service.stop()
        thread.join(30)
    assert not thread.is_alive()
    assert book.read_bytes() == before
