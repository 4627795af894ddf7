"""The service with a workbook open in Excel (on the xlwings double, tests/excel_double.py: no
Excel runs here): cleaned in the open book and looked at again every `excel_poll` seconds while
it stays open, the file left to the person; once it is closed without saving, the file is
looked at, the log put right and the changes made again. The service runs in a thread with its
clock in the test's hand; file events, the audit log and the workbook file are real."""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import threading

import openpyxl

from audit.log import AuditLog
from service import config as service_config
from service.daemon import EventLog, Service
from sync.excel.session import ExcelCalls
from sync.excel.target import ExcelTarget
from tests.conftest import CRM_EN, crm_row, fingerprint, write_table
from tests.excel_double import Desk
from tests.test_nightly import LONDON, Clock, Monotonic, wait_until


def service_on_an_open_book(tmp_path):
    """A messy workbook in workbooks/, open in Excel (the double), and the service watching
    it (`excel_poll` 30 s) with its clock in the test's hand, not started: (path, desk, clock,
    service, the service's log)."""
    books = tmp_path / "workbooks"
    books.mkdir()
    path = write_table(books / "customers.xlsx", CRM_EN, [
        crm_row(name="ANN LEE", phone="+44 20 7946 0958"), crm_row(name="bob stone")])
    desk = Desk(path)
    clock = Monotonic()
    config = dataclasses.replace(service_config.embedded(tmp_path), excel_poll=30.0)

    def in_excel(p, templates=None, sheet=None):
        if not desk.lock.exists():
            return None
        return ExcelTarget(desk.book, p, templates, sheet,
                           calls=ExcelCalls(str(p), sleep=lambda s: None))

    log = io.StringIO()
    service = Service(config, EventLog(log, "json"), monotonic=clock,
                      now=Clock(dt.datetime(2026, 11, 23, 12, tzinfo=LONDON)), in_excel=in_excel)
    return path, desk, clock, service, log


def test_the_service_cleans_a_workbook_open_in_excel_and_the_file_once_closed(tmp_path):
    path, desk, clock, service, log = service_on_an_open_book(tmp_path)
    on_disk = fingerprint(path)

    def events(kind):
        return [e for e in map(json.loads, log.getvalue().splitlines()) if e["event"] == kind]

    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        wait_until(lambda: events("start"))
        clock.t += 1.0
        service.wake.set()
        wait_until(lambda: events("cycle"))
        assert events("cycle")[0]["changes"] > 0
        assert desk.value("Customers", "B2") == "Ann Lee"
        assert fingerprint(path) == on_disk          # the file is the person's to save
        # A person types in the open book; nothing tells the service: its poll finds it.
        desk.type("Customers", "B3", "BOB STONE")
        clock.t += 10.0
        service.wake.set()
        assert len(events("cycle")) == 1             # not before excel_poll has passed
        clock.t += 21.0
        service.wake.set()
        wait_until(lambda: len(events("cycle")) == 2)
        assert desk.value("Customers", "B3") == "Bob Stone"
        # Closed without saving: the lock file goes, the file is looked at.
        desk.close(save=False)

        def cleaned_on_file():
            clock.t += 1.0       # past the debounce of the lock file's going, once it is seen
            service.wake.set()
            return openpyxl.load_workbook(path)["Customers"]["B2"].value == "Ann Lee"
        wait_until(cleaned_on_file)
    finally:
        service.stop()
        thread.join(30)
    assert not thread.is_alive()
    with AuditLog(service.config.data / "audit.sqlite3") as audit:
        kinds = [k for (k,) in audit.db.execute("SELECT kind FROM batches ORDER BY rowid")]
    assert kinds[:3] == ["apply", "person", "apply"] and kinds[3:5] == ["unsaved", "unsaved"]
    assert kinds[-1] == "apply"
    assert not any(e["event"] == "error" for e in map(json.loads, log.getvalue().splitlines()))
