"""The real sync cycle (sync.cycle) on a workbook open in Excel, through the live target
(sync/excel/), on the xlwings double (tests/excel_double.py): a double because no Excel can run
here; it is held to xlwings' real signatures by tests/test_excel_double.py. The workbook files,
the audit log and the seen state are real. Nothing here ran against real Excel."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from hypothesis import given, strategies as st

import sync.excel.session as session
from audit.log import AuditLog
from sync.cycle import run_cycle
from sync.errors import ExcelClosed, WorkbookBusy
from sync.excel.rectangles import rectangles
from sync.excel.session import ExcelCalls, translated
from sync.excel.target import ExcelTarget, as_typed
from sync.opening import open_target, undo_on
from sync.plan import RuleSettings
from sync.settings import default_data_folder
from sync.xlsx.target import WorkbookTarget, apply_workbook
from tests.conftest import CRM_EN, TODAY, crm_row, fingerprint, write_table
from tests.excel_double import RPC_E_CALL_REJECTED, VBA_E_IGNORE, Desk, com_error

SETTINGS = RuleSettings(today=TODAY, phone_region="CN")
SHEET = "Customers"


def messy(tmp_path):
    return write_table(tmp_path / "c.xlsx", CRM_EN, [
        crm_row(name="ANN LEE", phone="138 0013 8000", email=" Ann@Example.COM", tier="vip",
                notes="keep this note"),
        crm_row(name="bob stone", phone="139-0013-9000", email="bob@example.com"),
        crm_row(name="Cy", email="not an email"),
    ])


def live(desk: Desk) -> ExcelTarget:
    return ExcelTarget(desk.book, desk.model.path, calls=ExcelCalls("test", sleep=lambda s: None))


def cycle(desk: Desk, between=lambda step: None):
    path = desk.model.path
    return run_cycle(live(desk), SETTINGS, default_data_folder(path), between=between)


def cells(desk: Desk) -> dict:
    return dict(desk.model.cells[SHEET])


def covered(desk: Desk) -> set[tuple[int, int]]:
    """Every cell the double's writes covered."""
    from openpyxl.utils.cell import range_boundaries
    out = set()
    for sheet, address, _ in desk.model.writes:
        if sheet != SHEET:
            continue
        c1, r1, c2, r2 = range_boundaries(address.replace("$", ""))
        out |= {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
    return out


@pytest.fixture
def desk(tmp_path):
    d = Desk(messy(tmp_path))
    yield d
    d.lock.unlink(missing_ok=True)


def test_a_cycle_cleans_the_open_book_and_leaves_the_file_to_the_person(desk):
    path = desk.model.path
    on_disk = fingerprint(path)
    before = cells(desk)
    result = cycle(desk)
    assert result.batch and result.written == len(result.plan.changes) > 0
    # In the open book, as text where text was meant: the phone is not made a number.
    assert desk.value(SHEET, "A2") == "C-000001" and desk.value(SHEET, "B2") == "Ann Lee"
    assert desk.value(SHEET, "E2") == "+8613800138000"
    assert desk.value(SHEET, "F2") == "Ann@example.com"
    assert desk.value(SHEET, "R2") == "keep this note"
    assert "Email: not a valid email address" in desk.value(SHEET, "S4")
    # sheetkeeper does not save: the file is as the person last saved it.
    assert fingerprint(path) == on_disk
    # Only the cells that change were written, as rectangles, with screen updating off, and
    # screen updating is as it was afterwards.
    after = cells(desk)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert covered(desk) == changed
    assert len(desk.model.writes) < len(changed)
    assert all(not updating for _, _, updating in desk.model.writes)
    assert desk.model.screen_updating is True
    # The audit log says where it went.
    with AuditLog(default_data_folder(path) / "audit.sqlite3") as log:
        assert log.batch_info(result.batch)[4] == "written"
        note = log.db.execute("SELECT note FROM batches WHERE id = ?",
                              (result.batch,)).fetchone()[0]
        assert "written into the workbook open in Excel, not saved" in note
        assert log.verify() is None


def test_the_table_is_read_in_one_call_and_a_quiet_book_is_not_written(desk):
    cycle(desk)
    desk.model.reads.clear()
    desk.model.writes.clear()
    again = cycle(desk)
    assert again.batch is None and again.written == 0 and not again.plan.changes
    assert desk.model.writes == []
    assert [r for r in desk.model.reads if r.startswith(SHEET)] == [f"{SHEET}!$A$1:$S$4"]


def test_a_persons_edit_between_read_and_write_is_kept_and_their_row_left_for_later(desk):
    """The guard: a person types into bob's row while the cycle plans; that row is not
    written (its cells are 'moved'), the others are, and what the person typed stands."""
    def person(step):
        if step == "read":
            desk.type(SHEET, "C3", "Acme")
    result = cycle(desk, person)
    assert desk.value(SHEET, "C3") == "Acme"
    assert desk.value(SHEET, "B3") == "bob stone"          # left for the next cycle
    assert desk.value(SHEET, "B2") == "Ann Lee"            # written
    assert result.moved and all(m.startswith("C-") or m.startswith("None") for m in result.moved)
    cycle(desk)
    assert desk.value(SHEET, "B3") == "Bob Stone" and desk.value(SHEET, "C3") == "Acme"


def test_a_persons_edit_after_the_guard_makes_the_commit_write_nothing_then_it_writes_around_it(
        desk):
    """Typed after the guard looked, before the write: the commit's last look sees it, writes
    nothing (the batch is abandoned: the log says nothing reached the book), and the cycle reads
    again and writes around the person's edit."""
    typed = []

    def person(step):
        if step == "pending" and not typed:
            typed.append(1)
            desk.type(SHEET, "B2", "Ann Lee-Smith")
    result = cycle(desk, person)
    assert result.attempts == 2
    assert desk.value(SHEET, "B2") == "Ann Lee-Smith"
    assert desk.value(SHEET, "B3") == "Bob Stone"
    with AuditLog(default_data_folder(desk.model.path) / "audit.sqlite3") as log:
        statuses = [s for (s,) in log.db.execute("SELECT status FROM batches WHERE kind = 'apply' "
                                                 "ORDER BY rowid")]
    assert statuses == ["abandoned", "written"]


def test_edit_mode_is_waited_out_within_bounds(desk):
    desk.editing(calls=3)
    result = cycle(desk)
    assert desk.model.rejected == 3 and result.written > 0


def test_edit_mode_that_lasts_leaves_the_cycle_for_later_with_nothing_written(desk):
    desk.editing(calls=10_000)
    before = cells(desk)
    with pytest.raises(WorkbookBusy, match="busy"):
        cycle(desk)
    assert cells(desk) == before
    assert desk.model.rejected == 8          # ExcelCalls' bound: 8 tries, then later


def test_edit_mode_that_starts_at_the_write_abandons_the_batch(desk):
    def person(step):
        if step == "pending":
            desk.editing(calls=10_000)
    before = cells(desk)
    with pytest.raises(WorkbookBusy):
        cycle(desk, person)
    desk.editing(calls=0)
    assert cells(desk) == before
    with AuditLog(default_data_folder(desk.model.path) / "audit.sqlite3") as log:
        assert [s for (s,) in log.db.execute("SELECT status FROM batches WHERE kind='apply'")] \
            == ["abandoned"]


def test_excel_not_ready_is_waited_out_before_the_write(desk):
    """Excel answers, but Application.Ready is False (a cell being edited): no write is made
    until it is True again, within the same bounds as a rejection."""
    desk.not_ready(checks=3)
    result = cycle(desk)
    assert desk.model.not_ready == 0 and result.written > 0
    assert desk.model.rejected == 0          # told by Ready, not by a refused call
    assert desk.model.writes and desk.value(SHEET, "B2") == "Ann Lee"


def _cut_off_after_the_first_block(desk) -> None:
    """A cycle whose write a person cuts off after its first block (Excel stops being Ready
    then): it is left for later."""
    def person(step):
        if step == "pending":
            model = desk.model
            original = model.writes

            class Watch(list):
                def append(self, item):
                    super().append(item)
                    model.not_ready = 10_000       # after the first part landed
            model.writes = Watch(original)
    with pytest.raises(WorkbookBusy):
        cycle(desk, person)


def test_excel_not_ready_in_the_middle_of_a_write_stops_it_there(desk):
    """Ready is asked before each part (rectangle) of the write: a person starting to edit
    between two parts stops the write there; the cycle reads again, finds Excel still busy and
    is left for later; the next settles what landed and writes the rest."""
    _cut_off_after_the_first_block(desk)
    assert len(desk.model.writes) == 1
    desk.model.writes = list(desk.model.writes)
    desk.not_ready(checks=0)
    assert cycle(desk).written > 0
    assert desk.value(SHEET, "B2") == "Ann Lee" and desk.value(SHEET, "A4")
    with AuditLog(default_data_folder(desk.model.path) / "audit.sqlite3") as log:
        assert log.pending(str(desk.model.path.resolve())) == []
        assert log.verify() is None


def test_excel_not_ready_for_long_leaves_the_cycle_for_later_and_abandons_the_batch(desk):
    desk.not_ready(checks=10_000)
    before = cells(desk)
    with pytest.raises(WorkbookBusy, match="busy"):
        cycle(desk)
    assert cells(desk) == before and desk.model.writes == []
    assert desk.model.not_ready == 10_000 - 8      # ExcelCalls' bound: 8 tries, then later
    with AuditLog(default_data_folder(desk.model.path) / "audit.sqlite3") as log:
        assert [s for (s,) in log.db.execute("SELECT status FROM batches WHERE kind='apply'")] \
            == ["abandoned"]
    desk.not_ready(checks=0)
    assert cycle(desk).written > 0                 # the next cycle does it


def test_excel_without_a_ready_property_is_written_as_before():
    """macOS: Excel's AppleScript dictionary has no `ready`; appscript raises AttributeError,
    and only refused calls tell that a person is editing."""
    from types import SimpleNamespace
    from sync.excel.session import NotReady, ensure_ready
    ensure_ready(SimpleNamespace(api=SimpleNamespace()))
    ensure_ready(SimpleNamespace(api=SimpleNamespace(Ready=True)))
    with pytest.raises(NotReady):
        ensure_ready(SimpleNamespace(api=SimpleNamespace(Ready=False)))
    assert isinstance(translated(NotReady(), "c.xlsx"), WorkbookBusy)


@pytest.mark.parametrize("how", ["closed", "quit"])
def test_a_book_closed_or_excel_quitting_mid_cycle_is_a_clean_error(desk, how):
    def person(step):
        if step == "read":
            desk.close(save=False) if how == "closed" else desk.quit_excel()
    with pytest.raises(ExcelClosed, match="closed in Excel, or Excel quit"):
        cycle(desk, person)
    # The file, the person's saved version, is the target again: cleaned there.
    result = apply_workbook(desk.model.path, SETTINGS)
    assert result.written > 0
    ws = openpyxl.load_workbook(desk.model.path)[SHEET]
    assert ws["B2"].value == "Ann Lee"


def test_undo_on_an_open_book(desk, monkeypatch):
    monkeypatch.setattr(session, "running_apps", lambda: desk.apps)
    result = cycle(desk)
    target = open_target(desk.model.path)
    assert isinstance(target, ExcelTarget)
    done = undo_on(result.batch, default_data_folder(desk.model.path))
    assert done.restored == result.written
    assert desk.value(SHEET, "B2") == "ANN LEE" and desk.value(SHEET, "E2") == "138 0013 8000"
    assert desk.value(SHEET, "A2") is None


def batches(desk: Desk) -> list[tuple[str, str, str, str]]:
    with AuditLog(default_data_folder(desk.model.path) / "audit.sqlite3") as log:
        return log.db.execute("SELECT id, kind, status, note FROM batches ORDER BY rowid"
                              ).fetchall()


def test_closed_with_saving_the_file_has_the_changes_and_the_log_says_it_was_saved(desk):
    first = cycle(desk)
    desk.close(save=True)
    again = apply_workbook(desk.model.path, SETTINGS)
    assert again.batch is None and again.person_batch is None
    (_, kind, _, note), = [b for b in batches(desk) if b[0] != first.batch]
    assert kind == "saved" and note.startswith(f"saved: {first.batch} is in the file")
    assert apply_workbook(desk.model.path, SETTINGS).batch is None
    assert len(batches(desk)) == 2          # said once


def test_closed_without_saving_the_log_says_so_and_the_next_cycle_does_the_changes_again(desk):
    """Excel discarded what sheetkeeper wrote into the open book with the person's own unsaved
    work. The log must not tell that as a person deleting rows or undoing the clean-up: an
    `unsaved` batch puts the written batch's changes back, and the next cycle on the file
    writes them again (with new IDs: a number once given out is never given again)."""
    first = cycle(desk)
    desk.close(save=False)
    again = apply_workbook(desk.model.path, SETTINGS)
    assert again.person_batch is None              # nobody edited anything
    assert again.written == first.written
    ws = openpyxl.load_workbook(desk.model.path)[SHEET]
    assert ws["B2"].value == "Ann Lee" and ws["E2"].value == "+8613800138000"
    kinds = [(kind, note.split(" ")[0:3]) for _, kind, _, note in batches(desk)]
    assert [k for k, _ in kinds] == ["apply", "unsaved", "apply"]
    with AuditLog(default_data_folder(desk.model.path) / "audit.sqlite3") as log:
        unsaved = [e for e in log.entries() if e.rule == "unsaved"]
        written = list(log.entries(batch=first.batch))
        assert len(unsaved) == len(written)
        assert {(e.row_id, e.column, e.after) for e in unsaved} == \
            {(e.row_id, e.column, e.before) for e in written}
        assert log.verify() is None


def test_saved_then_more_written_then_closed_without_saving(desk):
    """Per batch: the one saved into the file is said saved, the later one not."""
    first = cycle(desk)
    desk.save()
    desk.type(SHEET, "B4", "cy young")
    second = cycle(desk)
    assert second.batch and desk.value(SHEET, "B4") == "Cy Young"
    desk.close(save=False)
    apply_workbook(desk.model.path, SETTINGS)
    notes = [note for _, kind, _, note in batches(desk) if kind in ("saved", "unsaved")]
    assert sorted(n.split(" is ")[0].split(" was ")[0] for n in notes) == sorted(
        [f"saved: {first.batch}", f"not saved: {second.batch}"])
    ws = openpyxl.load_workbook(desk.model.path)[SHEET]
    assert ws["B4"].value == "Cy"     # the person's typing went with the unsaved book too


def test_formula_and_error_cells_are_never_written(tmp_path):
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [
        crm_row(name="=UPPER(\"ann\")", email=" Ann@Example.COM"),
        crm_row(name="bob stone")])
    desk = Desk(path)
    desk.show_error(SHEET, "C3", "#N/A")
    cycle(desk)
    assert desk.model.formulas[SHEET][(2, 2)] == '=UPPER("ann")'
    assert (2, 2) not in covered(desk) and (3, 3) not in covered(desk)
    assert desk.value(SHEET, "F2") == "Ann@example.com"
    desk.lock.unlink()


