"""`apply` and `undo` on real workbooks with a real audit log."""
import dataclasses
import datetime as dt
import json
import os
import pickle
import subprocess
import sys

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

import sync.cycle as cycle
from audit.log import AuditLog
from service import report
from service.cli import main
from sync.opening import undo_on as undo_batch
from sync.xlsx.target import apply_workbook
from sync.plan import RuleSettings, plan_table
from sync.seen import Seen, SeenStore
from sync.xlsx.read import read_table
from sync.xlsx.target import workbook_key
from sync.xlsx.write import WorkbookBusy
from tests.conftest import CRM_EN, ROOT, TODAY, crm_row, fingerprint, run_cli, write_table

SETTINGS = RuleSettings(today=TODAY, phone_region="CN")


def messy(tmp_path, rows=None):
    return write_table(tmp_path / "c.xlsx", CRM_EN, rows or [
        crm_row(name="ANN LEE", phone="138 0013 8000", email=" Ann@Example.COM", tier="vip",
                member_since="2024/3/5", notes="keep this note"),
        crm_row(name="bob stone", phone="139-0013-9000", email="bob@example.com",
                last_contact=dt.date(2026, 11, 1)),
        crm_row(name="Cy", email="not an email"),
    ])


def values(path):
    ws = openpyxl.load_workbook(path)["Customers"]
    return [[c.value for c in row] for row in ws.iter_rows(min_row=2)]


def test_apply_writes_audits_and_then_has_nothing_to_do(tmp_path):
    path = messy(tmp_path)
    first = apply_workbook(path, SETTINGS)
    assert first.batch and first.written == len(first.plan.changes) > 0
    rows = values(path)
    assert rows[0][:3] == ["C-000001", "Ann Lee", None]
    assert rows[0][4] == "+8613800138000" and rows[0][5] == "Ann@example.com"
    assert rows[0][11] == dt.datetime(2024, 3, 5) and rows[0][17] == "keep this note"
    assert "Email: not a valid email address" in rows[2][18]     # Findings column
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        entries = list(log.entries(batch=first.batch))
        assert len(entries) == first.written
        assert log.batch_info(first.batch)[4] == "written"
        assert log.verify() is None
    before = fingerprint(path)
    second = apply_workbook(path, SETTINGS)
    assert second.batch is None and second.written == 0
    assert fingerprint(path) == before                 # not even the modification time moved


def test_dry_run_is_check(tmp_path, capsys):
    path = messy(tmp_path)
    before = fingerprint(path)
    main(["apply", str(path), "--dry-run", "--report", "json", "--region", "CN",
          "--today", TODAY.isoformat()])
    dry = json.loads(capsys.readouterr().out)
    main(["check", str(path), "--report", "json", "--region", "CN", "--today", TODAY.isoformat()])
    check = json.loads(capsys.readouterr().out)
    assert dry.pop("batch") == "dry run" and dry == check
    assert fingerprint(path) == before


def test_person_edits_are_logged_as_theirs(tmp_path):
    path = messy(tmp_path)
    apply_workbook(path, SETTINGS)
    book = openpyxl.load_workbook(path)
    book["Customers"]["C2"] = "Acme"                  # a person fills in Ann's company
    book.save(path)
    result = apply_workbook(path, SETTINGS)
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        edits = list(log.entries(batch=result.person_batch))
    assert [(e.row_id, e.column, e.before, e.after, e.actor) for e in edits] == \
        [("C-000001", "Company", None, "Acme", "person")]


def test_an_open_workbook_is_left_for_the_next_cycle(tmp_path):
    path = messy(tmp_path)
    (tmp_path / "~$c.xlsx").write_text("owner")
    before = fingerprint(path)
    with pytest.raises(WorkbookBusy):
        apply_workbook(path, SETTINGS)
    assert fingerprint(path) == before
    result = run_cli("apply", str(path))
    assert result.returncode == 2 and "open in a spreadsheet program" in result.stderr
    assert "Traceback" not in result.stderr
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        assert log.db.execute("SELECT count(*) FROM batches WHERE status = 'written' "
                              "AND kind = 'apply'").fetchone() == (0,)


