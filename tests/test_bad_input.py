"""Bad input: a one-line message that says what is wrong and what to do, exit 2 for errors (1 for
findings), never a traceback, and never a change to the file."""
import json
import re
import signal
import zipfile

import pytest
from hypothesis import given, settings, strategies as st

import openpyxl
from msoffcrypto.format.ooxml import OOXMLFile

from sheet_templates import builtin
from sync.xlsx.install import install_new
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
    # The sheet's compressed bytes damaged in place: the zip's checksum no longer matches.
    raw = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as src:
        info = src.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw[start + info.compress_size // 2] ^= 0xFF
    flipped = tmp_path / "flipped.xlsx"
    flipped.write_bytes(bytes(raw))
    line = assert_refused(flipped, "cannot be read", "repair")
    assert str(flipped) in line


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


def _list_with(path, table_sheet="Customers", **cells):
    """A small crm list, then `cells` (reference -> value, or a fill only where value is
    None) set in the list's sheet unless the reference names another ('Notes_A1')."""
    from openpyxl.styles import PatternFill
    write_table(path, CRM_EN, [crm_row(customer_id=f"C-{i:06d}", name=f"Ann {i}",
                                       email=f"ann{i}@example.com") for i in range(1, 4)],
                sheet=table_sheet)
    book = openpyxl.load_workbook(path)
    for ref, value in cells.items():
        sheet_name, _, cell = ref.rpartition("_")
        ws = book[sheet_name] if sheet_name in book.sheetnames else \
            book.create_sheet(sheet_name) if sheet_name else book[table_sheet]
        if value is None:
            ws[cell].fill = PatternFill("solid", fgColor="FFFF00")
        else:
            ws[cell] = value
    book.save(path)
    return path


def test_a_stray_value_far_from_the_table_is_refused_not_a_crash(tmp_path):
    """calamine reads a sheet as one rectangle from A1 to its farthest value: one stray value
    at XFD1048576 asked for 512 GB and the process was killed (Rust abort, no message)."""
    path = _list_with(tmp_path / "list.xlsx", XFD1048576="oops")
    line = assert_refused(path, "XFD1048576", "row 1,048,576", "Delete the stray values")
    assert line.startswith(f"sheetkeeper check: {path}: sheet 'Customers' reaches too far")
    before = fingerprint(path)
    result = run_cli("apply", str(path))
    assert result.returncode == 2 and "reaches too far" in result.stderr
    assert fingerprint(path) == before


def test_far_formatting_or_a_far_value_on_another_tab_is_no_problem(tmp_path):
    # Formatted-only cells hold no value; calamine skips them, and so does the check.
    formatted = _list_with(tmp_path / "formatted.xlsx", XFD1048576=None)
    assert run_cli("check", str(formatted)).returncode in (0, 1)
    # A far value on a tab that is not the table does not stop the table being found (the
    # table's sheet has a name of its own, so every sheet is looked at).
    other = _list_with(tmp_path / "other.xlsx", "Clients 2024", Notes_XFD1048576="a note")
    result = run_cli("check", str(other), "--report", "json")
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["sheet"] == "Clients 2024"


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 16_383), st.integers(0, 16_383))
def test_the_far_column_pattern_matches_exactly_the_columns_after_the_bound(bound, column):
    from sync.xlsx.package import _columns_after, column_letter
    pattern = re.compile(b"(?:" + _columns_after(bound) + b")")
    assert bool(pattern.fullmatch(column_letter(column).encode())) == (column + 1 > bound)


def _sheet(*cells):
    rows = {}
    for ref, body in cells:
        rows.setdefault(int(re.sub(r"\D", "", ref)), []).append(f'<c r="{ref}"{body}')
    return ("<worksheet><sheetData>" + "".join(
        f'<row r="{r}">{"".join(sorted(c, key=len))}</row>' for r, c in sorted(rows.items()))
        + "</sheetData></worksheet>").encode()


_VALUE, _FORMATTED = "><v>1</v></c>", ' s="3"/>'


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 800), st.integers(1, 40), st.booleans()), min_size=1,
                max_size=12, unique_by=lambda c: c[:2]),
       st.integers(1, 40_000))
def test_far_cell_finds_a_value_beyond_the_rectangle_exactly_when_there_is_one(cells, limit):
    from sync.xlsx.package import column_letter, far_cell
    xml = _sheet(*((f"{column_letter(c)}{r}", _VALUE if v else _FORMATTED) for c, r, v in cells))
    with_value = [(c, r) for c, r, v in cells if v]
    last_row = max((r for _, r in with_value), default=0)
    widest = limit // max(last_row, 1)
    beyond = {f"{column_letter(c)}{r}" for c, r in with_value if c + 1 > widest} \
        if with_value and widest < 16_384 else set()
    found = far_cell(xml, limit)
    assert (found is not None) == bool(beyond)
    assert found is None or (found[0] in beyond and found[1] == last_row)


def test_far_cell_weighs_the_last_row_with_a_value_against_the_columns():
    from sync.xlsx.package import far_cell
    sheet, value, formatted = _sheet, _VALUE, _FORMATTED
    assert far_cell(sheet(("A1", value), ("Z1", value)), limit=100) is None
    assert far_cell(sheet(("A1", value), ("AA1", value)), limit=26) == ("AA1", 1)
    # Ten rows down, the same limit allows two columns.
    assert far_cell(sheet(("A1", value), ("C1", value), ("A10", value)), limit=26) == ("C1", 10)
    assert far_cell(sheet(("A1", value), ("C1", formatted), ("A10", value)), limit=26) is None
    assert far_cell(sheet(("A1", value), ("XFD900", formatted)), limit=26) is None
    assert far_cell(sheet(("A1", "><is><t>x</t></is></c>"), ("B1", value)), limit=1) == ("B1", 1)


@pytest.mark.parametrize("ref, span", [("A1:S100001", (100001, 19)), ("C5", (5, 3)),
                                       ("$A$1:$XFD$1048576", (1048576, 16384)), (None, None)])
def test_the_range_a_sheet_says_it_uses(ref, span):
    """Excel, LibreOffice and openpyxl state it (formatted cells included): where it is small,
    the sheet is not scanned for far values."""
    from sync.xlsx.package import _dimension
    head = f'<dimension ref="{ref}"/>' if ref else ""
    assert _dimension(f"<worksheet>{head}<sheetData></sheetData></worksheet>".encode()) == span


def test_apply_on_a_damaged_workbook_fails_at_once(tmp_path):
    """apply parses its last state seen while the workbook is read, waiting for the reader to
    start parsing; a read that fails before then must still let it go on (and fail clearly)."""
    good = write_table(tmp_path / "good.xlsx", CRM_EN, [crm_row(name="Ann")])
    assert run_cli("apply", str(good)).returncode in (0, 1)       # a last state to parse
    damaged = good.read_bytes()[:2000]
    good.write_bytes(damaged)
    result = run_cli("apply", str(good), timeout=60)
    assert result.returncode == 2 and "damaged" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and good.read_bytes() == damaged


def test_an_opendocument_file_is_told_to_be_saved_as_xlsx(tmp_path):
    """An .ods (or one renamed .xlsx) was told 'damaged, restore it from a backup' (issue 24)."""
    import zipfile
    path = tmp_path / "c.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
    before = path.read_bytes()
    result = run_cli("check", str(path))
    assert result.returncode == 2 and "OpenDocument" in result.stderr and \
        "save it as" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert path.read_bytes() == before