def test_open_target_attaches_where_excel_has_the_book_and_not_otherwise(desk, monkeypatch):
    path = desk.model.path
    # Here, as on any Linux: xlwings reaches no Excel, so the file is the target (and a write
    # waits for the lock file to go).
    assert isinstance(open_target(path), WorkbookTarget)
    monkeypatch.setattr(session, "running_apps", lambda: desk.apps)
    assert isinstance(open_target(path), ExcelTarget)
    desk.lock.unlink()       # closed: no lock file, no attaching
    assert isinstance(open_target(path), WorkbookTarget)


def test_text_goes_in_as_text():
    assert as_typed("+8613800138000") == "'+8613800138000"
    assert as_typed("0012") == "'0012" and as_typed("=1+1") == "'=1+1"
    assert as_typed("TRUE") == "'TRUE" and as_typed("Ann Lee") == "Ann Lee"
    assert as_typed(5) == 5 and as_typed(None) is None
    assert as_typed(dt.date(2024, 3, 5)) == dt.date(2024, 3, 5)


@pytest.mark.parametrize("hresult", [RPC_E_CALL_REJECTED, VBA_E_IGNORE])
def test_excel_rejections_are_told_apart_from_a_book_gone(hresult):
    assert type(translated(com_error(hresult, "x", None, None), "w")) is WorkbookBusy
    # VBA_E_IGNORE also arrives as the excepinfo's scode under DISP_E_EXCEPTION.
    wrapped = com_error(-2147352567, "Exception occurred.", (0, None, None, None, 0, hresult),
                        None)
    assert type(translated(wrapped, "w")) is WorkbookBusy
    gone = com_error(-2147417848, "disconnected", None, None)
    assert isinstance(translated(gone, "w"), ExcelClosed)
    mac = Exception("Command failed: OSERROR: -1743 MESSAGE: not allowed")
    assert "Privacy & Security > Automation" in str(translated(mac, "w"))