def test_undo_restores_exactly_and_skips_what_a_person_changed(tmp_path):
    path = messy(tmp_path)
    original = values(path)
    batch = apply_workbook(path, SETTINGS).batch
    book = openpyxl.load_workbook(path)
    book["Customers"]["F3"] = "bob@stone.org"          # a person changes a cell the batch wrote
    book["Customers"]["F2"].value                      # (Ann's email stays as written)
    book.save(path)
    # bob's email was not changed by the batch; change one that was: Bob's name
    book = openpyxl.load_workbook(path)
    book["Customers"]["B3"] = "Bobby Stone"
    book.save(path)
    result = undo_batch(batch, tmp_path / ".sheetkeeper")
    assert any("Name: changed since to 'Bobby Stone'" in s for s in result.skipped)
    now = values(path)
    for r, row in enumerate(original):
        for c, value in enumerate(row):
            if (r, c) in {(1, 1), (1, 5)}:
                continue
            assert now[r][c] == value, (r, c, now[r][c], value)
    assert now[1][1] == "Bobby Stone" and now[1][5] == "bob@stone.org"
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        assert log.batch_info(result.batch)[2] == "undo"
        assert log.verify() is None
    again = apply_workbook(path, SETTINGS)
    undone = {(c.column, c.before) for c in again.plan.changes}
    assert ("Name", "ANN LEE") not in undone and ("Phone", "138 0013 8000") not in undone
    assert values(path)[0][1] == "ANN LEE"             # the undo stays undone


def test_what_an_undo_puts_back_is_not_taken_for_a_persons_edits(tmp_path):
    """An undo writes the workbook outside a cycle. The next cycle logs what people changed
    meanwhile, and not what the undo put back; the cells it put back are judged again (an
    invalid value it restored is flagged again). Undoing the batch that gave out IDs takes
    them away again without a person's 'row removed'."""
    path = messy(tmp_path)
    first = apply_workbook(path, SETTINGS)
    book = openpyxl.load_workbook(path)
    book["Customers"]["E2"] = "1380013"                        # a person types a bad number
    book.save(path)
    second = apply_workbook(path, SETTINGS)
    assert second.batch and any(c.column == "Findings" for c in second.plan.changes)
    book = openpyxl.load_workbook(path)
    book["Customers"]["C3"] = "Stone & Co"                     # an edit, then the undo
    book.save(path)
    assert undo_batch(second.batch, tmp_path / ".sheetkeeper").batch
    third = apply_workbook(path, SETTINGS)
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        edits = [(e.row_id, e.column, e.before, e.after)
                 for e in log.entries(batch=third.person_batch)]
    assert edits == [("C-000002", "Company", None, "Stone & Co")]
    assert any(f.row_number == 2 and f.column == "Phone" for f in third.plan.findings)
    assert undo_batch(first.batch, tmp_path / ".sheetkeeper").batch
    assert apply_workbook(path, SETTINGS).person_batch is None


def test_a_pending_batch_is_settled_from_the_digest(tmp_path):
    path = messy(tmp_path)
    digest = read_table(path).digest
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        lost = log.record(workbook_key(path), "Customers", [], "apply", status="pending",
                          digest_after="f" * 64)
        landed = log.record(workbook_key(path), "Customers", [], "apply", status="pending",
                            digest_after=digest)
    apply_workbook(path, SETTINGS)
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        assert log.batch_info(lost)[4] == "abandoned"
        assert log.batch_info(landed)[4] == "written"


