"""The change sign of a workbook open in Excel (sync/excel/signal.py): a poll of an unchanged
book answers from a few calls and does not read the book again; a changed one is read. On the
xlwings double (tests/excel_double.py), whose Workbook.Saved, Worksheet.Evaluate (the sign's
checksum, computed as Excel computes it) and Application.Ready model Excel's; nothing here ran
against a real Excel."""
from __future__ import annotations

import datetime as dt
import json
import threading

import pytest

from sync.excel import signal
from sync.cycle import run_cycle
from sync.excel.signal import FULL_READ_EVERY, probe_formula
from sync.settings import default_data_folder
from tests.conftest import CRM_EN, crm_row, write_table
from tests.excel_double import XL_ERR_NAME, Desk, _SheetApi
from tests.test_excel_live import SETTINGS, SHEET, live, messy
from tests.test_nightly import wait_until


@pytest.fixture
def desk(tmp_path):
    d = Desk(messy(tmp_path))
    yield d
    d.lock.unlink(missing_ok=True)


def poll(desk: Desk):
    """One look, as the service's poll makes it: a cycle on a target attached afresh."""
    return run_cycle(live(desk), SETTINGS, default_data_folder(desk.model.path))


def full_reads(desk: Desk) -> int:
    """Reads of the table sheet's cells (the used range's values: a full read)."""
    return sum(1 for r in desk.model.reads if r.startswith(f"{SHEET}!$A$1:"))


def settled(desk: Desk) -> None:
    """Polls until one is answered without a read (sheetkeeper's writes, then a quiet read
    that the sign is taken before)."""
    for _ in range(4):
        before = full_reads(desk)
        result = poll(desk)
        if not result.read:
            assert full_reads(desk) == before
            return
    raise AssertionError("never settled")


def test_an_unchanged_book_is_not_read_again_and_a_changed_one_is(desk):
    settled(desk)
    reads, calls = full_reads(desk), desk.model.calls
    for _ in range(3):
        result = poll(desk)
        assert not result.read and result.batch is None
    assert full_reads(desk) == reads
    assert desk.model.evaluated >= 3
    assert (desk.model.calls - calls) / 3 <= 6      # Saved, the sheets, the tab, its used
                                                      # range, Evaluate
    desk.type(SHEET, "B3", "BOB STONE")
    result = poll(desk)
    assert result.read and full_reads(desk) == reads + 1
    assert desk.value(SHEET, "B3") == "Bob Stone"


def test_a_look_costs_the_same_few_calls_however_long_the_list(tmp_path):
    costs = []
    for n in (3, 300):
        folder = tmp_path / str(n)
        folder.mkdir()
        desk = Desk(write_table(folder / "c.xlsx", CRM_EN, [
            crm_row(name=f"Customer {i}", email=f"c{i}@example.com") for i in range(n)]))
        try:
            settled(desk)
            calls, evaluated = desk.model.calls, desk.model.evaluated
            assert not poll(desk).read
            costs.append((desk.model.calls - calls, desk.model.evaluated - evaluated))
        finally:
            desk.lock.unlink(missing_ok=True)
    assert costs[0] == costs[1] and costs[0][1] == 1


@pytest.mark.parametrize("edit", ["a new row below", "a date moved by ten days",
                                  "two rows swapped (a sort)", "a number typed over",
                                  "a cell cleared"])
def test_edits_the_sign_sees(desk, edit):
    desk.save()                     # Saved is True again: it alone would see a first edit…
    settled(desk)
    desk.model.saved = False        # …so let it be False already: the rest must see it
    assert not poll(desk).read
    reads = full_reads(desk)
    row2 = {c: desk.model.cells[SHEET].get((2, c)) for c in range(1, 20)}
    row3 = {c: desk.model.cells[SHEET].get((3, c)) for c in range(1, 20)}
    if edit == "a new row below":
        desk.type(SHEET, "B9", "Dee Park")
    elif edit == "a date moved by ten days":
        desk.type(SHEET, "Q2", dt.date(2026, 1, 1))
        desk.model.saved = False
        settled(desk)
        reads = full_reads(desk)
        desk.type(SHEET, "Q2", dt.date(2026, 1, 11))
    elif edit == "two rows swapped (a sort)":
        for c in range(1, 20):
            for row, values in ((2, row3), (3, row2)):
                if values[c] is None:
                    desk.model.cells[SHEET].pop((row, c), None)
                else:
                    desk.model.cells[SHEET][(row, c)] = values[c]
    elif edit == "a number typed over":
        desk.type(SHEET, "E3", "+8613900139001")
    elif edit == "a cell cleared":
        desk.type(SHEET, "R2", None)
    desk.model.saved = False
    assert poll(desk).read and full_reads(desk) == reads + 1


