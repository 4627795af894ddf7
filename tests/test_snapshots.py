"""Snapshots against real workbooks and a real SQLite manifest: taking them consistently,
restoring byte for byte, diffing by Customer ID, and refusing damaged copies."""
import hashlib
import os
import stat

import openpyxl
import pytest

from audit.log import AuditLog
from audit.snapshots import SnapshotError, SnapshotStore
from sheet_templates import builtin, sample_rows
from sync.diff import diff_tables
from sync.xlsx import backup as backup
from sync.xlsx.target import apply_workbook
from sync.errors import WorkbookDamaged
from sync.xlsx.install import install_new
from sync.xlsx.write import WorkbookBusy

from .conftest import TODAY, run_cli
from sync.plan import RuleSettings

SETTINGS = RuleSettings(today=TODAY, phone_region="GB")


@pytest.fixture
def book(tmp_path):
    path = tmp_path / "customers.xlsx"
    install_new(builtin("crm"), path, "en", sample_rows("crm", "en"))
    apply_workbook(path, SETTINGS)          # IDs assigned, as a list in use has
    return path


def data_of(book):
    return book.parent / ".sheetkeeper"


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def edit(path, cell, value):
    wb = openpyxl.load_workbook(path)
    wb["Customers"][cell] = value
    wb.save(path)


def test_a_snapshot_is_a_private_verified_copy_that_follows_the_last_batch(book):
    snap = backup.take_snapshot(book, data_of(book))
    assert snap.path.read_bytes() == book.read_bytes()
    assert stat.S_IMODE(os.stat(snap.path).st_mode) == 0o600
    assert snap.sha256 == sha(book) and snap.size == book.stat().st_size and snap.rows == 5
    with AuditLog(data_of(book) / "audit.sqlite3") as log:
        assert snap.after_batch == log.last_batch(str(book.resolve())) is not None
    with SnapshotStore(data_of(book)) as store:
        assert [s.id for s in store.list(book)] == [snap.id]
        assert store.verified(store.get(snap.id.split("/")[1])) == book.read_bytes()


def test_restore_to_a_new_file_is_byte_identical(book, tmp_path):
    snap = backup.take_snapshot(book, data_of(book))
    edit(book, "B2", "Someone Else")
    out = tmp_path / "restored.xlsx"
    result = backup.restore(snap.id, data_of(book), to=out)
    assert out.read_bytes() == snap.path.read_bytes() and result.saved_first is None
    with pytest.raises(SnapshotError, match="already exists"):
        backup.restore(snap.id, data_of(book), to=out)


def test_restore_over_the_workbook_saves_it_first_and_can_itself_be_undone(book):
    snap = backup.take_snapshot(book, data_of(book))
    edit(book, "B2", "Someone Else")
    edited = book.read_bytes()
    result = backup.restore(snap.id, data_of(book))
    assert book.read_bytes() == snap.path.read_bytes()
    assert result.saved_first.path.read_bytes() == edited and result.saved_first.reason == \
        "before-restore"
    with AuditLog(data_of(book) / "audit.sqlite3") as log:
        restored = log.entries(batch=result.batch)
        assert [(e.column, e.before, e.after) for e in restored] == \
            [("Name", "Someone Else", "John McDonald")]
        assert log.verify() is None
    backup.restore(result.saved_first.id, data_of(book))      # the restore, undone
    assert book.read_bytes() == edited


def test_a_damaged_snapshot_is_refused_and_the_workbook_untouched(book):
    snap = backup.take_snapshot(book, data_of(book))
    edit(book, "B2", "Someone Else")
    before = book.read_bytes()
    data = bytearray(snap.path.read_bytes())
    data[100] ^= 0xFF
    snap.path.write_bytes(bytes(data))
    with pytest.raises(SnapshotError, match="does not match the checksum"):
        backup.restore(snap.id, data_of(book))
    assert book.read_bytes() == before


def test_restore_waits_for_the_workbook_to_be_closed(book):
    snap = backup.take_snapshot(book, data_of(book))
    edit(book, "B2", "Someone Else")
    before = book.read_bytes()
    (book.parent / f".~lock.{book.name}#").write_text("someone,host,")
    with pytest.raises(WorkbookBusy, match="close it"):
        backup.restore(snap.id, data_of(book))
    assert book.read_bytes() == before


