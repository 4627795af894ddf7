"""Faults around a cycle: a clear message, no partial write, no lost audit rows, and
`audit verify` passes afterwards."""
import sqlite3

import openpyxl

import pytest

from audit.log import AuditError, AuditLog
from service.cli import main
from sync.xlsx.target import apply_workbook
from sync.plan import RuleSettings
from sync.xlsx.write import WriteFailed
from tests.conftest import CRM_EN, TODAY, crm_row, fingerprint, run_cli, write_table

SETTINGS = RuleSettings(today=TODAY, phone_region="CN")


@pytest.fixture
def workbook(tmp_path):
    return write_table(tmp_path / "c.xlsx", CRM_EN, [
        crm_row(name="ANN LEE", phone="138 0013 8000", email="ann@example.com")])


def verify_ok(tmp_path):
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        assert log.verify() is None
        return log.db.execute("SELECT count(*) FROM batches WHERE kind = 'apply' "
                              "AND status = 'written'").fetchone()[0]


def test_a_read_only_workbook_is_refused(tmp_path, workbook):
    workbook.chmod(0o444)
    before = fingerprint(workbook)
    with pytest.raises(WriteFailed, match="read-only"):
        apply_workbook(workbook, SETTINGS)
    assert fingerprint(workbook) == before
    assert verify_ok(tmp_path) == 0
    result = run_cli("apply", str(workbook))
    assert result.returncode == 2 and "read-only" in result.stderr


def test_a_locked_audit_log_stops_the_write(tmp_path, workbook):
    apply_workbook(workbook, SETTINGS)       # create the log
    row = write_table(workbook, CRM_EN, [crm_row(name="BOB", email="b@example.com")])
    before = fingerprint(row)
    holder = sqlite3.connect(tmp_path / ".sheetkeeper" / "audit.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = run_cli("apply", str(workbook))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 2 and "locked" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert fingerprint(workbook) == before
    assert verify_ok(tmp_path) == 1


def test_a_corrupt_audit_log_stops_the_write(tmp_path, workbook):
    folder = tmp_path / ".sheetkeeper"
    folder.mkdir()
    (folder / "audit.sqlite3").write_bytes(b"garbage" * 500)
    before = fingerprint(workbook)
    result = run_cli("apply", str(workbook))
    assert result.returncode == 2 and "damaged" in result.stderr
    assert fingerprint(workbook) == before


def test_an_audit_failure_at_the_last_moment_replaces_nothing(tmp_path, workbook, monkeypatch):
    before = fingerprint(workbook)

    def fail(*args, **kwargs):
        raise AuditError("the disk is full; nothing was written. Free some space")

    monkeypatch.setattr(AuditLog, "record", fail)
    with pytest.raises(AuditError):
        apply_workbook(workbook, SETTINGS)
    assert fingerprint(workbook) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".sheetkeeper", "c.xlsx"]


def test_a_workbook_replaced_while_being_read_is_read_again(tmp_path, workbook):
    from sync.cycle import run_cycle
    from sync.settings import default_data_folder
    from sync.xlsx.target import WorkbookTarget
    saved = []

    def a_person_saves(step):
        if step == "read" and not saved:   # right after sheetkeeper read the bytes
            write_table(workbook, CRM_EN, [crm_row(name="ANN LEE", phone="138 0013 8000",
                                                   email="ann@example.com", company="Acme")])
            saved.append(step)

    result = run_cycle(WorkbookTarget(workbook), SETTINGS, default_data_folder(workbook),
                       between=a_person_saves)
    assert result.attempts == 2
    import openpyxl
    ws = openpyxl.load_workbook(workbook)["Customers"]
    assert ws["C2"].value == "Acme" and ws["B2"].value == "Ann Lee"
    assert verify_ok(tmp_path) == 1


def test_a_change_whose_write_failed_is_made_by_the_next_cycle(tmp_path, workbook):
    """The failed cycle logs the person's edit and remembers the row as read; the change it
    could not write must still be planned next time, though that cell has not changed since."""
    apply_workbook(workbook, SETTINGS)
    apply_workbook(workbook, SETTINGS)                       # settled: nothing left to do
    book = openpyxl.load_workbook(workbook)
    book["Customers"]["E2"] = "139 0013 9000"                # a person types a new number
    book.save(workbook)
    workbook.chmod(0o444)
    with pytest.raises(WriteFailed):
        apply_workbook(workbook, SETTINGS)
    workbook.chmod(0o644)
    result = apply_workbook(workbook, SETTINGS)
    assert [(c.column, c.after) for c in result.plan.changes] == [("Phone", "+8613900139000")]
    assert openpyxl.load_workbook(workbook)["Customers"]["E2"].value == "+8613900139000"
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        people = log.db.execute("SELECT count(*) FROM changes WHERE actor = 'person'").fetchone()
        assert people == (1,)                                # the edit logged once, not twice
        assert log.verify() is None


