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