def test_a_workbook_mid_save_is_read_again_until_whole(book):
    whole = book.read_bytes()
    book.write_bytes(whole[: len(whole) // 2])       # an in-place writer half-way through
    naps = []

    def sleep(seconds):                               # the writer finishes while we wait
        naps.append(seconds)
        book.write_bytes(whole)

    data, table = backup.read_consistently(book, sleep=sleep)
    assert data == whole and len(table.rows) == 5 and naps


def test_a_workbook_that_stays_broken_is_not_snapshotted(book):
    book.write_bytes(book.read_bytes()[:500])
    with pytest.raises(WorkbookDamaged):
        backup.read_consistently(book, sleep=lambda s: None)
    with pytest.raises(WorkbookDamaged):
        backup.take_snapshot(book, data_of(book))
    assert not list((data_of(book) / "snapshots").glob("*/*.xlsx"))


def test_diff_by_customer_id(book):
    first = backup.take_snapshot(book, data_of(book))
    wb = openpyxl.load_workbook(book)
    ws = wb["Customers"]
    ws["B3"] = "Mary Smith-Jones"                         # changed
    ws.delete_rows(5)                                     # removed (C-000004)
    ws.append(["C-000099", "New Person"])                # added
    wb.save(book)
    second = backup.take_snapshot(book, data_of(book))
    with SnapshotStore(data_of(book)) as store:
        from sync.xlsx.read import read_table
        d = diff_tables(read_table(first.path, data=store.verified(first)),
                               read_table(second.path, data=store.verified(second)))
    assert d.added == ("C-000099",) and d.removed == ("C-000004",)
    assert [(r, c, a) for r, c, _, a in d.changed] == [("C-000002", "Name", "Mary Smith-Jones")]


def test_the_cli_lists_prunes_with_reasons_diffs_and_pins(book):
    data = str(data_of(book))
    for _ in range(3):
        assert run_cli("snapshot", str(book), "--data", data).returncode == 0
    listing = run_cli("snapshots", str(book), "--data", data)
    ids = [line.split()[0] for line in listing.stdout.splitlines()[1:]]
    assert len(ids) == 3 and "manual" in listing.stdout
    assert run_cli("snapshots", "pin", ids[0], "--data", data).returncode == 0
    dry = run_cli("snapshots", "prune", "--dry-run", "--data", data)
    assert f"Keeping      {ids[2]}  (daily #1)" in dry.stdout       # newest of the day
    assert f"Keeping      {ids[0]}  (pinned #1)" in dry.stdout
    assert f"Would prune  {ids[1]}" in dry.stdout
    assert len(run_cli("snapshots", "--data", data).stdout.splitlines()) == 4   # nothing went
    run_cli("snapshots", "prune", "--data", data)
    assert len(run_cli("snapshots", "--data", data).stdout.splitlines()) == 3
    same = run_cli("snapshots", "diff", ids[0], ids[2], "--data", data)
    assert same.returncode == 0 and "0 rows added, 0 removed, 0 cells changed" in same.stdout
    missing = run_cli("restore", "nope", "--data", data)
    assert missing.returncode == 2 and "no snapshot 'nope'" in missing.stderr


def test_looking_in_a_data_folder_that_is_not_there_creates_nothing(tmp_path):
    missing = tmp_path / "typo"
    assert "no snapshots yet" in run_cli("snapshots", "--data", str(missing)).stdout
    restore = run_cli("restore", "nope", "--data", str(missing))
    assert restore.returncode == 2 and "no snapshot 'nope'" in restore.stderr
    assert "no sheetkeeper service has run" in run_cli("status", "--data", str(missing)).stdout
    assert not missing.exists()


def test_restore_takes_its_turn_with_the_cycles(book, monkeypatch):
    """A cycle in flight during a restore would take the restored cells for a person's edits:
    restore waits while a cycle holds the workbook, and says so if that lasts too long."""
    import os
    from sync import cycle_lock
    snap = backup.take_snapshot(book, data_of(book))
    edit(book, "B2", "Someone Else")
    before = book.read_bytes()
    monkeypatch.setattr(cycle_lock, "WAIT", 0.2)
    with cycle_lock.one_at_a_time(data_of(book), str(book)):
        with pytest.raises(WorkbookBusy, match=rf"another sheetkeeper \(pid {os.getpid()}\)"):
            backup.restore(snap.id, data_of(book))
    assert book.read_bytes() == before
    backup.restore(snap.id, data_of(book))
    assert book.read_bytes() == snap.path.read_bytes()