def test_a_full_disk_while_the_batch_is_recorded_leaves_no_trace(tmp_path, workbook,
                                                                 monkeypatch, capsys):
    """The new workbook is made while its batch is recorded; when the disk fills up making
    it, the batch is rolled back: no pending batch, nothing replaced, no file left over, a
    one-line error (not the seen state's failure to save, a consequence). The person's edit,
    logged before, stays logged; once there is room, the next cycle makes the change."""
    import errno
    import os
    import sync.xlsx.write as xlsx_write
    apply_workbook(workbook, SETTINGS)
    book = openpyxl.load_workbook(workbook)
    book["Customers"]["E2"] = "139 0013 9000"
    book.save(workbook)
    before = fingerprint(workbook)
    real_fsync = os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(xlsx_write.os, "fsync", full)
    code = main(["apply", str(workbook), "--region", "CN", "--today", TODAY.isoformat()])
    monkeypatch.setattr(xlsx_write.os, "fsync", real_fsync)
    assert code == 2 and "No space left" in capsys.readouterr().err
    assert fingerprint(workbook) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".sheetkeeper", "c.xlsx"]
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        kinds = log.db.execute("SELECT kind, status FROM batches ORDER BY rowid").fetchall()
        assert log.verify() is None
    assert kinds[-1] == ("person", "written") and ("apply", "pending") not in kinds
    result = apply_workbook(workbook, SETTINGS)
    assert [(c.column, c.after) for c in result.plan.changes] == [("Phone", "+8613900139000")]
    assert verify_ok(tmp_path) >= 1


KILLED_AFTER = """
import os, signal, sys
from audit.log import AuditLog
from sync.xlsx.target import apply_workbook
from sync.plan import RuleSettings
from tests.conftest import TODAY

moment = sys.argv[2]
record, settle = AuditLog.record, AuditLog.settle

def recorded(self, *args, **kwargs):
    batch = record(self, *args, **kwargs)
    if moment == "person edits logged" and kwargs.get("actor") == "person":
        os.kill(os.getpid(), signal.SIGKILL)
    return batch

def settled(self, batch, status):
    settle(self, batch, status)
    if moment == "write settled" and status == "written":
        os.kill(os.getpid(), signal.SIGKILL)

AuditLog.record, AuditLog.settle = recorded, settled
apply_workbook(sys.argv[1], RuleSettings(today=TODAY, phone_region="CN"))
"""


@pytest.mark.parametrize("moment", ["person edits logged", "write settled"])
@pytest.mark.parametrize("log", ["same log", "log started anew"])
def test_a_cycle_killed_before_saving_what_it_saw_logs_nothing_twice(tmp_path, workbook,
                                                                      moment, log):
    """Killed (SIGKILL) once it has logged a person's edits, or once its write is in and
    settled, a cycle never saves what it saw. The next cycle takes in what the log says
    happened since: the person's edit is logged once, sheetkeeper's own writes are not taken
    for a person's, and the change the killed cycle did not make is made. So too when the
    audit log was set aside and started anew in between (all of the new one came after)."""
    import signal
    import subprocess
    import sys
    from tests.conftest import ROOT
    apply_workbook(workbook, SETTINGS)
    if log == "log started anew":
        for part in (tmp_path / ".sheetkeeper").glob("audit.sqlite3*"):
            part.rename(part.with_name("old-" + part.name))
    book = openpyxl.load_workbook(workbook)
    book["Customers"]["E2"] = "139 0013 9000"                # a person types a new number
    book["Customers"]["C2"] = "Acme"
    book.save(workbook)
    killed = subprocess.run([sys.executable, "-c", KILLED_AFTER, str(workbook), moment],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    result = apply_workbook(workbook, SETTINGS)
    assert result.person_batch is None
    ws = openpyxl.load_workbook(workbook)["Customers"]
    assert ws["E2"].value == "+8613900139000" and ws["C2"].value == "Acme"
    if moment == "person edits logged":
        assert [(c.column, c.after) for c in result.plan.changes] == \
            [("Phone", "+8613900139000")]
    else:
        assert result.batch is None                          # nothing left to do
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        people = [(e.column, e.after) for e in log.entries() if e.actor == "person"]
        assert log.verify() is None
    assert sorted(people) == [("Company", "Acme"), ("Phone", "139 0013 9000")]
    assert apply_workbook(workbook, SETTINGS).person_batch is None


def test_a_cycle_that_cannot_save_what_it_saw_says_so(tmp_path):
    """The error that says the next cycle may log the same person edits again was swallowed
    whenever it came (the check for 'no other error' asked inside its own handler), and a
    data folder whose seen/ could not be made raised a bare OSError. The write itself stands."""
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [crm_row(name="ANN LEE")])
    data = tmp_path / ".sheetkeeper"
    data.mkdir()
    (data / "seen").write_text("not a folder")
    result = run_cli("apply", str(path))
    assert result.returncode == 2 and "could not save what this cycle saw" in result.stderr, \
        result.stderr
    assert "Traceback" not in result.stderr
    assert openpyxl.load_workbook(path)["Customers"]["B2"].value == "Ann Lee"