def test_ids_are_never_reused(tmp_path):
    path = messy(tmp_path)
    apply_workbook(path, SETTINGS)
    book = openpyxl.load_workbook(path)
    ws = book["Customers"]
    ws.delete_rows(4)                                   # C-000003 goes
    ws.append(crm_row(name="Dee", email="dee@example.com"))
    book.save(path)
    apply_workbook(path, SETTINGS)
    assert [r[0] for r in values(path)] == ["C-000001", "C-000002", "C-000004"]


def test_audit_command_formats_and_filters(tmp_path):
    path = messy(tmp_path)
    apply_workbook(path, SETTINGS)
    out = run_cli("audit", str(path), "--id", "C-000001", "--column", "Phone",
                  "--format", "json")
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(r["before"], r["after"], r["rule"]) for r in rows] == \
        [("138 0013 8000", "+8613800138000", "phone")]
    csv_out = run_cli("audit", str(path), "--format", "csv").stdout.splitlines()
    assert csv_out[0].startswith("seq,at,workbook,sheet,row_id,column,before,after")
    table = run_cli("audit", str(path), "--since", "2000-01-01").stdout
    assert "C-000001" in table and "→" in table
    verify = run_cli("audit", "verify", "--data", str(tmp_path / ".sheetkeeper"))
    assert verify.returncode == 0 and "intact" in verify.stdout
    import sqlite3
    db = sqlite3.connect(tmp_path / ".sheetkeeper" / "audit.sqlite3")
    db.execute("UPDATE changes SET after = '\"+1\"' WHERE seq = 5")
    db.commit()
    db.close()
    verify = run_cli("audit", "verify", "--data", str(tmp_path / ".sheetkeeper"))
    assert verify.returncode == 1 and "breaks at row 5" in verify.stderr


def test_audit_log_is_private(tmp_path):
    path = messy(tmp_path)
    apply_workbook(path, SETTINGS)
    folder = tmp_path / ".sheetkeeper"
    assert os.stat(folder).st_mode & 0o077 == 0
    assert os.stat(folder / "audit.sqlite3").st_mode & 0o077 == 0


CELL = st.one_of(st.none(), st.sampled_from([
    "ANN LEE", "138 0013 8000", "+8613900139000", " x@Example.COM", "bad@", "vip", "VIP客户",
    "2024/3/5", "03/05/2024", "¥1,200", "a;b ,a", "  spaced  out ", 45356, 13800138000.0, "张 伟"]))


@hsettings(max_examples=12, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.lists(CELL, min_size=19, max_size=19), min_size=1, max_size=6))
def test_properties_nothing_to_do_writes_nothing_and_undo_is_exact(tmp_path_factory, rows):
    tmp = tmp_path_factory.mktemp("p")
    path = write_table(tmp / "c.xlsx", CRM_EN, [[None, *r[1:18], None] for r in rows])
    original = values(path)
    first = apply_workbook(path, SETTINGS)
    settled = fingerprint(path)
    assert apply_workbook(path, SETTINGS).batch is None
    assert fingerprint(path) == settled
    if first.batch:
        undo_batch(first.batch, tmp / ".sheetkeeper")
        assert values(path) == original


EDIT = st.tuples(st.integers(0, 2), st.integers(1, 17), CELL)


@hsettings(max_examples=15, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(EDIT, max_size=6))
def test_property_incremental_plan_equals_full_plan(tmp_path_factory, edits):
    """Rows the last cycle judged and nobody touched are not run through the cell rules again;
    the plan must be exactly the one a full evaluation makes."""
    tmp = tmp_path_factory.mktemp("inc")
    path = messy(tmp)
    apply_workbook(path, SETTINGS)
    book = openpyxl.load_workbook(path)
    for row, col, value in edits:
        book["Customers"].cell(row=row + 2, column=col + 1, value=value)
    book.save(path)
    incremental = apply_workbook(path, SETTINGS, dry_run=True).plan
    full = plan_table(read_table(path), SETTINGS)
    assert incremental.changes == full.changes
    assert incremental.findings == full.findings
    assert incremental.duplicates == full.duplicates
    assert set(incremental.problems) == set(full.problems)


