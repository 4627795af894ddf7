"""Drive exports a Google file of at most 10 MB (files.export); over it, 403
exportSizeLimitExceeded. A snapshot's values never depend on the export: they are kept, the
.xlsx copy is best-effort and the snapshot says why it has none, and a restore (which first
snapshots the sheet as it is) of a sheet that big works."""
from __future__ import annotations

import json
import random
import string

import requests

from audit.log import AuditLog
from sync.gsheets.backup import export_missing, restore_google, take_google_snapshot

from .fakesheets import installed_sheet
from .fakesheets.state import XLSX_MIME

ROWS = 2_600


def big(server):
    """A spreadsheet whose .xlsx export is over 10 MB: 2,600 cells of 6,000 characters that do
    not compress (some 15 MB of text)."""
    sheet = installed_sheet(server, [["C-000001", "Anna Berg"]])
    rng = random.Random(19)
    alphabet = string.ascii_letters + string.digits
    blobs = [["".join(rng.choices(alphabet, k=6_000))] for _ in range(ROWS)]
    tab = sheet.spreadsheet.add_worksheet("Attachments", rows=ROWS + 10, cols=2)
    for start in range(0, ROWS, 1_000):        # in bodies Google takes
        tab.update(blobs[start:start + 1_000], f"A{start + 1}")
    return sheet, blobs


def test_the_emulator_refuses_an_export_over_10_mb_as_drive_does(server):
    sheet, _ = big(server)
    answer = requests.get(f"{server.url}/drive/v3/files/{sheet.key}/export",
                          params={"mimeType": XLSX_MIME},
                          headers={"Authorization": "Bearer test"})
    assert answer.status_code == 403
    assert answer.json() == {"error": {"code": 403,
                                       "message": "This file is too large to be exported.",
                                       "errors": [{"message": "This file is too large to be "
                                                              "exported.", "domain": "global",
                                                   "reason": "exportSizeLimitExceeded"}]}}


def test_a_snapshot_of_a_sheet_too_big_to_export_keeps_its_values(server, tmp_path):
    sheet, blobs = big(server)
    snap = take_google_snapshot(sheet, tmp_path)
    payload = json.loads(snap.path.read_bytes())
    tabs = {t["title"]: t["values"] for t in payload["tabs"]}
    assert tabs["Attachments"] == blobs and tabs["Customers"][1][:2] == ["C-000001", "Anna Berg"]
    assert payload["export"]["suffix"] is None
    assert "Drive exports at most 10 MB" in payload["export"]["missing"]
    assert export_missing(snap).why == payload["export"]["missing"]
    assert export_missing(snap).too_big
    assert not snap.path.with_suffix(".xlsx").exists()


def test_a_sheet_too_big_to_export_can_be_restored(server, tmp_path):
    sheet, blobs = big(server)
    snap = take_google_snapshot(sheet, tmp_path)
    tab = sheet.spreadsheet.worksheet("Attachments")
    tab.update([["overwritten"]], "A7")
    sheet.spreadsheet.worksheet("Customers").update([["Anna Smith"]], "B2")
    done = restore_google(snap.id, tmp_path, sheet)
    assert export_missing(done.saved_first)                 # the sheet as it was: values only
    book = server.state.get(sheet.key)
    assert book.sheet("Attachments").cells[(6, 0)].value == blobs[6][0]
    assert book.sheet("Customers").cells[(1, 1)].value == "Anna Berg"
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        assert [(e.row_id, e.column, e.before, e.after) for b in done.batches
                for e in log.entries(batch=b)] == [("C-000001", "Name", "Anna Smith",
                                                    "Anna Berg")]


def test_sheetkeeper_snapshot_notes_the_missing_copy_and_succeeds(server, tmp_path):
    from .conftest import run_cli
    sheet, _ = big(server)
    done = run_cli("snapshot", f"gsheet:{sheet.key}", "--api-endpoint", server.url,
                   "--data", str(tmp_path))
    assert done.returncode == 0 and done.stderr == "", (done.stdout, done.stderr)
    assert f"note: gsheet:{sheet.key}: no .xlsx copy: Drive exports at most 10 MB" in done.stdout
    assert "Took snapshot" in done.stdout
