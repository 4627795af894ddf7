"""The duplicate review queue: listing, Merge, Keep both, auto-merge, and undoing a merge."""

import openpyxl
import pytest

from audit.log import AuditLog
from sheet_templates import builtin
from sync.opening import undo_on as undo_batch
from sync.xlsx.target import apply_workbook
from sync.plan import RuleSettings
from sync.xlsx.install import install_new
from tests.conftest import TODAY

SETTINGS = RuleSettings(today=TODAY, phone_region="CN")
_HEADERS = [c.header("en") for c in builtin("crm").columns]
NOTES, FINDINGS = _HEADERS.index("Notes"), _HEADERS.index("Findings")
MERGED_INTO = len(_HEADERS)          # the Merged tab: every column, then where it went
NOTES_AT = openpyxl.utils.get_column_letter(NOTES + 1)


@pytest.fixture
def workbook(tmp_path):
    path = install_new(builtin("crm"), tmp_path / "c.xlsx", "en", [
        {"name": "Ann Lee", "phone": "+8613800138000", "email": "ann@example.com",
         "company": "Acme", "notes": "likes tea"},
        {"name": "Bob Stone", "phone": "+8613900139000", "email": "bob@example.com"},
        {"name": "Ann  Lee", "phone": "138 0013 8000", "email": "ann.lee@work.com",
         "title": "Buyer", "notes": "second entry"},
        {"name": "Robert Stone", "phone": "+8613700137000", "email": "bob@example.com"},
    ])
    apply_workbook(path, SETTINGS)          # IDs first
    apply_workbook(path, SETTINGS)          # then the pairs, by ID, on the Review tab
    return path


def sheet(path, name):
    return openpyxl.load_workbook(path)[name]


def review_lines(path):
    ws = sheet(path, "Review")
    return {r[0].value: [c.value for c in r] for r in ws.iter_rows(min_row=2) if r[0].value}