def test_only_the_cells_a_person_changed_are_judged_again(tmp_path):
    path = messy(tmp_path)
    apply_workbook(path, SETTINGS)
    book = openpyxl.load_workbook(path)
    book["Customers"]["C3"] = "Stone & Co"               # a person edits Bob's row only
    book.save(path)
    result = apply_workbook(path, SETTINGS)
    rows_judged, rechecked, restated = result.judged
    assert rows_judged == {0, 1, 2}                      # every row the last cycle judged
    assert rechecked == {(1, 2)}                         # but only Bob's new Company again
    assert set(restated) == {(2, 5)}                     # Cy's invalid email: stated again
    assert [f.message for f in result.plan.findings if f.column == "Email"] == [
        f.message for f in plan_table(read_table(path), SETTINGS).findings
        if f.column == "Email"]


def test_a_write_that_leaves_nothing_to_do_settles_the_bytes_it_wrote(tmp_path):
    """Rows with IDs already: the cycle's write leaves nothing for a next pass, so the next
    apply on those bytes is not planned again, and says what a full plan would say."""
    path = messy(tmp_path, [
        crm_row(customer_id="C-000001", name="ANN LEE", phone="138 0013 8000",
                email=" Ann@Example.COM"),
        crm_row(customer_id="C-000002", name="Cy", email="not an email"),
        crm_row(customer_id="C-000003", name="Ann Lee", email="ann@example.com")])
    first = apply_workbook(path, SETTINGS)
    assert first.batch and not any(c.rule == "id" for c in first.plan.changes)
    again = apply_workbook(path, SETTINGS)
    assert again.judged is None                          # not planned again
    full = plan_table(read_table(path), SETTINGS)
    assert full.changes == ()                             # truly nothing left to do
    assert again.batch is None and again.plan.findings == full.findings
    assert again.plan.duplicates == full.duplicates and full.duplicates


def test_an_untouched_workbook_is_not_planned_again(tmp_path):
    path = messy(tmp_path)
    apply_workbook(path, SETTINGS)          # writes: not settled yet
    apply_workbook(path, SETTINGS)          # nothing left to do: settled
    again = apply_workbook(path, SETTINGS)
    assert again.judged is None and not again.read       # neither planned nor read again
    full = plan_table(read_table(path), SETTINGS)
    assert again.batch is None and again.plan.changes == ()
    assert again.plan.findings == full.findings and again.plan.duplicates == full.duplicates
    tomorrow = dataclasses.replace(SETTINGS, today=TODAY + dt.timedelta(days=1))
    assert apply_workbook(path, tomorrow).judged is not None  # a new day is judged anew


def test_the_bytes_a_quiet_cycle_left_are_not_even_read_again(tmp_path, monkeypatch):
    """A no-change apply on the bytes a quiet cycle left reports from memory (the read is most
    of its cost on a big list), and says what a full read and plan would say."""
    path = messy(tmp_path)
    apply_workbook(path, SETTINGS)
    apply_workbook(path, SETTINGS)                       # quiet: settled
    again = apply_workbook(path, SETTINGS)
    assert not again.read and again.plan.table is None and again.batch is None
    table = read_table(path)
    full = plan_table(table, SETTINGS)
    assert again.plan.facts == table.facts and again.plan.region == full.region
    assert again.plan.findings == full.findings and again.plan.duplicates == full.duplicates
    text = report.as_text(again.plan)
    assert text == report.as_text(dataclasses.replace(full, changes=()))
    # Anything that could change the judgement reads again: other settings, other bytes.
    assert apply_workbook(path, dataclasses.replace(SETTINGS, phone_region="GB"),
                          dry_run=True).read
    assert apply_workbook(path, dataclasses.replace(SETTINGS, date_order="dmy")).read
    book = openpyxl.load_workbook(path)
    book["Customers"]["R2"] = "a person's note"
    book.save(path)
    assert apply_workbook(path, SETTINGS).read
    assert not apply_workbook(path, SETTINGS).read       # quiet again: not read
    # A new phonenumbers may know new ranges: what it said of every number is judged again.
    monkeypatch.setattr(cycle, "rule_versions", lambda: "phonenumbers 99.0")
    result = apply_workbook(path, SETTINGS)
    assert result.read and result.judged.rows == frozenset()     # no row taken as judged


