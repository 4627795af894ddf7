"""The real service in a subprocess, against real workbooks in a temporary folder: edits saved
the way spreadsheet programs save them, lock files, a broken workbook beside a healthy one,
workbooks coming and going, catch-up snapshots, status from another process, and signals."""
from __future__ import annotations

import json
import shutil
import signal

import pytest

from audit.log import AuditLog
from sheet_templates import builtin, sample_rows
from sync.seen import state_name
from sync.xlsx.install import install_new
from sync.xlsx.read import read_table

from .conftest import run_cli
from .daemon_harness import Daemon, cell, save_in_place, save_like_libreoffice

CONFIG = """\
data = "data"
[rules]
region = "GB"
[service]
debounce = 0.2
[[watch]]
path = "workbooks"
template = "crm"
"""


@pytest.fixture
def folder(tmp_path):
    books = tmp_path / "workbooks"
    books.mkdir()
    install_new(builtin("crm"), books / "customers.xlsx", "en", sample_rows("crm", "en"))
    return tmp_path


@pytest.fixture
def daemon(folder):
    d = Daemon(folder, CONFIG)
    yield d
    d.kill()


def settled(d: Daemon, book, count: int = 1):
    return d.wait_for(lambda: len(d.events("cycle", workbook=book)) >= count,
                      what=f"cycle #{count} of {book.name}")


JUDGEMENTS = ("cycle", "own-write", "waiting")   # what a look at a changed workbook ends in


def judgements(d: Daemon, book) -> list[dict]:
    return [e for e in d.events(workbook=book) if e["event"] in JUDGEMENTS]


def next_judgement(d: Daemon, book, told: int) -> dict:
    """What the service made of the file events after the first `told` judgements of `book`:
    waited on, not slept for, so "nothing happened" is shown by what did."""
    return d.wait_for(lambda: judgements(d, book)[told:told + 1],
                      what=f"judgement #{told + 1} of {book.name}")[0]


def set_cell(ref, value):
    def edit(book):
        book["Customers"][ref] = value
    return edit


def test_an_edit_saved_by_rename_or_in_place_is_normalised_and_own_writes_cause_no_cycle(
        daemon, folder):
    book = (folder / "workbooks" / "customers.xlsx").resolve()
    daemon.start()
    settled(daemon, book)
    assert cell(book, "A2") == "C-000001"                 # the first cycle gave out IDs

    save_like_libreoffice(book, set_cell("E3", "020 7946 0958"))
    daemon.wait_for(lambda: cell(book, "E3") == "+442079460958", what="the phone, normalised")
    save_in_place(book, set_cell("B4", "ANN LEE"))
    daemon.wait_for(lambda: cell(book, "B4") == "Ann Lee", what="the name, re-cased")

    settled(daemon, book, 3)                               # the start, and one per save
    third = [i for i, e in enumerate(judgements(daemon, book)) if e["event"] == "cycle"][2]
    # The third cycle's write made file events: judged its own, not taken for a 4th save.
    assert next_judgement(daemon, book, third + 1)["event"] == "own-write"
    assert len(daemon.events("cycle")) == 3
    edits = [e for e in daemon.events("cycle") if e.get("person_edits")]
    assert len(edits) == 2                                 # each save logged as a person's edit
    assert daemon.stop() == 0
    assert daemon.events("stop")


def test_a_workbook_open_elsewhere_is_left_until_its_lock_file_goes(daemon, folder):
    book = (folder / "workbooks" / "customers.xlsx").resolve()
    daemon.start()
    settled(daemon, book)
    lock = book.with_name(f".~lock.{book.name}#")
    lock.write_text("Ann,host,/home/ann,23.11.2026 10:00,\n")
    opened = daemon.wait_for(lambda: daemon.events("waiting", workbook=book), what="waiting")
    told = len(judgements(daemon, book))
    save_like_libreoffice(book, set_cell("B4", "ANN LEE"))
    saved = next_judgement(daemon, book, told)             # the save, judged
    assert saved["event"] == "waiting"                     # held back, not cycled
    assert saved["saved"] != opened[0]["saved"]            # the version this save made
    assert cell(book, "B4") == "ANN LEE"                   # never written under an editor
    lock.unlink()
    daemon.wait_for(lambda: cell(book, "B4") == "Ann Lee", timeout=15,
                    what="the cycle after the lock went")


def test_a_broken_workbook_beside_a_healthy_one_is_retried_and_stops_nothing(daemon, folder):
    broken = (folder / "workbooks" / "broken.xlsx").resolve()
    broken.write_bytes(b"PK\x03\x04 this is not a whole workbook")
    book = (folder / "workbooks" / "customers.xlsx").resolve()
    daemon.start()
    daemon.wait_for(lambda: len(daemon.events("error", workbook=broken)) >= 2,
                    what="the broken workbook to fail twice (retried)")
    settled(daemon, book)
    save_like_libreoffice(book, set_cell("B4", "ANN LEE"))
    daemon.wait_for(lambda: cell(book, "B4") == "Ann Lee", what="the healthy one, still served")
    status = json.loads(run_cli("status", "--config", str(daemon.config),
                                "--format", "json").stdout)
    assert status["running"] is True
    assert status["workbooks"][str(broken)]["outcome"] == "error"
    assert "the workbook is damaged" in status["workbooks"][str(broken)]["error"]
    assert broken.read_bytes() == b"PK\x03\x04 this is not a whole workbook"


