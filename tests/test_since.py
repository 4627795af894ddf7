"""What changed since the last state seen, in one pass: held to a plain cell-by-cell reading of
what it promises (the person edits, and the rows and cells judged already), over random lists
with blank and repeated IDs, added and removed rows, readings of one value as another type
(5.0 and 5, a date and its midnight), columns the last cycle did not have, and flagged cells."""
from __future__ import annotations

import datetime as dt

from hypothesis import given, strategies as st

from sheet_templates import builtin
from sync.cells import differs, plain
from sync.diff import row_text, table_changes
from sync.seen import ABSENT, Seen
from sync.since import since_last
from sync.table import Layout, SheetTable

HEADERS = ("Customer ID", "Name", "Phone", "", "Findings")   # "" : a column with no header
OWN = {"Findings"}
RULES = "rules#1"

values = st.sampled_from([None, "", "Ann", "ann", 5, 5.0, 6.5,
                          dt.date(2026, 1, 2), dt.datetime(2026, 1, 2), dt.datetime(2026, 1, 2, 9)])
ids = st.sampled_from([None, "C-1", "C-2", "C-3", "C-4", "C-5"])


@st.composite
def cases(draw):
    now_ids = draw(st.lists(ids, max_size=8))
    rows = tuple((rid, *draw(st.lists(values, min_size=4, max_size=4))) for rid in now_ids)
    # The last cycle's headers: maybe without Phone (a column added since).
    last_headers = draw(st.sampled_from([HEADERS, ("Customer ID", "Name", "", "Findings")]))
    before = {rid: tuple(rid if h == "Customer ID" else draw(values) for h in last_headers)
              for rid in draw(st.sets(st.sampled_from(["C-1", "C-2", "C-3", "C-4", "C-6"])))}
    # Some of the last reading's rows equal to this one's, as most are.
    for rid, *cells in rows:
        if rid in before and last_headers == HEADERS and draw(st.booleans()):
            before[rid] = (rid, *cells)
    named = [h for h in last_headers if h]
    flagged = {rid: draw(st.lists(st.sampled_from(named), max_size=2, unique=True))
               for rid in before if draw(st.booleans())}
    problems = {rid: {h: ["invalid", "why"] for h in draw(st.sets(st.sampled_from(named)))}
                for rid in before if draw(st.booleans())}
    judged_by = draw(st.sampled_from([RULES, "other rules"]))
    last = Seen(before, flagged, judged_by, problems=problems, headers=last_headers)
    return rows, last


def table_of(rows) -> SheetTable:
    layout = Layout(builtin("crm"), "en", 1, HEADERS, 0, {"customer_id": 0})
    return SheetTable("test.xlsx", "Customers", layout, rows, tuple(range(2, 2 + len(rows))))


@given(cases())
def test_one_pass_says_what_a_cell_by_cell_reading_says(case):
    rows, last = case
    table = table_of(rows)
    row_ids = [r[0] for r in rows]
    as_read = {rid: row for rid, row in zip(row_ids, rows) if rid}
    aligned = last.aligned(table.layout)
    judged, edits = since_last(table, row_ids, as_read, aligned, RULES, OWN)

    # Person edits: per ID, as `as_read` holds it (the last row of a repeated ID), in the
    # order IDs first appear; then the rows removed.
    expected = []
    for rid, now in as_read.items():
        old = aligned.rows.get(rid)
        if old is None:
            expected.append((rid, "(row)", None, row_text(HEADERS, now)))
            continue
        for j, h in enumerate(HEADERS):
            if not h or h in OWN:
                continue
            was = None if old[j] is ABSENT else old[j]
            if differs(was, now[j]):
                expected.append((rid, h, plain(was), plain(now[j])))
    removed = set(aligned.rows) - set(as_read)
    got = [(e.row_id, e.column, e.before, e.after) for e in edits]
    assert got[:len(expected)] == expected
    assert {e.row_id for e in edits[len(expected):]} == removed
    assert all(e.column == "(row)" and e.after is None for e in edits[len(expected):])

    if last.judged_by != RULES:
        assert judged == (frozenset(), frozenset(), {})
        return
    repeated = {rid for rid in row_ids if row_ids.count(rid) > 1}
    assert judged.rows == {i for i, rid in enumerate(row_ids)
                           if rid and rid in aligned.rows and rid not in repeated}
    for i in judged.rows:
        rid, old, now = row_ids[i], aligned.rows[row_ids[i]], rows[i]
        again = {j for j, h in enumerate(HEADERS) if h and (
            differs(old[j], now[j]) or h in aligned.flagged.get(rid, ()))}
        assert {j for (k, j) in judged.recheck if k == i} == again
        stated = {j: why for (k, j), why in judged.restate.items() if k == i}
        assert stated == {HEADERS.index(h): tuple(why)
                          for h, why in aligned.problems.get(rid, {}).items()
                          if HEADERS.index(h) not in again}
    assert {i for i, _ in judged.recheck} <= judged.rows
    assert {i for i, _ in judged.restate} <= judged.rows