cell = st.tuples(st.sampled_from(["A", "B"]), st.integers(1, 12), st.integers(0, 8))


@given(st.sets(cell, max_size=40))
def test_rectangles_cover_exactly_the_cells_written(places):
    cells_in = [(s, r, c, f"{s}{r},{c}") for s, r, c in places]
    got = rectangles(cells_in)
    out = [(rect.sheet, r, c, v) for rect in got for r, c, v in rect.cells()]
    assert sorted(out) == sorted(cells_in)          # each cell once, none in between
    assert len(got) <= len(cells_in)


def test_a_changed_column_is_one_rectangle():
    got = rectangles([("S", r, 4, r) for r in range(2, 100)] + [("S", 5, 7, "x")])
    assert [(g.top, g.left, g.bottom, g.right) for g in got] == [(2, 4, 99, 4), (5, 7, 5, 7)]


def test_a_snapshot_of_the_file_while_open_follows_what_the_file_holds(desk):
    """The nightly snapshot is of the file as last saved: it does not follow a batch written
    into the open book only; once saved, it does."""
    from audit.snapshots import SnapshotStore
    from sync.xlsx.backup import take_snapshot
    data = default_data_folder(desk.model.path)
    first = cycle(desk)
    snap = take_snapshot(desk.model.path, data, "nightly")
    assert snap.after_batch is None
    desk.close(save=True)
    apply_workbook(desk.model.path, SETTINGS)
    assert take_snapshot(desk.model.path, data, "nightly").after_batch == first.batch
    with SnapshotStore(data) as store:
        assert len(store.list(desk.model.path)) == 2


