"""A sync cycle on a Google Sheet, against the emulator through the real gspread client: the
same rules and audit log as for a workbook, at most four requests, and never a person's edit
overwritten or a write on the wrong row."""
from __future__ import annotations

import datetime as dt
import random

import pytest

from audit.log import AuditLog
from sheet_templates import builtin
from sync.gsheets import GoogleSheet
from sync.gsheets_cycle import apply_google
from sync.gsheets_install import install_into
from sync.plan import RuleSettings

from .fakesheets import FakeSheetsServer, client
from .fakesheets import state as fake

SETTINGS = RuleSettings(today=dt.date(2026, 11, 23), phone_region="CN")


@pytest.fixture
def server():
    s = FakeSheetsServer().start()
    yield s
    s.stop()


@pytest.fixture
def sheet(server):
    gc = client(server)
    sh = gc.create("Customers")
    google = GoogleSheet.open(gc, sh.id)
    install_into(google, builtin("crm"), "en")
    ws = sh.worksheet("Customers")
    ws.update([["", "JOHN MCDONALD", "Acme", "", "138 0013 8000", " John@ACME.com "],
               ["", "mary smith", "", "", "13900139000"]], "A2:F3")
    return google


def cell(server, sheet, row, col):
    book = server.state.get(sheet.key)
    c = book.sheet("Customers").cells.get((row - 1, col))
    return None if c is None else c.value


def test_a_cycle_normalises_audits_and_uses_at_most_four_requests(server, sheet, tmp_path):
    before = len(server.faults.log)
    result = apply_google(sheet, SETTINGS, tmp_path)
    assert result.requests == len(server.faults.log) - before == 4
    assert cell(server, sheet, 2, 0) == "C-000001" and cell(server, sheet, 3, 0) == "C-000002"
    assert cell(server, sheet, 2, 1) == "John McDonald"
    assert cell(server, sheet, 2, 4) == "+8613800138000"          # text, not a number
    assert cell(server, sheet, 2, 5) == "John@acme.com"
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        entries = log.entries(batch=result.batch)
        assert {("C-000001", "Phone", "138 0013 8000", "+8613800138000")} <= {
            (e.row_id, e.column, e.before, e.after) for e in entries}
        assert log.verify() is None
    quiet = len(server.faults.log)
    again = apply_google(sheet, SETTINGS, tmp_path)              # nothing left to do
    assert again.batch is None and len(server.faults.log) - quiet == again.requests == 2


def test_a_person_edit_is_logged_as_theirs(server, sheet, tmp_path):
    apply_google(sheet, SETTINGS, tmp_path)
    sheet.spreadsheet.worksheet("Customers").update([["Johnny McDonald"]], "B2")
    result = apply_google(sheet, SETTINGS, tmp_path)
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        mine = list(log.entries(batch=result.person_batch))
    assert [(e.row_id, e.column, e.after, e.actor) for e in mine] == \
        [("C-000001", "Name", "Johnny McDonald", "person")]


@pytest.mark.parametrize("seed", range(40))
def test_races_with_a_person_lose_no_edit_and_write_no_wrong_row(server, sheet, tmp_path, seed):
    """Between the cycle's read and its write a person edits a cell, inserts a row, deletes
    one or sorts the rows; afterwards every value the person typed is still there, and every
    value sheetkeeper wrote sits in the row whose ID it was meant for."""
    apply_google(sheet, SETTINGS, tmp_path)                      # IDs given out
    ws = sheet.spreadsheet.worksheet("Customers")
    ws.update([["  ann LEE  ", "", "", "13700137000"]], "B4:E4")
    rng = random.Random(seed)
    typed = {}

    def person(method, path):
        if not (method == "GET" and "batchGet" in path) or typed.get("done"):
            return
        if not typed.get("seen"):
            typed["seen"] = True                                   # the cycle's own read
            return
        typed["done"] = True                                       # before the guard read
        grid = server.state.get(sheet.key).sheet("Customers")
        rows = {r: {c: v for (rr, c), v in grid.cells.items() if rr == r}
                for r in range(1, 4)}
        action = rng.choice(["edit", "insert", "delete", "sort"])
        if action == "edit":
            grid.cells[(3, 1)] = fake.Cell("Ann Person", "Ann Person")
            typed["value"] = (None, 1, "Ann Person")
        else:
            order = list(rows)
            if action == "insert":
                order.insert(0, None)
            elif action == "delete":
                order.remove(1)
                typed["deleted"] = True
            else:
                rng.shuffle(order)
            for key in [k for k in grid.cells if 1 <= k[0] <= 4]:
                del grid.cells[key]
            for r, old in enumerate(order, start=1):
                for c, v in (rows[old] if old is not None else {}).items():
                    grid.cells[(r, c)] = v
        typed["action"] = action

    server.faults.before = person
    result = apply_google(sheet, SETTINGS, tmp_path)
    server.faults.before = None
    grid = server.state.get(sheet.key).sheet("Customers")
    by_id = {}
    for (r, c), v in grid.cells.items():
        by_id.setdefault(r, {})[c] = v.value
    rows = {vals.get(0): vals for r, vals in by_id.items() if r >= 1 and vals.get(0)}
    names = {vals.get(1) for r, vals in by_id.items() if r >= 1}
    if "value" in typed:
        assert typed["value"][2] in names                          # the person's edit stands
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        for e in log.entries(batch=result.batch) if result.batch else []:
            if e.row_id in rows and e.column == "Name":
                assert rows[e.row_id][1] == e.after                # landed on its own row
    folded = {str(n).strip().casefold() for n in names if n}
    assert folded & {"ann lee", "ann person"}                      # what was typed survives
    if "C-000003" in rows:                                         # the new row got its ID
        assert str(rows["C-000003"].get(1)).strip().casefold() in ("ann lee", "ann person")