def test_time_and_duration_cells_are_kept_logged_and_shown_as_a_person_typed_them(tmp_path):
    """What a spreadsheet makes of "9:30" and "30:00" (a time, a duration) goes through the
    seen state and the audit log and is shown as such; it crashed the seen state once."""
    path = messy(tmp_path)
    book = openpyxl.load_workbook(path)
    book["Customers"]["R2"] = dt.time(9, 30)             # Ann's Notes
    book["Customers"]["R3"] = dt.timedelta(hours=30)     # Bob's Notes
    book.save(path)
    apply_workbook(path, SETTINGS)
    book = openpyxl.load_workbook(path)
    book["Customers"]["R2"] = dt.time(10, 45)            # a person edits the time
    book["Customers"]["F4"] = dt.time(8, 0)              # and types a time as Cy's Email
    book.save(path)
    result = apply_workbook(path, SETTINGS)
    assert "Email: 08:00 is not an email address" in [f.message for f in result.plan.findings]
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        edits = {(e.column, e.before, e.after) for e in log.entries() if e.actor == "person"}
        assert ("Notes", dt.time(9, 30), dt.time(10, 45)) in edits
        assert log.verify() is None
    ws = openpyxl.load_workbook(path)["Customers"]
    assert ws["R2"].value == dt.time(10, 45) and ws["R3"].value == dt.timedelta(hours=30)
    assert apply_workbook(path, SETTINGS).batch is None     # and the next cycle is quiet


def test_a_seen_state_kept_by_header_is_still_understood(tmp_path):
    """The seen state of an earlier version kept each row as a dict by header. Read after an
    upgrade, a person's edit since is still logged as theirs, and nothing else is."""
    path = messy(tmp_path)
    apply_workbook(path, SETTINGS)
    [state] = (tmp_path / ".sheetkeeper" / "seen").iterdir()
    head, body = state.read_text().split("\n")
    data = {**json.loads(head), **json.loads(body)}      # one object, as it was then
    headers = data.pop("headers")
    data["rows"] = {rid: {h: v for h, v in zip(headers, row) if h}
                    for rid, row in data["rows"].items()}
    state.write_text(json.dumps(data))
    book = openpyxl.load_workbook(path)
    book["Customers"]["C2"] = "Acme"
    book.save(path)
    result = apply_workbook(path, SETTINGS)
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        edits = list(log.entries(batch=result.person_batch))
    assert [(e.row_id, e.column, e.before, e.after) for e in edits] == \
        [("C-000001", "Company", None, "Acme")]


def test_a_state_saved_by_this_process_is_taken_from_memory_until_the_file_changes(tmp_path):
    """A running service's next cycle need not parse back what it saved; a state another
    process saved meanwhile (a new file) is read, and a forgotten one is gone."""
    store = SeenStore(tmp_path)
    book = tmp_path / "c.xlsx"
    mine = Seen({"C-000001": ("C-000001", "Ann Lee")}, {}, "rules", headers=("Customer ID", "Name"))
    store.save(book, mine)
    assert store.load(book) is mine
    theirs = dataclasses.replace(mine, rows={"C-000001": ("C-000001", "Ann Lea")})
    other_process = subprocess.run(
        [sys.executable, "-c", "import sys, pickle; from pathlib import Path; "
         "from sync.seen import SeenStore; "
         "SeenStore(Path(sys.argv[1])).save(Path(sys.argv[2]), pickle.loads(sys.stdin.buffer.read()))",
         str(tmp_path), str(book)], input=pickle.dumps(theirs), cwd=ROOT, capture_output=True)
    assert other_process.returncode == 0, other_process.stderr
    loaded = store.complete(store.load(book))
    assert loaded is not mine and loaded.rows == theirs.rows
    store.forget(book)
    assert store.load(book) is None


