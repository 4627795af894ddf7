"""Request bodies Google takes: it refuses one over 10 MiB (400, never worth retrying) and
advises at most 2 MB. A cycle writes a row's cells as one range and goes out in parts of at
most 2 MB, each guarded and audited as a batch of its own; the emulator refuses a body over
10 MiB as Google does."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import requests
from hypothesis import given, settings, strategies as st

from audit.log import AuditLog
from sync.cells import CellWrite
from sync.gsheets import bodies
from sync.gsheets.target import apply_google
from sync.plan import RuleSettings

from .fakesheets import client, installed_sheet

SETTINGS = RuleSettings(today=dt.date(2026, 11, 23), phone_region="CN")
TEN_MIB = 10 * 1024 * 1024
TWO_MB = 2_000_000


def test_the_emulator_refuses_a_body_over_10_mib_as_google_does(server):
    sh = client(server).create("Big")
    url = f"{server.url}/v4/spreadsheets/{sh.id}/values:batchUpdate"
    body = {"valueInputOption": "RAW",
            "data": [{"range": "Sheet1!A1", "values": [["x" * (TEN_MIB + 10)]]}]}
    answer = requests.post(url, data=json.dumps(body),
                           headers={"Authorization": "Bearer test",
                                    "Content-Type": "application/json"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["message"] == "Request payload size exceeds the limit: 10485760 bytes."
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["errors"][0]["reason"] == "badRequest"
    assert sh.sheet1.acell("A1").value is None           # nothing written
    body["data"][0]["values"] = [["x" * (TEN_MIB - 200)]]  # just under: taken
    assert requests.post(url, data=json.dumps(body), headers={
        "Authorization": "Bearer test", "Content-Type": "application/json"}).status_code == 200


def messy(n: int) -> list[list]:
    """Rows of which four cells each change in a first cycle (ID, name, company, email)."""
    return [["", f"person NUMBER{i}", "acme  ltd", "", f"139{i:08d}", f" P{i}@ACME.com "]
            for i in range(n)]


def test_a_first_cycle_on_a_big_messy_list_writes_it_all_in_bodies_of_at_most_2_mb(
        server, tmp_path):
    """45,000 rows, 180,000 cells to change: one entry a cell would be an 11 MB body, which
    Google refuses on every cycle. Written in parts instead, the audit log says exactly
    what reached the sheet, and the next cycle has nothing to do."""
    n = 45_000
    sheet = installed_sheet(server, messy(n))
    first = len(server.faults.log)
    result = apply_google(sheet, SETTINGS, tmp_path)
    sent = list(zip(server.faults.log[first:], server.faults.bodies[first:]))
    writes = [size for (method, path), size in sent if path.endswith("values:batchUpdate")]
    assert len(writes) >= 2 and max(writes) <= TWO_MB
    assert result.written == len(result.plan.changes) == 4 * n
    assert len(result.batches) == len(writes) and result.batch == result.batches[0]
    grid = server.state.get(sheet.key).sheet("Customers")
    assert grid.cells[(n, 0)].value == f"C-{n:06d}"
    assert grid.cells[(n, 5)].value == f"P{n - 1}@acme.com"
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        entries = [e for b in result.batches for e in log.entries(batch=b)]
        assert {log.batch_info(b)[4] for b in result.batches} == {"written"}
        assert log.verify() is None
    assert len(entries) == 4 * n
    assert {(e.row_id, e.column) for e in entries} == {
        (c.row_id, c.column) for c in result.plan.changes}
    again = apply_google(sheet, SETTINGS, tmp_path)
    assert again.batch is None and again.written == 0


cells = st.lists(st.tuples(st.sampled_from(["Customers", "客户", "it's"]),
                           st.builds(CellWrite, st.integers(1, 40), st.integers(0, 30),
                                     st.one_of(st.none(), st.text(max_size=60),
                                               st.integers(), st.dates()))),
                 max_size=120)


@settings(max_examples=200, deadline=None)
@given(cells, st.integers(300, 3000))
def test_parts_hold_every_cell_once_whole_rows_together_within_the_limit(cells, limit):
    parts = bodies.parts(cells, limit)
    assert sorted(k for p in parts for k in p) == list(range(len(cells)))
    rows = [{(cells[k][0], cells[k][1].row) for k in p} for p in parts]
    assert all(not (a & b) for i, a in enumerate(rows) for b in rows[i + 1:])
    for p in parts:
        body = {"valueInputOption": "USER_ENTERED",
                "data": bodies.row_ranges([cells[k] for k in p])}
        one_row = len({(cells[k][0], cells[k][1].row) for k in p}) == 1
        assert bodies.body_size(body) <= limit or one_row


@settings(max_examples=200, deadline=None)
@given(cells)
def test_a_rows_range_writes_what_the_cells_did_and_leaves_the_rest(cells):
    """Each entry, read back as Google applies it (null: leave the cell), gives each cell
    written its last value, and names no cell that was not written."""
    want = {(tab, w.row, w.column): bodies.raw(w.value) for tab, w in cells}
    got = {}
    for entry in bodies.row_ranges(cells):
        where = entry["range"]
        tab, span = where.rsplit("!", 1)
        tab = tab[1:-1].replace("''", "'")
        first = span.split(":")[0]
        col = sum((ord(ch) - 64) * 26 ** i for i, ch in
                  enumerate(reversed(first.rstrip("0123456789")))) - 1
        row = int(first[len(first.rstrip("0123456789")):])
        for j, v in enumerate(entry["values"][0]):
            if v is not None:
                got[(tab, row, col + j)] = v
    assert got == {k: v for k, v in want.items() if v is not None}


@pytest.mark.parametrize("tab", ["Customers", "客户"])
def test_grid_bands_keep_every_row_in_order_within_the_limit(tab):
    rows = [[f"value {r} {c} 值" for c in range(19)] for r in range(3000)]
    bands = bodies.grid_bands([(tab, rows), ("Lists", [["a"], ["b"]])], 100_000)
    assert len(bands) > 1
    back = [row for body in bands for t, _, band in body if t == tab for row in band]
    assert back == rows
    seen: dict[str, int] = {}
    for body in bands:
        data = [{"range": f"{bodies.quoted_tab(t)}!A{start + 1}", "values": band}
                for t, start, band in body]
        assert bodies.body_size({"valueInputOption": "RAW", "data": data}) <= 100_000
        for t, start, band in body:            # each band starts where the last one ended
            assert start == seen.get(t, 0)
            seen[t] = start + len(band)


def test_restore_of_a_tab_bigger_than_google_takes_in_one_body(server, tmp_path):
    """A snapshot of 5,000 rows of long notes (some 11 MB as one body, which Google refuses)
    is restored in bodies of at most 2 MB, formulas as formulas, each part audited as a
    batch of its own that holds exactly the changes in its rows."""
    from sync.gsheets.backup import restore_google, take_google_snapshot
    n = 5_000
    rows = [[f"C-{i + 1:06d}", f"Person {i}", "", "", "", "", "", "", "", "", "", "", "", "",
             "", "", "", f"note {i} " + "x" * 2000, f"=ROW()+{i}" if i % 1000 == 0 else ""]
            for i in range(n)]
    sheet = installed_sheet(server, [])
    ws = sheet.spreadsheet.worksheet("Customers")
    ws.resize(rows=n + 1)
    for start in range(0, n, 1000):             # the team's list, typed in over time
        ws.update(rows[start:start + 1000], f"A{start + 2}", raw=False)
    snap = take_google_snapshot(sheet, tmp_path)
    grid = server.state.get(sheet.key).sheet("Customers")
    ws.update([["Changed First"]], "B2")
    ws.update([["Changed Last"]], f"B{n + 1}")
    first = len(server.faults.log)
    done = restore_google(snap.id, tmp_path, sheet)
    sent = list(zip(server.faults.log[first:], server.faults.bodies[first:]))
    writes = [size for (method, path), size in sent if path.endswith("values:batchUpdate")]
    assert max(writes) <= TWO_MB and len(done.batches) >= 6
    assert grid.cells[(1, 1)].value == "Person 0" and grid.cells[(n, 1)].value == f"Person {n - 1}"
    assert grid.cells[(1, 18)].entered == "=ROW()+0"
    assert grid.cells[(4001, 18)].entered == "=ROW()+4000"
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        assert {log.batch_info(b)[4] for b in done.batches} == {"written"}
        changed = {b: [(e.row_id, e.column, e.before, e.after) for e in log.entries(batch=b)]
                   for b in done.batches}
    assert changed[done.batches[0]] == [("C-000001", "Name", "Changed First", "Person 0")]
    assert changed[done.batches[-1]] == [(f"C-{n:06d}", "Name", "Changed Last",
                                          f"Person {n - 1}")]
    assert sum(map(len, changed.values())) == done.changed == 2