def entry(seq, rid, column, after, rule="edit", sheet="Customers"):
    from audit.log import AuditEntry
    return AuditEntry(seq, "2026-11-23T10:00:00+00:00", "c.xlsx", sheet, rid, column, None,
                      after, rule, "why", "b1", "person")


def test_folding_in_what_was_logged_since_makes_the_rows_the_workbook_now_has():
    """Each kind of logged change, folded into the last rows in order: what the workbook came
    to hold through it, and the cells no cycle judged as they now are."""
    from sync.seen import folded
    headers = ("Customer ID", "Name", "Phone", "")
    rows = {"C-1": ("C-1", "Ann", "1"), "C-2": ("C-2", "Bob", None), "C-3": ("C-3", "Cy", "3")}
    fresh = {"C-1": ("C-1", "Ann Lee", "1"), "C-4": ("C-4", "Dee", None),
             "C-5": ("C-5", "Eve", "5"), "C-9": ("C-9", "Nine", None)}
    entries = [
        entry(1, "C-1", "Name", "Ann Lee"),                    # a cell
        entry(2, "C-2", "(row)", None),                        # a row removed
        entry(3, "C-3", "Customer ID", None, rule="undo"),     # its ID taken away by an undo
        entry(4, "C-4", "(row)", "added"),                     # a row added, still there
        entry(5, "C-6", "(row)", "added"),                     # added, gone again since
        entry(6, "C-5", "Customer ID", "C-5", rule="id"),      # given its ID
        entry(7, "C-5", "Phone", "+445", rule="phone"),        # and a cell of it after
        entry(8, "C-1", "Phone", 5.0),                         # a number read back as float
        entry(9, None, "Name", "no ID"),                       # a row without an ID: nothing
        entry(10, "C-7", "Name", "not there"),                 # a row neither had: nothing
    ]
    layout = Layout(builtin("crm"), "en", 1, headers, 0,
                    {"customer_id": 0, "name": 1, "phone": 2})
    out, again = folded(rows, layout, "Customer ID", entries, fresh)
    assert out == {"C-1": ("C-1", "Ann Lee", 5), "C-4": ("C-4", "Dee", None),
                   "C-5": ("C-5", "Eve", "+445")}
    assert again == {"C-1": ["Name", "Phone"], "C-4": ["Customer ID", "Name", "Phone"],
                     "C-5": ["Customer ID", "Name", "Phone"]}
    assert rows["C-1"] == ("C-1", "Ann", "1")                 # the last rows, left as they were


def test_a_removed_row_is_logged_the_same_way_by_a_cycle_and_by_a_restore():
    """One format for a whole row in the log (the cycle's JSON and the restore's own text
    were two), readable back with its types: a date stays a date."""
    import json
    from audit.log import decode_value
    rows = (("C-1", "Ann", "+441", None, None), ("C-2", "Bob", dt.date(2026, 1, 2), None, "x"))
    old, new = table_of(rows), table_of(rows[:1])
    last = Seen({r[0]: r for r in rows}, {}, RULES, headers=HEADERS)
    _, edits = since_last(new, ["C-1"], {"C-1": rows[0]}, last, RULES, OWN)
    (by_cycle,) = [e.before for e in edits if e.column == "(row)"]
    (by_restore,) = [before for _, column, before, _ in table_changes(old, new)
                     if column == "(row)"]
    assert by_cycle == by_restore
    cells = {h: decode_value(v) for h, v in json.loads(by_cycle).items()}
    assert cells == {"Customer ID": "C-2", "Name": "Bob", "Phone": dt.date(2026, 1, 2),
                     "Findings": "x"}