def test_a_column_a_person_adds_is_diffed_by_header(tmp_path):
    """Rows are remembered by position; when a person adds a column between cycles, the last
    state is lined up with the new headers by name, so edits are told apart exactly."""
    path = messy(tmp_path)
    apply_workbook(path, SETTINGS)
    book = openpyxl.load_workbook(path)
    sheet = book["Customers"]
    sheet.insert_cols(3)                              # a new column before Company
    sheet["C1"], sheet["C2"] = "Locker", "12"
    sheet["D3"] = "Stone & Co"                        # and Bob's Company, now in D
    book.save(path)
    result = apply_workbook(path, SETTINGS)
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        edits = {(e.row_id, e.column, e.before, e.after)
                 for e in log.entries(batch=result.person_batch)}
    assert edits == {("C-000001", "Locker", None, "12"),
                     ("C-000002", "Company", None, "Stone & Co")}
    assert apply_workbook(path, SETTINGS).person_batch is None


def test_audit_leaves_out_batches_that_never_reached_the_workbook(tmp_path):
    """A batch recorded pending and then found not written (the crash came before the
    replace) is no change to the workbook: `audit` leaves it out unless asked for --all."""
    from audit.log import ChangeRecord
    path = messy(tmp_path)
    apply_workbook(path, SETTINGS)
    key = workbook_key(path)
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        lost = log.record(key, "Customers", [ChangeRecord("C-000002", "Company", None, "Ghost",
                                                          "text", "never written")],
                          "apply", status="pending", digest_after="0" * 64)
        assert log.settle_pending(key, "f" * 64) == [(lost, "abandoned")]
    listed = run_cli("audit", str(path), "--format", "json").stdout
    assert "Ghost" not in listed and "+8613800138000" in listed
    everything = run_cli("audit", str(path), "--format", "json", "--all").stdout
    assert [json.loads(line)["batch"] for line in everything.splitlines()
            if "Ghost" in line] == [lost]


def test_a_damaged_memory_of_the_rows_is_a_fresh_start(tmp_path):
    """The seen state's head is read first, its rows later, while the workbook is read. When
    the head is whole but the rows are damaged, the cycle starts afresh, as with no memory."""
    path = messy(tmp_path)
    apply_workbook(path, SETTINGS)
    apply_workbook(path, SETTINGS)                       # quiet: settled
    [state] = (tmp_path / ".sheetkeeper" / "seen").iterdir()
    head = state.read_bytes().partition(b"\n")[0]
    state.write_bytes(head + b"\n{\"rows\": [")
    book = openpyxl.load_workbook(path)
    book["Customers"]["C2"] = "Acme"                     # so the workbook must be read
    book.save(path)
    result = apply_workbook(path, SETTINGS)
    assert result.person_batch is None                   # nothing to tell an edit from
    assert result.plan.findings == plan_table(read_table(path), SETTINGS).findings
    assert apply_workbook(path, SETTINGS).batch is None