def test_sheetkeeper_audit_says_the_batch_went_into_the_open_workbook(desk, capsys):
    from service.cli import main
    first = cycle(desk)
    assert main(["audit", str(desk.model.path)]) == 0
    out = capsys.readouterr().out
    assert f"{first.batch}  (written into the workbook open in Excel, not saved: it is in the " \
           "file once the person saves the workbook there)" in out
    assert "sha256" not in out


def test_apply_on_a_workbook_open_in_excel_says_to_save_it_there(desk, monkeypatch, capsys):
    from service.cli import main
    monkeypatch.setattr(session, "running_apps", lambda: desk.apps)
    on_disk = fingerprint(desk.model.path)
    main(["apply", str(desk.model.path)])
    out = capsys.readouterr().out
    assert "Written into the workbook open in Excel, not saved: save it there" in out
    assert desk.value(SHEET, "B2") == "Ann Lee" and fingerprint(desk.model.path) == on_disk


def test_review_listing_a_merge_and_its_undo_in_the_open_book(tmp_path, monkeypatch):
    """The side tabs through the live target: pairs listed on the Review tab, a person's Merge
    carried out (the Merged tab, the kept row), and the merge undone, all in the open book."""
    from sheet_templates import builtin
    from sync.xlsx.install import install_new
    path = install_new(builtin("crm"), tmp_path / "c.xlsx", "en", [
        {"name": "Ann Lee", "phone": "+8613800138000", "email": "ann@example.com",
         "notes": "likes tea"},
        {"name": "Bob Stone", "phone": "+8613900139000"},
        {"name": "Ann  Lee", "phone": "138 0013 8000", "title": "Buyer"}])
    desk = Desk(path)
    cycle(desk)                                  # IDs first
    cycle(desk)                                  # then the pair, on the Review tab
    assert desk.value("Review", "A2") == "C-000001 + C-000003"
    desk.type("Review", "K2", "Merge")
    result = cycle(desk)
    assert len(result.merges) == 1
    assert desk.value(SHEET, "D2") == "Buyer" and desk.value(SHEET, "A4") == "C-000003"
    assert desk.value("Merged", "A2") == "C-000003"
    assert str(desk.value("Review", "L2")).startswith("merged")
    monkeypatch.setattr(session, "running_apps", lambda: desk.apps)
    undo = undo_on(result.merges[0], default_data_folder(path))
    assert not undo.skipped
    assert desk.value(SHEET, "D2") is None and desk.value(SHEET, "B4") == "Ann Lee"
    assert desk.value("Merged", "A2") is None
    desk.lock.unlink()


