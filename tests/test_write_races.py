"""A person's save landing between any two steps of a write, and a cycle killed at any step of
one: no save is ever lost, and the audit log says exactly what reached the workbook.

The steps are the ones the cycle and the conditional replace name (`between`): no sleeping, no
chance. The person saves the way LibreOffice and Excel do (a new file renamed over the
workbook) or the way a script does (openpyxl, in place), from the workbook as it is then.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from audit.log import AuditLog
from audit.os_family import is_windows
from sync.cycle import run_cycle
from sync.xlsx import replace
from sync.xlsx.target import WorkbookTarget, apply_workbook
from tests.conftest import ROOT
from tests.test_apply import SETTINGS, messy, values

# Every step of a write, in order: the cycle's (read, prepared, pending, committed, settled)
# and the replace's own (staged: about to trade; swapped: traded, not yet checked).
STEPS = ["read", "prepared", "pending", "staged", "swapped", "committed", "settled"]

# Killing with SIGKILL from inside: POSIX's (Windows has no SIGKILL).
needs_sigkill = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="no SIGKILL here")


def in_use(tmp_path: Path) -> Path:
    """A workbook sheetkeeper has cleaned once, in which a person then typed a name that needs
    re-casing: the next cycle has exactly one cell to write (B3)."""
    path = messy(tmp_path)
    apply_workbook(path, SETTINGS)
    book = openpyxl.load_workbook(path)
    book["Customers"]["B3"] = "BOB STONE"
    book.save(path)
    apply_workbook(path, SETTINGS, dry_run=True)
    return path


def person_saves(path: Path, style: str, fallback: bytes) -> None:
    """A person sets C3 (bob's company) and saves. They edit the workbook as their program
    has it: as it is now, or, while its name is briefly absent, as they opened it."""
    source = path if path.exists() else None
    if source is None:
        restored = path.with_name("opened-earlier.xlsx")
        restored.write_bytes(fallback)
        source = restored
    book = openpyxl.load_workbook(source)
    book["Customers"]["C3"] = "Stone & Co"
    if style == "in place" and path.exists():
        book.save(path)
        return
    tmp = path.with_name("lu1234.tmp")              # LibreOffice's way: a new file, renamed
    book.save(tmp)
    os.replace(tmp, path)


def assert_log_tells_the_truth(path: Path, data: Path) -> None:
    rows = values(path)
    assert rows[1][1] == "Bob Stone"                  # sheetkeeper's work was done
    assert rows[1][2] == "Stone & Co"                 # and the person's save stands
    with AuditLog(data / "audit.sqlite3") as log:
        assert log.pending(str(path.resolve())) == []
        assert log.verify() is None
        person = [(e.row_id, e.column, e.after) for e in log.entries(workbook=str(path.resolve()), written=True)
                  if e.actor == "person"]
        written = [(e.row_id, e.column, e.after) for e in log.entries(workbook=str(path.resolve()), written=True)
                   if e.actor == "sheetkeeper" and e.before == "BOB STONE"]
    # Exactly what people typed is logged as theirs: bob's name as typed and the company;
    # never sheetkeeper's own re-casing, which the log has as written, once.
    assert sorted(person) == [("C-000002", "Company", "Stone & Co"),
                              ("C-000002", "Name", "BOB STONE")]
    assert written.count(("C-000002", "Name", "Bob Stone")) == 1


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "set aside"])
@pytest.mark.parametrize("style", ["rename", "in place"])
@pytest.mark.parametrize("step", STEPS)
def test_a_person_saving_between_any_two_steps_is_never_lost(tmp_path, monkeypatch, step, style,
                                                             exchange):
    path = in_use(tmp_path)
    monkeypatch.setattr(replace, "exchange_available", exchange)
    opened = path.read_bytes()
    saved: list[str] = []

    def between(name: str) -> None:
        if name == step and not saved:
            person_saves(path, style, opened)
            saved.append(name)

    run_cycle(WorkbookTarget(path), SETTINGS, tmp_path / ".sheetkeeper", between=between)
    assert saved == [step]
    apply_workbook(path, SETTINGS)             # the cycle the person's save sets off
    assert_log_tells_the_truth(path, tmp_path / ".sheetkeeper")
    assert not list(tmp_path.glob("*(saved *")), "no save of theirs was set aside"


KILLED_AT = """
import os, signal, sys
from pathlib import Path
import sync.xlsx.replace
from sync.cycle import run_cycle
from sync.xlsx.target import WorkbookTarget
from tests.test_apply import SETTINGS

sync.xlsx.replace.exchange_available = (sys.argv[3:] or ["exchange"])[0] == "exchange"

def between(name):
    if name == sys.argv[2]:
        os.kill(os.getpid(), signal.SIGKILL)

path = Path(sys.argv[1])
run_cycle(WorkbookTarget(path), SETTINGS, path.parent / ".sheetkeeper", between=between)
"""


@needs_sigkill
@pytest.mark.parametrize("exchange", ["exchange", "set aside"])
@pytest.mark.parametrize("step", STEPS)
def test_a_cycle_killed_at_any_step_then_a_save_leaves_a_log_that_tells_the_truth(tmp_path,
                                                                                   step, exchange):
    """kill -9 at each step of a write, then a person's save (which changes the file's digest
    whatever the kill left), then a cycle: the log says exactly what reached the workbook, and
    no person edit is invented. Settling by the whole file's digest failed this after the
    commit: the written batch was marked abandoned, its re-casing logged as the person's.
    Where there is no atomic exchange (Windows), a kill at 'swapped' leaves the workbook set
    aside as `.NAME.xlsx.<random>.sheetkeeper.was`: the next look of sheetkeeper at it (the
    service starting again, any command) puts it back."""
    path = in_use(tmp_path)
    opened = path.read_bytes()
    exchange = "exchange" if exchange == "exchange" and not is_windows() else "set aside"
    killed = subprocess.run([sys.executable, "-c", KILLED_AT, str(path), step, exchange],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    if step == "swapped" and exchange == "set aside":
        assert not path.exists() and list(tmp_path.glob(".c.xlsx.*.sheetkeeper.was"))
        apply_workbook(path, SETTINGS, dry_run=True)       # sheetkeeper looks at it again
        assert path.read_bytes() == opened
        assert not list(tmp_path.glob(".c.xlsx.*.sheetkeeper.was"))
    person_saves(path, "rename", path.read_bytes())
    apply_workbook(path, SETTINGS)
    assert_log_tells_the_truth(path, tmp_path / ".sheetkeeper")


@needs_sigkill
def test_a_batch_a_kill_left_pending_after_its_commit_can_be_undone(tmp_path):
    """undo settles a pending batch from the cells first: one that reached the workbook is
    undone, not refused as 'never written'."""
    from sync.opening import undo_on
    path = in_use(tmp_path)
    killed = subprocess.run([sys.executable, "-c", KILLED_AT, str(path), "committed"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        (pending,) = log.pending(str(path.resolve()))
    result = undo_on(pending, tmp_path / ".sheetkeeper")
    assert result.restored >= 1 and values(path)[1][1] == "BOB STONE"


def test_a_symlinked_workbook_is_written_through_to_the_file_it_names(tmp_path):
    """The link was replaced by a plain file and the real workbook left as it was (issue 24
    #14). Extended attributes go with the workbook to its new file."""
    real = messy_elsewhere = tmp_path / "shared" / "customers.xlsx"
    real.parent.mkdir()
    messy(tmp_path).rename(messy_elsewhere)
    link = tmp_path / "c.xlsx"
    link.symlink_to(real)
    try:
        os.setxattr(real, "user.team", b"sales")
    except (OSError, AttributeError):       # AttributeError: Windows has no xattr calls
        pytest.skip("this filesystem keeps no user attributes")
    apply_workbook(link, SETTINGS)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert values(real)[0][1] == "Ann Lee"
    assert os.getxattr(real, "user.team") == b"sales"
    assert not list(real.parent.glob(".customers.xlsx.*"))       # no new file left beside it


def test_a_workbook_left_set_aside_is_put_back_by_the_next_look_and_never_over_a_save(tmp_path):
    """The leftover of a write killed mid-swap, without and with a save of the person's in its
    place meanwhile: put back only where no workbook is there."""
    path = messy(tmp_path)
    data = path.read_bytes()
    aside = tmp_path / ".c.xlsx.abcd1234.sheetkeeper.was"
    path.rename(aside)
    assert WorkbookTarget(path).peek() is not None and path.read_bytes() == data
    assert not aside.exists()
    path.rename(aside)
    path.write_bytes(b"the person's own save")
    assert not replace.recover_set_aside(path)
    assert path.read_bytes() == b"the person's own save" and aside.exists()


def test_the_service_starting_again_puts_a_workbook_left_set_aside_back(tmp_path):
    """A service ended mid-swap (Windows: Task Scheduler's stop, a power cut) and started
    again: the workbook it left set aside is back under its name, and cleaned."""
    import datetime as dt
    import io
    import json
    import threading
    from service import config as service_config
    from service.daemon import EventLog, Service
    from tests.test_nightly import LONDON, Clock, Monotonic, wait_until
    books = tmp_path / "workbooks"
    books.mkdir()
    path = messy(books)
    path.rename(books / ".c.xlsx.abcd1234.sheetkeeper.was")
    log = io.StringIO()
    clock = Monotonic()
    service = Service(service_config.embedded(tmp_path), EventLog(log, "json"), monotonic=clock,
                      now=Clock(dt.datetime(2026, 11, 23, 12, tzinfo=LONDON)))
    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        wait_until(lambda: '"event": "start"' in log.getvalue())
        clock.t += 1.0
        service.wake.set()
        wait_until(lambda: '"event": "cycle"' in log.getvalue())
    finally:
        service.stop()
        thread.join(30)
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    assert [e["workbook"] for e in events if e["event"] == "recovered"] == [str(path)]
    assert values(path)[0][1] == "Ann Lee"
    assert not list(books.glob(".*.was"))
