"""Properties of an import on a real workbook, over lists and files hypothesis makes from small
pools (so that phones, emails and names meet): nothing typed in the list is overwritten (Notes
only grow), and import then undo gives back the exact list it started from."""
from __future__ import annotations

import csv
import datetime as dt
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from sync.importing.run import import_file
from sync.opening import open_target, undo_on
from sync.plan import RuleSettings

from .conftest import CRM_EN, crm_row, write_table

NAMES = ["Zhang Wei", "zhang wei", "Ann Lee", "Bob Stone", "李娜", "Mary Smith", ""]
PHONES = ["+8613800138000", "138 0013 8000", "13600136000", "+8613900139000", "12", ""]
EMAILS = ["ann@lee.example", "ANN@lee.example", "bob@stone.example", "bad@", ""]
WORDS = ["Acme", "Lee Co", "Buyer", "", "", "1 Road"]
SETTINGS = RuleSettings(today=dt.date(2026, 11, 23), phone_region="CN")

person = st.fixed_dictionaries({"name": st.sampled_from(NAMES), "phone": st.sampled_from(PHONES),
                                "email": st.sampled_from(EMAILS),
                                "company": st.sampled_from(WORDS),
                                "title": st.sampled_from(WORDS), "notes": st.sampled_from(WORDS)})


def _list(folder: Path, people: list[dict]) -> Path:
    rows = [crm_row(customer_id=f"C-{n + 1:06d}", **p) for n, p in enumerate(people)
            if any(p.values())]
    return write_table(folder / "list.xlsx", CRM_EN, rows)


def _file(folder: Path, people: list[dict]) -> Path:
    path = folder / "in.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\r\n")
        out.writerow(["Name", "Mobile", "Email", "Company", "Title", "Notes"])
        for p in people:
            out.writerow([p["name"], p["phone"], p["email"], p["company"], p["title"],
                          p["notes"]])
    return path


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(person, max_size=4), st.lists(person, min_size=1, max_size=6))
def test_nothing_typed_is_overwritten_and_undo_restores_the_exact_list(listed, incoming):
    folder = Path(tempfile.mkdtemp())
    try:
        book, data = _list(folder, listed), folder / "data"
        before = open_target(book).read()
        result = import_file(_file(folder, incoming), open_target(book), SETTINGS, data)
        after = open_target(book).read()
        notes = before.layout.headers.index("Notes")
        for old, new in zip(before.rows, after.rows):
            for j, value in enumerate(old):
                if value in (None, ""):
                    continue
                if j == notes:
                    assert str(new[j]).startswith(str(value))
                else:
                    assert new[j] == value
        if result.batch is None:
            return
        undone = undo_on(result.batch, data)
        assert not undone.skipped
        again = open_target(book).read()
        assert again.rows == before.rows and again.row_numbers == before.row_numbers
    finally:
        shutil.rmtree(folder, ignore_errors=True)
