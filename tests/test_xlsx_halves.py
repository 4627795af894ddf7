"""A big sheet read in halves, on two cores, gives exactly what calamine gives for the whole
sheet; a sheet that cannot be split safely is read whole."""
import datetime as dt
import io

import openpyxl
import pytest
import python_calamine
from hypothesis import HealthCheck, given, settings, strategies as st

from sheet_templates import builtin, sample_rows
from sync.xlsx import halves as xlsx_halves
from sync.xlsx.halves import joined, read_in_halves, split_rows
from sync.xlsx.install import install_new
from sync.xlsx.package import SheetParts
from sync.xlsx.read import read_table

SHEET = "xl/worksheets/sheet1.xml"

cell_values = st.one_of(
    st.none(), st.text(alphabet="ab <>&\"'é张\n", max_size=6), st.integers(-10**6, 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32), st.booleans(),
    st.dates(dt.date(1950, 1, 1), dt.date(2100, 1, 1)))
sheets = st.lists(st.lists(cell_values, max_size=7), min_size=2, max_size=30)


def workbook_bytes(rows, merge: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Customers"
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def whole(data: bytes):
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    sheet = book.get_sheet_by_name("Customers")
    return sheet.to_python(skip_empty_area=False), sheet.merged_cell_ranges or []


def halves(data: bytes):
    xml = SheetParts(data).xml("Customers")
    return read_in_halves(data, SHEET, "Customers", xml)


@pytest.fixture
def split_everything(monkeypatch):
    monkeypatch.setattr(xlsx_halves, "SPLIT_FROM_BYTES", 0)
    monkeypatch.setattr(xlsx_halves.os, "cpu_count", lambda: 2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(rows=sheets, blank_rows=st.integers(0, 3), merge=st.sampled_from([None, "B2:C3"]))
def test_a_sheet_read_in_halves_is_the_sheet_read_whole(split_everything, rows, blank_rows,
                                                        merge):
    data = workbook_bytes([[] for _ in range(blank_rows)] + rows, merge)
    read = halves(data)
    if read is None:      # too few rows after the middle of the XML to cut at
        assert split_rows(SheetParts(data).xml("Customers"), least=0) is None
        return
    assert read == whole(data)


def test_a_list_read_in_halves_is_the_list_read_whole(tmp_path, split_everything):
    path = install_new(builtin("crm"), tmp_path / "c.xlsx", "en",
                       sample_rows("crm", "en") * 30)
    halved = read_table(path)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(xlsx_halves, "SPLIT_FROM_BYTES", 10**12)
        assert read_table(path) == halved
    assert len(halved.rows) > 100


def test_the_halves_are_put_together_as_one_rectangle():
    before = [["Name", "Phone"], ["Ann", ""]]
    after = [[""], [""], [""], ["Bob"], ["Cy"]]          # the second half's rows 4 and 5
    assert joined(before, after, 4) == [["Name", "Phone"], ["Ann", ""], ["", ""],
                                        ["Bob", ""], ["Cy", ""]]
    assert joined([["A"]], [[""], [""]], 3) == [["A"]]  # nothing in the second half


@pytest.mark.parametrize("xml", [
    b"<worksheet><sheetData/></worksheet>",
    b'<x:worksheet><x:sheetData><x:row r="1"/><x:row r="2"/></x:sheetData></x:worksheet>',
    b"<worksheet><sheetData><row><c><v>1</v></c></row><row><c><v>2</v></c></row></sheetData>"
    b"</worksheet>",
], ids=["empty", "prefixed", "rows without numbers"])
def test_a_sheet_that_cannot_be_cut_safely_is_read_whole(xml):
    assert split_rows(xml, least=0) is None


def test_a_small_sheet_or_one_core_is_read_whole(monkeypatch):
    data = workbook_bytes([["Name"], *[[f"n{i}"] for i in range(50)]])
    xml = SheetParts(data).xml("Customers")
    assert split_rows(xml) is None                       # under SPLIT_FROM_BYTES
    assert split_rows(xml, least=0) is not None
    monkeypatch.setattr(xlsx_halves, "SPLIT_FROM_BYTES", 0)
    monkeypatch.setattr(xlsx_halves.os, "cpu_count", lambda: 1)
    assert halves(data) is None


def test_halves_calamine_refuses_are_read_whole(split_everything):
    # A value cut in two cannot happen (the cut is at a row); a damaged cell can: the whole
    # read then gives calamine's error, as for any workbook.
    data = workbook_bytes([["Name"], *[[f"n{i}"] for i in range(50)]])
    xml = SheetParts(data).xml("Customers")
    broken = xml.replace(b'<row r="40">', b'<row r="40"><c r="B40" t="b"><v>7x</v></c>')
    assert read_in_halves(data, SHEET, "Customers", broken) is None
