"""Bad input: a one-line message that says what is wrong and what to do, exit 2 for errors (1 for
findings), never a traceback, and never a change to the file."""
import signal
import zipfile

import pytest

import openpyxl
from msoffcrypto.format.ooxml import OOXMLFile

from sheet_templates import builtin
from sync.xlsx_install import install_new
from tests.conftest import CRM_EN, crm_row, fingerprint, run_cli, write_table


def assert_refused(path, *words, code=2):
    before = fingerprint(path) if path.is_file() else None
    result = run_cli("check", str(path))
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    if before:
        assert fingerprint(path) == before
    return lines[0]


def test_text_file(tmp_path):
    path = tmp_path / "list.xlsx"
    path.write_text("Name,Phone\nAnn,123\n")
    assert_refused(path, "not an Excel workbook", "CSV", "save it as .xlsx")


def test_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    assert_refused(empty, "empty (0 bytes)")
    assert_refused(tmp_path / "nope.xlsx", "no such file")
    assert_refused(tmp_path, "is a folder")


def test_corrupt_workbook(tmp_path):
    good = write_table(tmp_path / "good.xlsx", CRM_EN, [crm_row(name="Ann")])
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(good.read_bytes()[:2000])
    assert_refused(truncated, "damaged")
    mangled = tmp_path / "mangled.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(mangled, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            dst.writestr(item, data)
    assert_refused(mangled, "cannot be read", "repair")


def test_legacy_xls_container(tmp_path):
    path = tmp_path / "old.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024)
    assert_refused(path, ".xls", "save it as .xlsx")


def test_password_protected_workbook(tmp_path):
    plain = write_table(tmp_path / "plain.xlsx", CRM_EN, [crm_row(name="Ann")])
    locked = tmp_path / "locked.xlsx"
    with open(plain, "rb") as f, open(locked, "wb") as out:
        OOXMLFile(f).encrypt("secret", out)
    assert_refused(locked, "password-protected", "unprotected copy")


def test_no_recognisable_header(tmp_path):
    path = write_table(tmp_path / "c.xlsx", ["Foo", "Bar", "Baz"], [[1, 2, 3]])
    assert_refused(path, "no header row found", "Name, Company", "姓名")


def test_same_header_twice(tmp_path):
    path = write_table(tmp_path / "c.xlsx", ["Name", "Phone", "Email", "Phone"], [["a", 1, 2, 3]])
    assert_refused(path, "columns B and D both have the header 'Phone'", "rename one")


def test_merged_cells_inside_the_table(tmp_path):
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [crm_row(name="Ann"), crm_row(name="Bob")])
    book = openpyxl.load_workbook(path)
    book["Customers"].merge_cells("B2:C3")
    book.save(path)
    assert_refused(path, "cells B2:C3", "merged inside the table", "unmerge")


def test_unknown_sheet(tmp_path):
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [crm_row(name="Ann")])
    result = run_cli("check", str(path), "--sheet", "Clients")
    assert result.returncode == 2 and "no sheet called 'Clients'" in result.stderr
    assert "Customers" in result.stderr


def test_bad_arguments_are_explained(tmp_path):
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [crm_row(name="Ann")])
    result = run_cli("check", str(path), "--region", "XX")
    assert result.returncode == 2 and "two-letter country code" in result.stderr
    result = run_cli("check", str(path), "--paused-days", "300")
    assert result.returncode == 2 and "paused_days < churned_days" in result.stderr
    assert "Traceback" not in result.stderr


def test_huge_cells_emoji_and_right_to_left_text_are_findings_not_crashes(tmp_path):
    path = tmp_path / "c.xlsx"
    install_new(builtin("crm"), path, "en", [
        {"customer_id": "C-000001", "name": "x" * 30_000, "email": "a@example.com",
         "notes": "y" * 30_000},
        {"customer_id": "C-000002", "name": "محمد علي", "email": "m@example.com",
         "phone": "📞 +1 650 253 0000", "company": "שלום בע״מ 🙂"},
        {"customer_id": "C-000003", "name": "Anna 😀", "email": "anna@example.com"},
    ])
    before = fingerprint(path)
    result = run_cli("check", str(path), "--report", "json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert fingerprint(path) == before
    import json
    report = json.loads(result.stdout)
    kinds = {(f["row_number"], f["column"], f["kind"]) for f in report["findings"]}
    assert (2, "Name", "invalid_name") in kinds
    assert (3, "Phone", "invalid_phone") in kinds
    assert not any(f["row_number"] == 4 for f in report["findings"])
    assert not any(c["column"] in ("Notes", "Company") for c in report["changes"])


@pytest.mark.parametrize("rule, value, kind", [
    # Each took from seconds to minutes: a pattern backtracked through every split of the run.
    ("phone", "1" * 30_000 + "x", "invalid_phone"),
    ("phone", "1" + " " * 30_000 + "1x", "invalid_phone"),
    ("money", "1" * 8 + " " * 30_000 + "1" * 6 + "x", "invalid_money"),
    ("money", "1" * 8 + "\n \n" * 10_000 + "1x", "invalid_money"),
])
def test_a_30000_character_cell_is_judged_at_once(rule, value, kind):
    """A long cell gets its finding in linear time. The alarm only turns a hang (the old
    patterns took 22 s and more on these) into a failure; it is not a speed target."""
    from rules.money import normalise_money
    from rules.phone import normalise_phone
    judge = {"phone": lambda v: normalise_phone(v, "CN"), "money": normalise_money}[rule]

    def hung(signum, frame):
        raise TimeoutError(f"the {rule} rule is still matching a {len(value):,}-character cell")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(5)
    try:
        outcome = judge(value)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert outcome.kind == kind
