"""Snapshots of a Google Sheet (values as JSON plus Drive's xlsx export) and restoring one,
against the emulator through the real gspread client."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import stat

import openpyxl
import pytest

from audit.log import AuditLog
from audit.snapshots import SnapshotError, SnapshotStore
from sync.errors import GoogleSheetsError, GoogleUnavailable, WriteFailed
from sync.gsheets.backup import restore_google, take_google_snapshot
from sync.gsheets.target import apply_google, sheet_key
from sync.plan import RuleSettings

from .fakesheets import installed_sheet

SETTINGS = RuleSettings(today=dt.date(2026, 11, 23), phone_region="CN")


@pytest.fixture
def sheet(server):
    google = installed_sheet(server, [["", "Anna Berg", "Acme", "", "13800138000"],
                                      ["", "Li Wei", "", "", "13900139000"]])
    google.spreadsheet.worksheet("Sheet1").update([["total", "=1+2"]], "A1", raw=False)
    return google


def every_tab(sheet):
    tabs = sheet.tabs()
    return {t: [[v for v in row] for row in sheet.read([t], formulas=True)[t]] for t in tabs}


def test_a_snapshot_holds_every_tab_and_drives_export(server, sheet, tmp_path):
    apply_google(sheet, SETTINGS, tmp_path)
    snap = take_google_snapshot(sheet, tmp_path, "manual")
    assert snap.workbook == sheet_key(sheet) and snap.rows == 2
    payload = json.loads(snap.path.read_bytes())
    export = snap.path.with_suffix(".xlsx").read_bytes()
    assert payload["export"]["sha256"] == hashlib.sha256(export).hexdigest()
    for f in (snap.path, snap.path.with_suffix(".xlsx")):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600          # personal data
    book = openpyxl.load_workbook(io.BytesIO(export))
    assert book["Customers"]["A2"].value == "C-000001"
    assert book["Sheet1"]["B1"].value == "=1+2"
    tabs = {t["title"]: t["values"] for t in payload["tabs"]}
    assert tabs["Customers"][1][4] == "+8613800138000" and tabs["Sheet1"][0][1] == "=1+2"
    with SnapshotStore(tmp_path) as store:
        assert store.last(sheet_key(sheet)).id == snap.id


def test_restore_puts_back_every_value_and_formula_and_is_audited(server, sheet, tmp_path):
    apply_google(sheet, SETTINGS, tmp_path)
    before = every_tab(sheet)
    snap = take_google_snapshot(sheet, tmp_path)
    ws = sheet.spreadsheet.worksheet("Customers")
    ws.update([["Anna Smith"]], "B2")                        # a person's edits …
    ws.update([["C-000009", "Extra Row"]], "A5")
    sheet.spreadsheet.worksheet("Sheet1").update([["gone"]], "B1")
    done = restore_google(snap.id, tmp_path, sheet)
    assert every_tab(sheet) == before                       # … and back, formula included
    assert done.saved_first.reason == "before-restore"
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        entries = list(log.entries(batch=done.batch))
        assert ("C-000001", "Name", "Anna Smith", "Anna Berg") in {
            (e.row_id, e.column, e.before, e.after) for e in entries}
        assert log.batch_info(done.batch)[4] == "written" and log.verify() is None
    again = restore_google(done.saved_first.id, tmp_path, sheet)   # the restore undone
    assert every_tab(sheet)["Customers"][1][1] == "Anna Smith"
    assert again.changed


def test_a_deleted_tab_and_cleared_colours_come_back(server, sheet, tmp_path):
    snap = take_google_snapshot(sheet, tmp_path)
    before = every_tab(sheet)
    table = server.state.get(sheet.key).sheet("Customers")
    installed = len(table.conditional)
    sheet.spreadsheet.del_worksheet(sheet.spreadsheet.worksheet("Sheet1"))
    table.conditional.clear()                          # someone cleared the formatting
    restore_google(snap.id, tmp_path, sheet)
    assert every_tab(sheet)["Sheet1"] == before["Sheet1"]
    assert len(table.conditional) == installed > 0


def test_a_deleted_tab_that_another_has_taken_the_name_of_is_named_to_rename(server, sheet,
                                                                           tmp_path):
    """Google tells tab titles apart regardless of case: 'review' in the place of a deleted
    'Review' would make the tab's return fail; said before anything is written."""
    snap = take_google_snapshot(sheet, tmp_path)
    sheet.spreadsheet.del_worksheet(sheet.spreadsheet.worksheet("Review"))
    sheet.spreadsheet.add_worksheet("review", 10, 5)
    with pytest.raises(GoogleSheetsError, match="rename the tab 'review'"):
        restore_google(snap.id, tmp_path, sheet)
    assert [w.title for w in sheet.spreadsheet.worksheets()][-1] == "review"


