"""The review queue, merges and undo on a Google Sheet, against the emulator through the real
gspread client: the same cycle as for a workbook, each cycle at most four requests, a merge
whole or not at all, and a batch whose answer was lost settled from the cells."""
from __future__ import annotations

import datetime as dt

import pytest

from audit.log import AuditLog
from sheet_templates import builtin
from sync.errors import GoogleUnavailable
from sync.undo import undo_batch
from sync.gsheets.target import GoogleTarget, apply_google, sheet_key
from sync.plan import RuleSettings

from .fakesheets import installed_sheet
from .fakesheets import state as fake

SETTINGS = RuleSettings(today=dt.date(2026, 11, 23), phone_region="CN")
KEYS = [c.key for c in builtin("crm").columns]


def row(**values):
    out = [""] * len(KEYS)
    for key, value in values.items():
        out[KEYS.index(key)] = value
    return out


@pytest.fixture
def sheet(server):
    return installed_sheet(server, [
        row(name="Anna Berg", company="Acme", phone="13800138000", email="anna@acme.com"),
        row(name="Anna Berg", company="Acme Ltd", title="CTO", email="anna@acme.com",
            notes="met at the fair"),
        row(name="Li Wei", email="li@example.com"),
    ])


def grid(sheet, tab):
    """A tab's values with Google's trailing empties trimmed: what a person sees."""
    rows = [[v for v in r] for r in sheet.read([tab])[tab]]
    rows = [r[:max((j + 1 for j, v in enumerate(r) if v not in (None, "")), default=0)]
            for r in rows]
    while rows and not rows[-1]:
        rows.pop()
    return rows


def review_line(sheet, pair):
    rows = sheet.read(["Review"])["Review"]
    header = rows[0]
    for number, r in enumerate(rows[1:], start=2):
        if r and r[0] == pair:
            return number, dict(zip(header, r))
    return None, None


def decide(sheet, pair, decision):
    number, _ = review_line(sheet, pair)
    column = chr(65 + review_headers().index("Decision"))
    sheet.spreadsheet.worksheet("Review").update([[decision]], f"{column}{number}")


def review_headers():
    from sheet_templates.presentation import review_headers as headers
    return headers(builtin("crm"), "en")


def settle_ids(sheet, tmp_path):
    """First cycles: IDs given out, then the pair listed on the Review tab."""
    apply_google(sheet, SETTINGS, tmp_path)
    listed = apply_google(sheet, SETTINGS, tmp_path)
    assert listed.batch is not None
    return listed


def test_a_pair_is_listed_merged_on_decision_and_undone_exactly(server, sheet, tmp_path):
    settle_ids(sheet, tmp_path)
    number, line = review_line(sheet, "C-000001 + C-000002")
    assert line["Kind"] == "certain" and line["ID A"] == "C-000001" and not line.get("Done")
    before = {tab: grid(sheet, tab) for tab in ("Customers", "Merged")}

    decide(sheet, "C-000001 + C-000002", "Merge")
    start = len(server.faults.log)
    merged = apply_google(sheet, SETTINGS, tmp_path)
    assert merged.merges and merged.requests == len(server.faults.log) - start <= 4
    table = grid(sheet, "Customers")
    kept, gone = table[1], table[2]
    assert kept[KEYS.index("title")] == "CTO"                      # filled from the other row
    assert "Company: Acme Ltd" in kept[KEYS.index("notes")]        # a differing value kept
    assert "met at the fair" in kept[KEYS.index("notes")]
    assert gone[0] == "C-000002" and "C-000001" in gone[KEYS.index("findings")]
    assert [v for v in gone[1:KEYS.index("findings")] if v not in (None, "")] == []
    moved = grid(sheet, "Merged")[1]
    assert moved[0] == "C-000002" and "Acme Ltd" in moved and "CTO" in moved
    assert review_line(sheet, "C-000001 + C-000002")[1]["Done"].startswith("merged")
    assert apply_google(sheet, SETTINGS, tmp_path).merges == ()   # done once, not again

    target = GoogleTarget(sheet)
    undone = undo_batch(merged.merges[0], tmp_path, lambda key, tab: target)
    assert undone.restored and not undone.skipped
    caught_up = apply_google(sheet, SETTINGS, tmp_path)   # the Findings column catches up
    assert caught_up.person_batch is None         # what the undo put back is not a person's
    assert {tab: grid(sheet, tab) for tab in ("Customers", "Merged")} == before
    _, line = review_line(sheet, "C-000001 + C-000002")
    assert not line.get("Decision")                               # back in the queue, undecided
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        assert log.verify() is None
        assert log.batch_info(undone.batch)[2] == "undo"