def test_two_sheetkeepers_on_one_workbook_take_turns(tmp_path):
    """The service's cycle and an `apply` typed meanwhile: without turns, both diffed the same
    edits against the same last state and logged each person edit two or three times. (Two
    processes race here as they would in use, so the old way failed only now and then; the
    next test holds the lock itself, and fails every time without it.)"""
    import subprocess
    import sys
    rows = [crm_row(name=f"Person {n}", phone=f"1380013{n:04d}", email=f"p{n}@example.com")
            for n in range(600)]
    path = write_table(tmp_path / "c.xlsx", CRM_EN, rows)
    apply_workbook(path, SETTINGS)
    book = openpyxl.load_workbook(path)
    for n in range(2, 602, 3):
        book["Customers"][f"C{n}"] = f"Company {n}"         # people at work
    book.save(path)
    cli = [sys.executable, "-m", "service", "apply", str(path), "--region", "CN",
           "--today", TODAY.isoformat()]
    both = [subprocess.Popen(cli, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    assert all(p.wait(timeout=120) in (0, 1) for p in both), [p.stderr.read() for p in both]
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        edits = [(e.row_id, e.column, e.after) for e in log.entries() if e.actor == "person"]
        assert log.verify() is None
    assert len(edits) == len(set(edits)) == 200


# `sheetkeeper apply` with an audit hook that only watches: it notes each time the apply asks
# for the cycle lock (without waiting, as sync.process_lock asks), one line in the file argv[1]:
# flock(LOCK_EX | LOCK_NB) on Linux and macOS, LockFileEx on Windows (through ctypes; not run
# here). It imports no fcntl, so it runs in the Windows mode too (tests/windows_mode).
APPLY_NOTING_LOCK_TRIES = """
import sys
tries = open(sys.argv.pop(1), "a", buffering=1)
if sys.platform == "win32":
    import ctypes
    LOCK_FILE_EX = ctypes.cast(ctypes.WinDLL("kernel32").LockFileEx, ctypes.c_void_p).value
    def asks(event, args):
        return event == "ctypes.call_function" and args[0] == LOCK_FILE_EX
else:
    def asks(event, args):
        return event == "fcntl.flock" and args[1] == 2 | 4      # LOCK_EX | LOCK_NB
def note(event, args):
    if asks(event, args):
        tries.write("asked for the cycle lock\\n")
sys.addaudithook(note)
from service.cli import main
sys.exit(main())
"""


def test_a_cycle_waits_for_the_one_before_it_and_says_so_if_it_waits_too_long(
        tmp_path, monkeypatch):
    import subprocess
    import sys
    import time
    from sync import cycle_lock
    path = messy(tmp_path)
    data = tmp_path / ".sheetkeeper"
    tries = tmp_path / "lock-tries"
    tries.touch()
    with cycle_lock.one_at_a_time(data, str(path)):
        apply = subprocess.Popen(
            [sys.executable, "-c", APPLY_NOTING_LOCK_TRIES, str(tries), "apply", str(path)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        before = fingerprint(path)
        # Asked twice: the first ask was refused and the apply waits. (It asks again only
        # after a refusal; had the first ask got the lock, it would have written first.)
        deadline = time.monotonic() + 60
        while len(tries.read_text().splitlines()) < 2 and apply.poll() is None:
            assert time.monotonic() < deadline, "the apply never asked for the lock"
            time.sleep(0.02)
        assert apply.poll() is None and fingerprint(path) == before
        monkeypatch.setattr(cycle_lock, "WAIT", 0.2)
        with pytest.raises(WorkbookBusy, match=rf"another sheetkeeper \(pid {os.getpid()}\)"):
            apply_workbook(path, SETTINGS)     # in this process: the lock is per open file
    assert apply.wait(timeout=60) == 1, apply.stderr.read()
    assert values(path)[0][1] == "Ann Lee"


def test_undo_restores_every_cell_of_a_batch_on_a_longer_list(tmp_path):
    """Finding each cell's row by reading every row's ID made an undo grow with cells × rows
    (3,595 cells of a 10k-row list took two minutes): every cell is now found through one
    index of the rows' IDs (sync.cells.CellPlaces), built once per read."""
    rows = [crm_row(name=f"PERSON {n}", phone=f"138 0013 {n:04d}", email=f"P{n}@Example.com")
            for n in range(60)]
    path = write_table(tmp_path / "c.xlsx", CRM_EN, rows)
    batch = apply_workbook(path, SETTINGS).batch
    result = undo_batch(batch, tmp_path / ".sheetkeeper")
    assert result.restored >= 3 * 60 and not result.skipped
    assert [r[1] for r in values(path)] == [f"PERSON {n}" for n in range(60)]


def test_audit_as_csv_never_hands_a_spreadsheet_a_formula(tmp_path, capsys):
    """A person typed =HYPERLINK(…) and +cmd|… into cells; `audit --format csv` wrote them
    bare, and a spreadsheet opening the CSV ran them (issue 24 #15)."""
    import csv
    import io
    path = messy(tmp_path)
    apply_workbook(path, SETTINGS)
    book = openpyxl.load_workbook(path)
    book["Customers"]["C2"] = '=HYPERLINK("http://evil.example","x")'
    book["Customers"]["R2"] = "+cmd|' /C calc'!A0"
    book["Customers"]["R3"] = "@SUM(1+1)"
    book.save(path)
    apply_workbook(path, SETTINGS)
    capsys.readouterr()
    main(["audit", str(path), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    afters = [r["after"] for r in rows if r["actor"] == "person"]
    assert "'+cmd|' /C calc'!A0" in afters and "'@SUM(1+1)" in afters
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())


def test_a_header_renamed_to_one_of_its_names_is_the_same_column(tmp_path):
    """Renaming Phone to Mobile (an alias) logged every row's phone as a person's edit and
    broke undo for that column (issue 24 #9): the remembered state and the log are lined up by
    template column, not by header text."""
    path = messy(tmp_path)
    first = apply_workbook(path, SETTINGS)            # normalises the phones, among others
    book = openpyxl.load_workbook(path)
    book["Customers"]["E1"] = "Mobile"
    book.save(path)
    renamed = apply_workbook(path, SETTINGS)
    assert renamed.person_batch is None               # a header is no person's cell edit
    result = undo_batch(first.batch, tmp_path / ".sheetkeeper")
    assert not [s for s in result.skipped if "Phone" in s], result.skipped
    assert values(path)[0][4] == "138 0013 8000"       # the phone as typed, under Mobile


def test_a_row_copied_with_its_id_is_neither_logged_as_nor_undone_into_the_original(tmp_path):
    """A person copies a row, ID and all, to start a new customer: the log said the original
    was edited, and undo wrote into the original (issue 24 #8). The original is the row still
    as it was; undo cannot tell which row its batch wrote, and says so."""
    path = messy(tmp_path)
    first = apply_workbook(path, SETTINGS)
    book = openpyxl.load_workbook(path)
    ws = book["Customers"]
    for col in range(1, 20):
        ws.cell(5, col).value = ws.cell(2, col).value       # row 2 (C-000001), copied
    ws["B5"] = "Zed New"
    book.save(path)
    second = apply_workbook(path, SETTINGS)
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        edits = [(e.row_id, e.column) for e in log.entries(batch=second.person_batch)] \
            if second.person_batch else []
    assert ("C-000001", "Name") not in edits
    before = values(path)
    result = undo_batch(first.batch, tmp_path / ".sheetkeeper")
    told = [s for s in result.skipped if s.startswith("C-000001")]
    assert told and all("more than one row" in s for s in told)
    after = values(path)
    assert after[0][:18] == before[0][:18] and after[3][:18] == before[3][:18]


def test_undo_on_a_list_without_ids_refuses_in_words(tmp_path):
    """On a list with no ID column, undo sent every value to the first row, exited 0 and said
    it restored them (issue 24 #8)."""
    path = write_table(tmp_path / "c.xlsx", [h for h in CRM_EN if h != "Customer ID"], [
        crm_row(name="ANN LEE")[1:], crm_row(name="BOB STONE")[1:]])
    first = apply_workbook(path, SETTINGS)
    assert first.batch and values(path)[1][0] == "Bob Stone"
    result = run_cli("undo", first.batch, "--data", str(tmp_path / ".sheetkeeper"))
    assert result.returncode == 1 and "no Customer ID" in result.stdout, result.stdout
    assert [r[0] for r in values(path)] == ["Ann Lee", "Bob Stone"]       # nothing moved