def test_a_purchase_typed_in_the_open_book_rolls_up_into_the_customer_row(tmp_path):
    """The ledger tabs through the live target: a purchase typed on the Purchases tab of the
    open book is tied to its customer by phone (the ID written into the line) and rolled up
    into the customer's row, in the open book."""
    from tests.test_ledgers import ANN, BOB, workbook
    path = workbook(tmp_path, [ANN, BOB])
    desk = Desk(path)
    cycle(desk)
    desk.type("Purchases", "A2", dt.datetime(2026, 11, 20))
    desk.type("Purchases", "C2", "'138 0013 8000")          # her phone, as she says it
    desk.type("Purchases", "D2", "Tea")
    desk.type("Purchases", "E2", 1)
    desk.type("Purchases", "F2", 128)
    result = cycle(desk)
    assert result.batch is not None
    assert desk.value("Purchases", "B2") == "C-000001"
    headers = [desk.value(SHEET, f"{c}1") for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    spend = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[headers.index("Total spend")]
    assert desk.value(SHEET, f"{spend}2") == 128
    assert cycle(desk).batch is None                       # nothing new: nothing written
    desk.lock.unlink()


def test_a_write_cut_off_part_way_is_settled_cell_by_cell(desk):
    """Open in Excel, a batch goes in a block at a time: cut off after its first block, the
    cells that landed are recorded as sheetkeeper's own (a batch of their own, written) and the
    rest abandoned, so the next cycle neither takes them for a person's edits nor gives their
    rows new IDs."""
    _cut_off_after_the_first_block(desk)
    desk.model.writes = list(desk.model.writes)
    desk.not_ready(checks=0)
    ids_before = [desk.value(SHEET, f"A{r}") for r in range(2, 6)]
    result = cycle(desk)
    assert result.person_batch is None                  # nothing taken for a person's
    with AuditLog(default_data_folder(desk.model.path) / "audit.sqlite3") as log:
        key = str(desk.model.path.resolve())
        kinds = [(b[2], b[4]) for b in (log.batch_info(x) for x in
                                        dict.fromkeys(e.batch for e in log.entries(
                                            workbook=key)))]
        assert ("apply", "abandoned") in kinds and kinds.count(("apply", "written")) >= 2
        assert not [e for e in log.entries(workbook=key) if e.actor == "person"]
    # An ID that landed in the first block stays the row's: none given out again.
    assert [desk.value(SHEET, f"A{r}") for r in range(2, 6) if ids_before[r - 2]] == \
        [i for i in ids_before if i]
