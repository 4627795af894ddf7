"""A sync cycle on a Google Sheet, against the emulator through the real gspread client: the
same rules and audit log as for a workbook, at most four requests, and never a person's edit
overwritten or a write on the wrong row."""
from __future__ import annotations

import datetime as dt
import random

import pytest

from audit.log import AuditLog
from sheet_templates import builtin
from sync.gsheets.client import GoogleSheet
from sync.gsheets.target import apply_google, sheet_key
from sync.seen import SeenStore
from sync.gsheets.install import install_into
from sync.plan import RuleSettings

from .fakesheets import installed_sheet
from .fakesheets import state as fake

SETTINGS = RuleSettings(today=dt.date(2026, 11, 23), phone_region="CN")


@pytest.fixture
def sheet(server):
    return installed_sheet(server, [["", "JOHN MCDONALD", "Acme", "", "138 0013 8000",
                                     " John@ACME.com "],
                                    ["", "mary smith", "", "", "13900139000"]])


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


RACES = 500
ACTIONS = ("edit", "insert", "delete", "sort", "edit-other")


def test_500_races_with_a_person_lose_no_edit_and_write_no_wrong_row(server, sheet, tmp_path):
    """Between the cycle's read and its write a person edits a cell, inserts a row, deletes
    one or sorts the rows. Afterwards what the person typed is there, untouched, and every value
    sheetkeeper wrote sits in the row whose ID it was planned for."""
    rng = random.Random(20261123)
    grid = server.state.get(sheet.key).sheet("Customers")
    start = [("C-000001", "JOHN MCDONALD", "138 0013 8000"),
             ("C-000002", "mary smith", "13900139000"),
             ("C-000003", "Bob STONE", "13700137000"),
             (None, "  ann LEE  ", "13600136000")]
    counts = dict.fromkeys(ACTIONS, 0)
    for race in range(RACES):
        for key in [k for k in grid.cells if k[0] >= 1]:
            del grid.cells[key]
        for r, (rid, name, phone) in enumerate(start, start=1):
            for c, v in ((0, rid), (1, name), (4, phone)):
                if v is not None:
                    grid.cells[(r, c)] = fake.Cell(v, v)
        SeenStore(tmp_path).forget(sheet_key(sheet))
        action = rng.choice(ACTIONS)
        counts[action] += 1
        typed: dict = {}

        def person(method, path, action=action, typed=typed):
            if not (method == "GET" and "batchGet" in path) or typed.get("done"):
                return
            if not typed.get("seen"):
                typed["seen"] = True                        # the cycle's own read: let it be
                return
            typed["done"] = True                            # now, before the guard's re-read
            rows = {r: {c: v for (rr, c), v in grid.cells.items() if rr == r}
                    for r in range(1, 5)}
            if action.startswith("edit"):
                r = 2 if action == "edit" else rng.randrange(1, 5)
                text = f"Typed {race}"
                grid.cells[(r, 1)] = fake.Cell(text, text)
                typed["text"] = text
                return
            order = list(rows)
            if action == "insert":
                order.insert(rng.randrange(0, 4), None)
            elif action == "delete":
                order.remove(rng.randrange(1, 5))
            else:
                rng.shuffle(order)
            for key in [k for k in grid.cells if k[0] >= 1]:
                del grid.cells[key]
            for r, old in enumerate(order, start=1):
                for c, v in (rows[old] if old is not None else {}).items():
                    grid.cells[(r, c)] = v

        server.faults.before = person
        result = apply_google(sheet, SETTINGS, tmp_path)
        server.faults.before = None
        now = {}
        for (r, c), v in grid.cells.items():
            if r >= 1:
                now.setdefault(r, {})[c] = v.value
        if "text" in typed:                                  # the person's edit stands
            assert typed["text"] in {vals.get(1) for vals in now.values()}, (race, action)
        by_id = {vals[0]: vals for vals in now.values() if vals.get(0)}
        with AuditLog(tmp_path / "audit.sqlite3") as log:
            written = list(log.entries(batch=result.batch)) if result.batch else []
        for e in written:                                    # each write on its own row
            column = {"Name": 1, "Phone": 4, "Customer ID": 0}.get(e.column)
            if column is not None and e.row_id in by_id:
                assert by_id[e.row_id].get(column) == e.after, (race, action, e)
    assert all(n >= RACES // 10 for n in counts.values()), counts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_with_a_fifth_of_requests_failing_cycles_converge_and_the_log_matches_the_sheet(
        server, tmp_path, seed):
    import gspread
    import tenacity
    from google.oauth2.credentials import Credentials
    from sync.gsheets.client import GoogleUnavailable, RetryingHTTPClient
    from .fakesheets import EmulatorHTTPClient

    naps = []
    cls = type("Client", (EmulatorHTTPClient, RetryingHTTPClient),
               {"base": server.url, "sleep": staticmethod(naps.append),
                "stop": tenacity.stop_after_attempt(4)})
    gc = gspread.Client(Credentials(token="test"), http_client=cls)
    sh = gc.create("Faulty")
    google = GoogleSheet.open(gc, sh.id)
    install_into(google, builtin("crm"), "en")
    rng = random.Random(seed)
    rows = [["", f"PERSON {n}", "", "", f"139{rng.randrange(10**8):08d}",
             f" p{n}@EXAMPLE.com "] for n in range(30)]
    sh.worksheet("Customers").update(rows, "A2:F31")

    server.faults.rate(0.2, seed=seed)
    gave_up = 0
    for _ in range(12):
        try:
            if apply_google(google, SETTINGS, tmp_path).batch is None:
                break
        except GoogleUnavailable:
            gave_up += 1                        # bounded retries: this cycle gave up
    else:
        pytest.fail("cycles did not converge")
    server.faults.clear()
    assert naps, "no request failed: the fault rate did not apply"
    assert apply_google(google, SETTINGS, tmp_path).batch is None       # converged

    grid = server.state.get(sh.id).sheet("Customers")
    headers = [c.header("en") for c in builtin("crm").columns]
    by_id = {}
    for (r, c), v in grid.cells.items():
        if r >= 1:
            by_id.setdefault(r, {})[c] = v.value
    rows_by_id = {vals[0]: vals for vals in by_id.values() if vals.get(0)}
    assert len(rows_by_id) == 30
    last = {}
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        for e in log.entries():
            if e.actor == "sheetkeeper":
                last[(e.row_id, e.column)] = e.after
        assert log.verify() is None
    for (rid, column), after in last.items():                # the log says what the sheet holds
        value = rows_by_id[rid].get(headers.index(column))
        assert value == after or (after in (None, "") and value in (None, "")), (rid, column)
    assert all(v[4].startswith("+86") for v in rows_by_id.values())