def test_a_purchase_typed_on_a_ledger_tab_is_seen(tmp_path):
    """The sign covers every tab the last read used, not only the table's."""
    from tests.test_ledgers import ANN, BOB, workbook
    desk = Desk(workbook(tmp_path, [ANN, BOB]))
    try:
        settled(desk)
        reads = full_reads(desk)
        desk.type("Purchases", "A2", dt.datetime(2026, 11, 20))
        desk.type("Purchases", "C2", "'138 0013 8000")
        desk.type("Purchases", "D2", "Tea")
        desk.type("Purchases", "E2", 1)
        desk.type("Purchases", "F2", 128)
        assert poll(desk).read and full_reads(desk) == reads + 1
        assert desk.value("Purchases", "B2") == "C-000001"
    finally:
        desk.lock.unlink(missing_ok=True)


def test_what_the_sign_misses_is_read_within_full_read_every_polls(desk):
    """An edit keeping a cell's length, first and last characters, in a book already unsaved,
    is not seen by the sign (README): the poll reads anyway at least every FULL_READ_EVERY."""
    settled(desk)
    email = desk.value(SHEET, "F3")
    assert email == "bob@example.com"
    desk.type(SHEET, "F3", "bob@EXAMPLE.com")        # same length, same 'b' and 'm'
    polls = 0
    while not poll(desk).read:
        polls += 1
        assert desk.value(SHEET, "F3") == "bob@EXAMPLE.com"
        assert polls < FULL_READ_EVERY, "never read"
    assert polls > 0                                # missed by the sign, for a while
    settled(desk)
    assert desk.value(SHEET, "F3") == "bob@example.com"


def test_an_edit_during_the_read_is_read_on_the_next_poll(desk, monkeypatch):
    """The sign is taken before the read: an edit made while the book is being read is in
    the read's digest, not in the sign, so the next poll reads again."""
    settled(desk)
    desk.type(SHEET, "C2", "Acme")               # the sign sees this: the next poll reads…
    take = signal.take
    taken = []

    def take_then_type(*args):
        out = take(*args)
        taken.append(1)
        if len(taken) == 2:       # the poll's peek, then the read's own sign: the read follows
            desk.type(SHEET, "C3", "Bcme")           # …and a person types while it reads
        return out
    monkeypatch.setattr(signal, "take", take_then_type)
    assert poll(desk).read
    monkeypatch.setattr(signal, "take", take)
    assert poll(desk).read                         # not answered from the sign
    assert desk.value(SHEET, "C3") == "Bcme"


def test_where_the_sign_cannot_be_had_every_poll_reads(desk, monkeypatch):
    """An Evaluate answering an error (a formula Excel will not take; macOS, where .Evaluate
    is not there at all): nothing is assumed, every poll reads in full (as before the sign)."""
    monkeypatch.setattr(_SheetApi, "Evaluate", lambda self, Name: XL_ERR_NAME)
    for _ in range(3):
        assert poll(desk).read

    def missing(self, Name):
        raise AttributeError("Evaluate")
    monkeypatch.setattr(_SheetApi, "Evaluate", missing)
    assert poll(desk).read and poll(desk).read


def test_a_new_process_reads_first(desk):
    """The memory of the last read lives in the process (the service); a CLI run reads."""
    settled(desk)
    signal.MEMORY.forget(live(desk).key)
    assert poll(desk).read


def test_the_checksum_formula_fits_evaluate():
    assert len(probe_formula("$A$1:$XFD$1048576")) <= 255
    assert probe_formula("$A$1:$S$40").count("A1:S40") == 6


def test_the_service_polls_an_open_book_without_reading_it_until_it_changes(tmp_path):
    from tests.test_excel_daemon import service_on_an_open_book
    _, desk, clock, service, log = service_on_an_open_book(tmp_path)

    def cycles():
        return [e for e in map(json.loads, log.getvalue().splitlines()) if e["event"] == "cycle"]

    def polled(n):
        clock.t += 31.0
        service.wake.set()
        wait_until(lambda: len(cycles()) >= n)

    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        wait_until(lambda: [e for e in map(json.loads, log.getvalue().splitlines())
                            if e["event"] == "start"])
        for n in range(1, 4):      # the write, the read after it, the read the sign is kept by
            polled(n)
        reads = full_reads(desk)
        for n in range(4, 7):
            polled(n)
        assert full_reads(desk) == reads          # unchanged: looked at, not read
        desk.type(SHEET, "B3", "BOB STONE")
        polled(7)
        wait_until(lambda: desk.value(SHEET, "B3") == "Bob Stone")
        assert full_reads(desk) == reads + 1
    finally:
        service.stop()
        thread.join(30)
        desk.lock.unlink(missing_ok=True)
    assert not thread.is_alive()
    assert not any(e["event"] == "error" for e in map(json.loads, log.getvalue().splitlines()))
