"""Which file events say a save is over: watchdog's own event objects, dispatched to the
handler the service gives its observer."""
from __future__ import annotations

from pathlib import Path

from watchdog.events import (FileCreatedEvent, FileDeletedEvent, FileModifiedEvent,
                             FileMovedEvent)

from service.watch import WorkbookEvents


def told(tmp_path: Path, *events) -> list[tuple[str, bool]]:
    heard: list[tuple[str, bool]] = []
    handler = WorkbookEvents(lambda p: True, lambda p, saved: heard.append((p.name, saved)))
    for event in events:
        handler.dispatch(event)
    return heard


def test_a_file_moved_onto_a_workbook_is_a_finished_save(tmp_path):
    book, temp = tmp_path / "customers.xlsx", tmp_path / "lu12345.tmp"
    assert told(tmp_path, FileMovedEvent(str(temp), str(book))) == [("customers.xlsx", True)]
    # Excel's way: the workbook deleted, then its temp file renamed over it
    assert told(tmp_path, FileDeletedEvent(str(book)), FileMovedEvent(str(tmp_path / "A1B2C3"),
                                                                     str(book))) == \
        [("customers.xlsx", False), ("customers.xlsx", True)]


def test_a_write_in_place_or_a_workbook_moved_away_may_not_be_over(tmp_path):
    book = tmp_path / "customers.xlsx"
    assert told(tmp_path, FileModifiedEvent(str(book)), FileCreatedEvent(str(book))) == \
        [("customers.xlsx", False), ("customers.xlsx", False)]
    assert told(tmp_path, FileMovedEvent(str(book), str(tmp_path / "old.bak"))) == \
        [("customers.xlsx", False)]


def test_a_lock_file_renamed_is_not_a_save_of_its_workbook(tmp_path):
    (tmp_path / "customers.xlsx").write_bytes(b"")
    lock = tmp_path / ".~lock.customers.xlsx#"
    assert told(tmp_path, FileMovedEvent(str(tmp_path / "x.tmp"), str(lock))) == \
        [("customers.xlsx", False)]


def test_a_person_saving_by_rename_is_taken_in_without_waiting_for_quiet(tmp_path):
    """The service's clocks stand still here: a cycle that waited for `debounce` seconds of
    quiet would never come. A save by rename (LibreOffice's, Excel's, a sync client's) is
    taken in all the same; real file events from the real observer."""
    import datetime as dt
    import io
    import json
    import os
    import threading

    import openpyxl

    from service import config as service_config
    from service.daemon import EventLog, Service
    from sheet_templates import builtin
    from sync.xlsx.install import install_new
    from tests.test_nightly import Clock, Monotonic, wait_until

    books = tmp_path / "workbooks"
    books.mkdir()
    book = books / "customers.xlsx"
    install_new(builtin("crm"), book, "en", [{"name": "Ann Lee", "phone": "+442079460958"}])
    clock, log = Monotonic(), io.StringIO()
    service = Service(service_config.embedded(tmp_path), EventLog(log, "json"), monotonic=clock,
                      now=Clock(dt.datetime(2026, 11, 23, 12, tzinfo=dt.timezone.utc)))

    def cycles():
        return [e for e in map(json.loads, log.getvalue().splitlines()) if e["event"] == "cycle"]

    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        wait_until(lambda: '"event": "start"' in log.getvalue())
        clock.t += 1.0                        # past the debounce of the first look
        service.wake.set()
        wait_until(lambda: len(cycles()) == 1)
        wb = openpyxl.load_workbook(book)
        wb["Customers"]["E2"] = "+44 20 7946 0999"
        wb.save(books / "lu1234.tmp")
        os.replace(books / "lu1234.tmp", book)
        wait_until(lambda: len(cycles()) == 2)
    finally:
        service.stop()
        thread.join(30)
    assert not thread.is_alive()
    assert openpyxl.load_workbook(book)["Customers"]["E2"].value == "+442079460999"