def test_a_workbook_snapshot_is_not_restored_onto_a_google_sheet(server, sheet, tmp_path):
    with SnapshotStore(tmp_path) as store:
        snap = store.add(tmp_path / "customers.xlsx", b"PK\x03\x04 not really", 1, None, "manual")
    with pytest.raises(SnapshotError, match="not a Google Sheet snapshot"):
        restore_google(snap.id, tmp_path, sheet)


def test_the_snapshot_commands_list_and_diff_a_google_sheets_snapshots(server, sheet, tmp_path):
    from .conftest import run_cli
    data = tmp_path / "data"
    apply_google(sheet, SETTINGS, data)
    first = run_cli("snapshot", f"gsheet:{sheet.key}", "--api-endpoint", server.url,
                    "--data", str(data))
    assert first.returncode == 0, first.stderr
    sheet.spreadsheet.worksheet("Customers").update([["Anna Smith"]], "B2")
    second = run_cli("snapshot", f"gsheet:{sheet.key}", "--api-endpoint", server.url,
                     "--data", str(data))
    a, b = first.stdout.split()[2], second.stdout.split()[2]
    listed = run_cli("snapshots", f"gsheet:{sheet.key}", "--data", str(data))
    assert a in listed.stdout and b in listed.stdout
    diff = run_cli("snapshots", "diff", a, b, "--data", str(data), "--format", "json")
    assert diff.returncode == 1, diff.stderr
    assert json.loads(diff.stdout)["changed"] == [
        {"id": "C-000001", "column": "Name", "before": "Anna Berg", "after": "Anna Smith"}]


def restore_batches(log, sheet):
    return {e.batch for e in log.entries(sheet_key(sheet)) if e.rule == "restore"}


def test_a_restore_google_refuses_is_abandoned_and_can_be_run_again(server, sheet, tmp_path):
    """The bookkeeping of every write (sync.writing): refused outright, the batch is marked
    abandoned then and there, not left pending. Here a person deletes a tab just as the
    values go out, and Google refuses the whole values:batchUpdate."""
    apply_google(sheet, SETTINGS, tmp_path)
    snap = take_google_snapshot(sheet, tmp_path)
    before = every_tab(sheet)
    sheet.spreadsheet.worksheet("Customers").update([["Anna Smith"]], "B2")
    book = server.state.get(sheet.key)

    def person(method, path):
        if method == "POST" and path.endswith("values:batchUpdate"):
            book.sheets.remove(book.sheet("Sheet1"))
            server.faults.before = None
    server.faults.before = person
    with pytest.raises(WriteFailed, match="nothing was written"):
        restore_google(snap.id, tmp_path, sheet)
    assert every_tab(sheet)["Customers"][1][1] == "Anna Smith"
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        (refused,) = restore_batches(log, sheet)
        assert log.batch_info(refused)[4] == "abandoned" and log.pending(sheet_key(sheet)) == []
    done = restore_google(snap.id, tmp_path, sheet)        # again: the tab comes back too
    assert every_tab(sheet) == before
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        assert log.batch_info(done.batch)[4] == "written" and log.verify() is None


def test_a_restore_whose_answer_is_lost_is_settled_by_the_next_cycle(server, sheet, tmp_path):
    """Google applied the values but its answer never came: the batch stays pending, and the
    next cycle's read finds the restored values in the cells and settles it written."""
    apply_google(sheet, SETTINGS, tmp_path)
    snap = take_google_snapshot(sheet, tmp_path)
    sheet.spreadsheet.worksheet("Customers").update([["Anna Smith"]], "B2")
    # The snapshot first (the tab list, one batchGet, the export), then the values' write.
    server.faults.next("ok", "ok", "ok", "lost")
    with pytest.raises(GoogleUnavailable):
        restore_google(snap.id, tmp_path, sheet)
    assert every_tab(sheet)["Customers"][1][1] == "Anna Berg"
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        (pending,) = log.pending(sheet_key(sheet))
        assert restore_batches(log, sheet) == {pending}
    apply_google(sheet, SETTINGS, tmp_path)
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        assert log.batch_info(pending)[4] == "written" and log.verify() is None