def test_workbooks_added_to_the_folder_are_picked_up_and_removed_ones_dropped(daemon, folder):
    daemon.start()
    new = (folder / "workbooks" / "second.xlsx").resolve()
    install_new(builtin("crm"), folder / "staging.xlsx", "en", sample_rows("crm", "en"))
    shutil.move(folder / "staging.xlsx", new)
    daemon.wait_for(lambda: daemon.events("added", workbook=new), what="added")
    daemon.wait_for(lambda: cell(new, "A2") == "C-000001", what="the new workbook's first cycle")
    new.unlink()
    daemon.wait_for(lambda: daemon.events("removed", workbook=new), what="removed")


def test_catch_up_snapshot_at_start_only_when_the_last_is_over_a_day_old(daemon, folder):
    book = (folder / "workbooks" / "customers.xlsx").resolve()
    daemon.start()
    snap = daemon.wait_for(lambda: daemon.events("snapshot", reason="catch-up"),
                           what="catch-up snapshot")[0]
    assert daemon.stop() == 0
    daemon.start()
    settled(daemon, book, 2)
    assert len(daemon.events("snapshot")) == 1            # a fresh one: no second catch-up
    listing = run_cli("snapshots", "--config", str(daemon.config))
    assert snap["id"] in listing.stdout and "catch-up" in listing.stdout


def test_status_from_another_process_and_one_service_per_data_folder(daemon, folder):
    book = (folder / "workbooks" / "customers.xlsx").resolve()
    daemon.start()
    settled(daemon, book)
    daemon.wait_for(lambda: daemon.events("snapshot"), what="snapshot")
    out = run_cli("status", "--config", str(daemon.config)).stdout
    assert "sheetkeeper is running" in out and str(book) in out
    assert "open findings" in out and "last snapshot" in out
    second = run_cli("run", "--config", str(daemon.config), timeout=30)
    assert second.returncode == 2 and "already looking after" in second.stderr
    assert daemon.stop() == 0
    assert "NOT running" in run_cli("status", "--config", str(daemon.config)).stdout


def big_workbook(path, rows=4000):
    from benchmarks.generate import write_workbook
    write_workbook(path, rows)


def in_a_cycle(data, book) -> bool:
    """A cycle holds `book`: the lock that keeps two sheetkeepers off one workbook is taken
    (probed as `status` probes the service's lock: without waiting, creating nothing)."""
    from sync.process_lock import is_held
    return is_held(data / "locks" / f"{state_name(book)}.lock")


@pytest.mark.parametrize("signals", [1, 2])
def test_a_signal_during_a_cycle_exits_0_without_a_partial_write(folder, signals):
    book = (folder / "workbooks" / "customers.xlsx").resolve()
    book.unlink()
    big_workbook(book)
    before = book.read_bytes()
    d = Daemon(folder, CONFIG)
    try:
        d.start()
        d.wait_for(lambda: in_a_cycle(folder / "data", book), what="the first cycle")
        d.signal(signal.SIGTERM)
        if signals == 2:
            # Two signals at once are one to Python: the second goes once the first is heard.
            d.wait_for(lambda: d.events("stopping"), what="the first signal, heard")
            d.signal(signal.SIGTERM)
        assert d.proc.wait(60) == 0
    finally:
        d.kill()
    assert d.events("stopping") and d.events("stop")
    table = read_table(book)                               # whole, either way
    assert len(table.rows) == 4000
    if signals == 1:                                       # the cycle in flight was finished
        assert d.events("cycle") and book.read_bytes() != before
    else:                                                  # abandoned: nothing half-written
        assert not d.events("cycle") and book.read_bytes() == before
        assert "abandoned" in d.events("stop")[-1]["reason"]
    with AuditLog(folder / "data" / "audit.sqlite3") as log:
        assert log.verify() is None
    after = run_cli("apply", str(book), "--config", str(d.config), timeout=300)
    assert after.returncode in (0, 1), after.stderr
    with AuditLog(folder / "data" / "audit.sqlite3") as log:
        pending = log.db.execute("SELECT count(*) FROM batches WHERE status = 'pending'")
        assert pending.fetchone()[0] == 0


def test_a_watched_folder_that_does_not_exist_is_a_clear_error(tmp_path):
    (tmp_path / "sheetkeeper.toml").write_text('[[watch]]\npath = "nowhere"\n')
    result = run_cli("run", "--config", str(tmp_path / "sheetkeeper.toml"), timeout=60)
    assert result.returncode == 2
    assert "nowhere does not exist" in result.stderr and "Traceback" not in result.stderr