def test_dates_written_as_serials_are_read_back_as_dates_not_rewritten(server, sheet, tmp_path):
    ws = sheet.spreadsheet.worksheet("Customers")
    since = [c.key for c in builtin("crm").columns].index("member_since")
    ws.update([["2024-03-05"], ["5 Mar 2024"]], f"{chr(65 + since)}2:{chr(65 + since)}3",
              raw=True)
    first = apply_google(sheet, SETTINGS, tmp_path)
    assert cell(server, sheet, 2, since) == 45356 == cell(server, sheet, 3, since)   # serials
    assert {c.after for c in first.plan.changes if c.key == "member_since"} == \
        {dt.date(2024, 3, 5)}
    quiet = apply_google(sheet, SETTINGS, tmp_path)
    assert quiet.batch is None and quiet.requests == 2        # nothing rewritten, ever


def test_the_cli_applies_to_a_google_sheet_end_to_end(server, sheet, tmp_path):
    """The real `sheetkeeper` command in a subprocess, over HTTP to the emulator."""
    import json as json_
    from .conftest import run_cli
    data = tmp_path / "data"
    first = run_cli("apply", f"gsheet:{sheet.key}", "--api-endpoint", server.url,
                    "--data", str(data), "--report", "json", "--region", "CN",
                    "--today", "2026-11-23")
    assert first.returncode == 1, first.stderr
    report = json_.loads(first.stdout[first.stdout.index("{"):])
    assert report["batch"] and any(c["after"] == "+8613800138000" for c in report["changes"])
    assert cell(server, sheet, 2, 4) == "+8613800138000"
    audit = run_cli("audit", "--data", str(data), "--id", "C-000001", "--column", "Phone")
    assert "+8613800138000" in audit.stdout
    elsewhere = run_cli("apply", f"gsheet:{sheet.key}", "--api-endpoint", "http://10.0.0.1:9")
    assert elsewhere.returncode == 2 and "only a local emulator" in elsewhere.stderr


def test_check_takes_a_google_sheet_and_changes_nothing(server, sheet):
    """`check` took only a workbook path (issue 17): it opens any target the way apply does."""
    import json as json_
    from .conftest import run_cli
    before = cell(server, sheet, 2, 4)
    checked = run_cli("check", f"gsheet:{sheet.key}", "--api-endpoint", server.url,
                      "--report", "json", "--region", "CN", "--today", "2026-11-23")
    assert checked.returncode == 1, checked.stderr
    report = json_.loads(checked.stdout)
    assert any(c["after"] == "+8613800138000" for c in report["changes"])
    assert cell(server, sheet, 2, 4) == before


def test_a_value_the_team_added_on_the_lists_tab_is_accepted(server, sheet, tmp_path):
    from sheet_templates.presentation import lists_tab
    crm = builtin("crm")
    tiers = next(i for i, c in enumerate(lists_tab(crm, "en")) if c.list_key == "tier")
    lists = sheet.spreadsheet.worksheet("Lists")
    column = chr(65 + tiers)
    depth = len(lists.col_values(tiers + 1))
    tier = [c.key for c in crm.columns].index("tier")
    sheet.spreadsheet.worksheet("Customers").update([["Gold"]], f"{chr(65 + tier)}2")
    flagged = apply_google(sheet, SETTINGS, tmp_path)
    assert any("'Gold' is not one of" in f.message for f in flagged.plan.findings)
    lists.update([["Gold"], ["   "]], f"{column}{depth + 1}:{column}{depth + 2}")
    accepted = apply_google(sheet, SETTINGS, tmp_path)
    assert not any("Tier" in f.message for f in accepted.plan.findings)
    assert "" not in accepted.plan.table.list_values["tier"]      # a blank cell is no value
