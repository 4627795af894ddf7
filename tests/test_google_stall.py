"""A stalled Google request holds up no workbook: the service in-process (as in
tests/test_nightly.py: a thread, real file events, real cycles, the emulator on 127.0.0.1),
with its first Google request held without an answer while a workbook is edited and cleaned."""
from __future__ import annotations

import dataclasses
import io
import threading
import time

import openpyxl

from service import config as service_config
from service.config import GoogleConfig, SheetWatch
from service.daemon import EventLog, Service
from sheet_templates import builtin
from sync.xlsx.install import install_new

from .fakesheets import installed_sheet

USUAL = 10.0    # seconds: a workbook edit is cleaned well within this on a loaded machine


def name_of(book):
    return openpyxl.load_workbook(book)["Customers"]["B2"].value


def test_a_stalled_google_request_holds_up_no_workbook(server, tmp_path):
    google = installed_sheet(server, [["", "ANNA BERG"]])
    books = tmp_path / "workbooks"
    books.mkdir()
    book = books / "customers.xlsx"
    install_new(builtin("crm"), book, "en", [{"name": "Ann Lee"}])
    config = dataclasses.replace(
        service_config.embedded(tmp_path), sheets=(SheetWatch(google.key),),
        google=GoogleConfig(api_endpoint=server.url, poll=0.3))
    requests_before = len(server.faults.log)
    server.faults.next("stall")            # the service's first Google request: no answer
    log = io.StringIO()
    service = Service(config, EventLog(log, "json"))
    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        assert server.faults.stalled.wait(30)
        wait_until(lambda: '"event": "start"' in log.getvalue())
        # A person's messy edit while the Google request is still held.
        edited = openpyxl.load_workbook(book)
        edited["Customers"]["B2"] = "  MARY   SMITH "
        edited.save(book)
        start = time.monotonic()
        wait_until(lambda: name_of(book) == "Mary Smith", timeout=USUAL)
        assert time.monotonic() - start < USUAL
        # ... and the Google request was still stalled all along: nothing else was asked.
        assert not server.faults.released.is_set()
        assert len(server.faults.log) == requests_before + 1
        assert f'"workbook": "gsheet:{google.key}"' not in log.getvalue()

        # Let go (the connection closes unanswered): retried, and the sheet is cleaned too.
        server.faults.release()
        wait_until(lambda: f'"event": "cycle", "workbook": "gsheet:{google.key}"'
                   in log.getvalue())
        assert google.spreadsheet.worksheet("Customers").acell("B2").value == "Anna Berg"
    finally:
        server.faults.release()
        service.stop()
        thread.join(30)
    assert not thread.is_alive()


def wait_until(check, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_stopping_ends_a_wait_before_a_retry_at_once(server, tmp_path):
    """Google says 'again in 30 s' (429, Retry-After: 30) to every request: the service stops
    in well under that, its Google thread gone, rather than sleeping the wait out."""
    google = installed_sheet(server, [["", "ANNA BERG"]])
    (tmp_path / "workbooks").mkdir()
    config = dataclasses.replace(
        service_config.embedded(tmp_path), sheets=(SheetWatch(google.key),),
        google=GoogleConfig(api_endpoint=server.url, poll=0.3))
    server.faults.retry_after = 30
    server.faults.rate(1.0, kinds=("429",))
    requests_before = len(server.faults.log)
    log = io.StringIO()
    service = Service(config, EventLog(log, "json"))
    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        wait_until(lambda: len(server.faults.log) > requests_before)   # refused: now waiting
    finally:
        start = time.monotonic()
        service.stop()
        thread.join(30)
    assert not thread.is_alive()
    assert time.monotonic() - start < 5
    assert len(server.faults.log) == requests_before + 1     # not sent again
    assert not [t for t in threading.enumerate() if t.name == "sheetkeeper-google"]