def test_a_merged_away_row_is_judged_as_it_is_left(server, tmp_path):
    """The next cycle judges the rows as the merge left them: the merged-away row's invalid
    email went with the rest of the row, and no finding says it is still there."""
    sheet = installed_sheet(server, [
        row(name="Anna Berg", phone="+8613800138000", email="anna@acme.com"),
        row(name="Anna Berg", phone="+8613800138000", email="anna@@acme")])
    listed = settle_ids(sheet, tmp_path)
    assert any(f.row_id == "C-000002" and f.column == "Email" for f in listed.plan.findings)
    decide(sheet, "C-000001 + C-000002", "Merge")
    assert apply_google(sheet, SETTINGS, tmp_path).merges
    after = apply_google(sheet, SETTINGS, tmp_path)
    assert [f for f in after.plan.findings if f.row_number == 3] == []
    assert "anna@@acme" in grid(sheet, "Customers")[1][KEYS.index("notes")]


def test_keep_both_is_remembered_after_edits(server, sheet, tmp_path):
    settle_ids(sheet, tmp_path)
    decide(sheet, "C-000001 + C-000002", "Keep both")
    kept = apply_google(sheet, SETTINGS, tmp_path)
    assert kept.merges and review_line(sheet, "C-000001 + C-000002")[1]["Done"].startswith("kept")
    sheet.spreadsheet.worksheet("Customers").update([["Anna  Berg"]], "B3")
    later = apply_google(sheet, SETTINGS, tmp_path)
    assert all(set(d.ids) != {"C-000001", "C-000002"} for d in later.plan.duplicates)
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        assert frozenset({"C-000001", "C-000002"}) in log.kept_pairs(sheet_key(sheet))


def test_a_merge_is_whole_or_not_at_all_when_a_person_edits_one_row(server, sheet, tmp_path):
    settle_ids(sheet, tmp_path)
    decide(sheet, "C-000001 + C-000002", "Merge")

    def person_edits_the_other_row(method, path):
        if method == "GET" and "values:batchGet" in path and len(server.faults.log) == guard:
            grid = server.state.get(sheet.key).sheet("Customers")
            grid.cells[(2, KEYS.index("tags"))] = fake.Cell("vip", "vip")

    guard = len(server.faults.log) + 3          # tabs, read, then the guard's re-read
    server.faults.before = person_edits_the_other_row
    result = apply_google(sheet, SETTINGS, tmp_path)
    server.faults.before = None
    assert result.merges == ()                                    # nothing of the merge written
    assert grid(sheet, "Customers")[2][KEYS.index("tags")] == "vip"
    assert len(grid(sheet, "Merged")) == 1                        # the header only
    again = apply_google(sheet, SETTINGS, tmp_path)                # the next cycle merges
    assert again.merges
    assert "vip" in grid(sheet, "Merged")[1]


def test_a_batch_whose_answer_was_lost_is_settled_from_the_cells(server, sheet, tmp_path):
    server.faults.next("ok", "ok", "ok", "lost")         # tabs, read, guard: the write's answer
    with pytest.raises(GoogleUnavailable):          # no answer: told as Google's, not raw
        apply_google(sheet, SETTINGS, tmp_path)
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        (pending,) = log.pending(sheet_key(sheet))
    assert grid(sheet, "Customers")[1][0] == "C-000001"            # Google did apply it
    again = apply_google(sheet, SETTINGS, tmp_path)
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        assert log.batch_info(pending)[4] == "written"
        ids = [e for e in log.entries() if e.rule == "id"]
        assert len(ids) == 3                                       # logged once, not twice
        assert again.person_batch is None          # its own write is not taken for a person's
        assert log.verify() is None


def test_a_batch_google_refused_is_settled_abandoned_and_done_again(server, sheet, tmp_path):
    server.faults.next("ok", "ok", "ok", "503")
    with pytest.raises(GoogleUnavailable):
        apply_google(sheet, SETTINGS, tmp_path)
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        (pending,) = log.pending(sheet_key(sheet))
    assert grid(sheet, "Customers")[1][0] in (None, "")
    again = apply_google(sheet, SETTINGS, tmp_path)
    # Done again; the IDs the refused batch would have given are not given twice.
    assert again.batch and grid(sheet, "Customers")[1][0] == "C-000004"
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        assert log.batch_info(pending)[4] == "abandoned"
        assert log.verify() is None


def test_a_review_listing_longer_than_the_tabs_grid_grows_it(server, tmp_path):
    """1,001 pairs need 1,002 Review rows; a new tab has 1,000 and Google refuses a write
    past its grid, so the tab grows first (one request more, in that cycle only)."""
    rows = []
    for n in range(1, 1002):
        rows.append(row(customer_id=f"C-{2 * n - 1:06d}", name=f"Person {n}",
                        email=f"p{n}@example.com"))
        rows.append(row(customer_id=f"C-{2 * n:06d}", name=f"Person {n}",
                        email=f"p{n}@example.com"))
    sheet = installed_sheet(server, rows)
    start = len(server.faults.log)
    first = apply_google(sheet, SETTINGS, tmp_path)
    assert first.batch and first.requests == len(server.faults.log) - start == 5
    review = server.state.get(sheet.key).sheet("Review")
    assert review.rows >= 1002
    assert review.cells[(1001, 0)].value == "C-002001 + C-002002"
    again = apply_google(sheet, SETTINGS, tmp_path)
    assert again.batch is None and again.requests == 2