def decide(path, pair, decision):
    book = openpyxl.load_workbook(path)
    ws = book["Review"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == pair:
            row[10].value = decision
    book.save(path)


def table(path):
    ws = sheet(path, "Customers")
    return [[c.value for c in r] for r in ws.iter_rows(min_row=2)]


def test_pairs_are_listed_once_by_id(workbook):
    lines = review_lines(workbook)
    assert set(lines) == {"C-000001 + C-000003", "C-000002 + C-000004"}
    ann = lines["C-000001 + C-000003"]
    assert ann[1] == "certain" and ann[4] == "C-000001" and ann[7] == "C-000003"
    assert "same Phone" in ann[3] and "+8613800138000" in ann[6]
    findings = table(workbook)[0][FINDINGS]
    assert "[Duplicate] certain duplicate of C-000003" in findings
    before = workbook.stat().st_mtime_ns
    apply_workbook(workbook, SETTINGS)
    assert workbook.stat().st_mtime_ns == before          # a settled listing writes nothing


def test_merge_then_undo(workbook):
    before = table(workbook)
    decide(workbook, "C-000001 + C-000003", "Merge")
    result = apply_workbook(workbook, SETTINGS)
    assert len(result.merges) == 1
    assert result.person_batch is None                 # sheetkeeper's merge is not a person's
    rows = table(workbook)
    kept, gone = rows[0], rows[2]
    assert kept[0] == "C-000001" and kept[3] == "Buyer"            # filled from the other row
    assert kept[5] == "ann@example.com"                           # the kept row's value stays
    assert "Merged from C-000003" in kept[NOTES] and "ann.lee@work.com" in kept[NOTES]
    assert "second entry" in kept[NOTES] and kept[NOTES].startswith("likes tea")
    assert gone[0] == "C-000003" and gone[FINDINGS] == "Merged into C-000001 (Merged)"
    assert all(v is None for v in gone[1:18])                     # cleared, not deleted
    merged = [[c.value for c in r] for r in sheet(workbook, "Merged").iter_rows(min_row=2)]
    assert merged[0][0] == "C-000003" and merged[0][5] == "ann.lee@work.com"
    assert merged[0][MERGED_INTO] == "C-000001"
    assert review_lines(workbook)["C-000001 + C-000003"][11].startswith("merged")
    undo = undo_batch(result.merges[0], workbook.parent / ".sheetkeeper")
    assert not undo.skipped
    after_undo = table(workbook)
    # Both rows as they were just before the merge (the later apply only refreshed findings).
    assert after_undo[0][:18] == before[0][:18] and after_undo[2][:18] == before[2][:18]
    assert not any(c.value for r in sheet(workbook, "Merged").iter_rows(min_row=2) for c in r)
    line = review_lines(workbook)["C-000001 + C-000003"]
    assert line[10] is None and line[11] is None                  # back in the queue
    again = apply_workbook(workbook, SETTINGS)
    assert table(workbook)[2][0] == "C-000003"                    # not merged again
    assert again.person_batch is None           # what the undo put back is not a person's
    with AuditLog(workbook.parent / ".sheetkeeper" / "audit.sqlite3") as log:
        assert log.verify() is None


def test_keep_both_is_remembered_even_after_edits(workbook):
    decide(workbook, "C-000002 + C-000004", "Keep both")
    apply_workbook(workbook, SETTINGS)
    assert review_lines(workbook)["C-000002 + C-000004"][11].startswith("kept both")
    book = openpyxl.load_workbook(workbook)
    book["Customers"]["B5"] = "Bobby Stone"                       # edits after the decision
    book.save(workbook)
    result = apply_workbook(workbook, SETTINGS)
    assert not any({d.ids[0], d.ids[1]} == {"C-000002", "C-000004"}
                   for d in result.plan.duplicates)
    assert "C-000004" not in (table(workbook)[1][FINDINGS] or "")


def test_auto_merge_certain(tmp_path):
    path = install_new(builtin("crm"), tmp_path / "c.xlsx", "en", [
        {"name": "Ann Lee", "email": "ann@example.com"},
        {"name": "Ann Lee", "email": "ANN@example.com", "company": "Acme"}])
    apply_workbook(path, SETTINGS)
    result = apply_workbook(path, SETTINGS, auto_merge="certain")
    assert len(result.merges) == 1
    rows = table(path)
    assert rows[0][2] == "Acme" and all(v is None for v in rows[1][1:18])


def test_a_merge_that_cannot_be_done_is_explained_not_retried_forever(workbook):
    book = openpyxl.load_workbook(workbook)
    del book["Merged"]                                    # an old workbook without the tab
    book.save(workbook)
    decide(workbook, "C-000001 + C-000003", "Merge")
    result = apply_workbook(workbook, SETTINGS)
    assert result.merges == ()
    assert any("install --upgrade" in note for note in result.notes)
    assert table(workbook)[2][0] == "C-000003"            # nothing merged, nothing lost


def test_a_merge_does_not_crowd_out_the_other_changes_of_its_cycle(workbook):
    """One save holds a Merge decision and a new messy phone on another row: the cycle merges
    first, reads again, and must still normalise that phone, though the row has not changed
    since the merge's pass read it."""
    decide(workbook, "C-000001 + C-000003", "Merge")
    book = openpyxl.load_workbook(workbook)
    book["Customers"]["E3"] = "139 0013 9001"            # Bob's phone, typed by a person
    book.save(workbook)
    result = apply_workbook(workbook, SETTINGS)
    assert len(result.merges) == 1 and result.batch
    assert table(workbook)[1][4] == "+8613900139001"


def test_a_merged_away_row_is_judged_as_it_is_left(tmp_path):
    """The rows a merge leaves are judged as they now are, not as the pass before it found
    them: the merged-away row's email, left as typed and flagged then, is gone from the sheet
    (kept on the Merged tab and in the kept row's notes), and no finding says it is still
    there, in this cycle's report or a later one."""
    path = install_new(builtin("crm"), tmp_path / "c.xlsx", "en", [
        {"name": "Ann Lee", "phone": "+8613800138000", "email": "ann@example.com"},
        {"name": "Ann Lee", "phone": "+8613800138000", "email": "ann@@example"}])
    apply_workbook(path, SETTINGS)
    listed = apply_workbook(path, SETTINGS)
    assert any(f.row_id == "C-000002" and f.column == "Email" for f in listed.plan.findings)
    decide(path, "C-000001 + C-000002", "Merge")
    result = apply_workbook(path, SETTINGS)
    assert len(result.merges) == 1 and all(v is None for v in table(path)[1][1:18])
    assert [f for f in result.plan.findings if f.row_number == 3] == []
    assert "ann@@example" in table(path)[0][NOTES]                   # the kept row's notes
    assert [f for f in apply_workbook(path, SETTINGS).plan.findings if f.row_number == 3] == []


def test_a_merge_never_writes_a_formula_cell(workbook):
    """A formula whose value was empty in the kept row was 'filled' from the other row, and the
    merged-away row's formulas were cleared: gone for good, and undo put back cached values
    (issue 24 #4). Formula cells are left as they are, and undo has nothing of theirs to undo."""
    book = openpyxl.load_workbook(workbook)
    ws = book["Customers"]
    ws["P2"] = '=IF(1=1,"","")'          # the kept row: Total spend, computed, empty
    ws["P4"] = 120                        # the other row: a plain value there
    ws["Q4"] = "=UPPER(B4)"               # the other row: Tags, computed
    book.save(workbook)
    apply_workbook(workbook, SETTINGS)
    decide(workbook, "C-000001 + C-000003", "Merge")
    result = apply_workbook(workbook, SETTINGS)
    assert len(result.merges) == 1
    ws = sheet(workbook, "Customers")
    assert ws["P2"].value == '=IF(1=1,"","")' and ws["Q4"].value == "=UPPER(B4)"
    with AuditLog(workbook.parent / ".sheetkeeper" / "audit.sqlite3") as log:
        written = {(e.row_id, e.column) for e in log.entries(batch=result.merges[0])}
    assert ("C-000001", "Total spend") not in written and ("C-000003", "Tags") not in written
    undo_batch(result.merges[0], workbook.parent / ".sheetkeeper")
    ws = sheet(workbook, "Customers")
    assert ws["P2"].value == '=IF(1=1,"","")' and ws["Q4"].value == "=UPPER(B4)"


def test_a_merge_keeps_every_cell_within_what_a_cell_holds(workbook):
    """Merging two rows with long notes wrote a 33,552-character Notes cell, past Excel's
    32,767 (issue 24 #11). The kept row points to the Merged tab, which has the other row
    whole."""
    book = openpyxl.load_workbook(workbook)
    ws = book["Customers"]
    ws[f"{NOTES_AT}2"] = "k" * 3_000
    ws[f"{NOTES_AT}4"] = "g" * 30_000
    book.save(workbook)
    apply_workbook(workbook, SETTINGS)
    decide(workbook, "C-000001 + C-000003", "Merge")
    result = apply_workbook(workbook, SETTINGS)
    assert len(result.merges) == 1
    with AuditLog(workbook.parent / ".sheetkeeper" / "audit.sqlite3") as log:
        written = [e.after for e in log.entries(batch=result.merges[0])]
    assert max(len(str(v)) for v in written if v is not None) <= 32_767
    notes = sheet(workbook, "Customers")[f"{NOTES_AT}2"].value
    assert notes.startswith("k" * 3_000) and "Merged tab" in notes
    merged = [[c.value for c in r] for r in sheet(workbook, "Merged").iter_rows(min_row=2)]
    assert merged[0][0] == "C-000003" and merged[0][NOTES] == "g" * 30_000
