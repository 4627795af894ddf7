"""The surgical writer against real workbooks: what changes, what must not, and faults."""
import datetime as dt
import io
import re
from pathlib import Path
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import zipfile

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.drawing.image import Image
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from sheet_templates import builtin
from sync.xlsx.install import install_new
from sync.xlsx.read import read_table
from sync.xlsx.replace import STALE_TEMPORARY_S
from sync.xlsx.write import (
    CellWrite, StagedPackage, WorkbookBusy, WorkbookChanged, WriteFailed, patch_package,
    write_cells,
)
from tests.conftest import ROOT

X14_EXT = (b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
           b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
           b'<x14:dataValidations count="0" xmlns:xm="http://schemas.microsoft.com/office/'
           b'excel/2006/main"/></ext></extLst>')


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def parts(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.fixture
def rich_workbook(tmp_path):
    """A workbook with a chart, an image, a comment, a second sheet, a defined name, a
    validation, conditional formatting and an x14 extension openpyxl cannot write itself."""
    from PIL import Image as PILImage
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Customers"
    ws.append(["Name", "Phone", "Joined", "Spend"])
    ws.append(["ANN LEE", "138 0013 8000", "2024/3/5", 10])
    ws.append(["Bob", "+8613900139000", None, 20])
    ws["A2"].font = openpyxl.styles.Font(bold=True, color="FF0000")
    ws["B2"].comment = Comment("call after 6pm", "Ann's manager")
    ws.add_data_validation(DataValidation(type="list", formula1='"a,b"', sqref="D2:D9"))
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=4, min_row=1, max_row=3), titles_from_data=True)
    ws.add_chart(chart, "F2")
    png = tmp_path / "dot.png"
    PILImage.new("RGB", (4, 4), "red").save(png)
    ws.add_image(Image(str(png)), "F20")
    other = book.create_sheet("Notes")
    other["A1"] = "keep me"
    book.defined_names["spend"] = DefinedName("spend", attr_text="Customers!$D$2:$D$3")
    path = tmp_path / "rich.xlsx"
    book.save(path)
    # Splice in an x14 extension, as Excel would write, to show it survives.
    contents = parts(path)
    sheet = contents["xl/worksheets/sheet1.xml"]
    contents["xl/worksheets/sheet1.xml"] = sheet.replace(b"</worksheet>", X14_EXT + b"</worksheet>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in contents.items():
            z.writestr(name, data)
    return path


# openpyxl itself warns that it would drop the x14 extension (it is only used here to read the
# values back); keeping that extension is exactly what the writer is for.
X14_WARNING = "ignore:Data Validation extension is not supported"


@pytest.mark.filterwarnings(X14_WARNING)
def test_only_the_changed_cells_change(rich_workbook):
    before = parts(rich_workbook)
    style_before = openpyxl.load_workbook(rich_workbook)["Customers"]["A2"].font
    write_cells(rich_workbook, {"Customers": [
        CellWrite(2, 0, "Ann Lee"), CellWrite(2, 1, "+8613800138000"),
        CellWrite(2, 2, dt.date(2024, 3, 5)), CellWrite(3, 2, dt.date(2024, 1, 2)),
        CellWrite(3, 3, 20.5),
    ]}, digest(rich_workbook))
    after = parts(rich_workbook)
    assert set(after) == set(before)
    changed = {name for name in before if before[name] != after[name]}
    assert changed <= {"xl/worksheets/sheet1.xml", "xl/styles.xml"}
    assert "xl/worksheets/sheet1.xml" in changed
    assert X14_EXT in after["xl/worksheets/sheet1.xml"]
    book = openpyxl.load_workbook(rich_workbook)
    ws = book["Customers"]
    assert [c.value for c in ws[2]] == ["Ann Lee", "+8613800138000",
                                        dt.datetime(2024, 3, 5), 10]
    assert ws["C3"].value == dt.datetime(2024, 1, 2) and ws["D3"].value == 20.5
    assert ws["C2"].is_date and ws["C3"].is_date
    assert ws["A2"].font.b and ws["A2"].font.color.rgb == style_before.color.rgb
    assert ws["B2"].comment.text == "call after 6pm"
    assert book["Notes"]["A1"].value == "keep me"
    assert ws["B3"].value == "+8613900139000"


def test_mode_is_kept_and_no_temp_files_are_left(rich_workbook):
    os.chmod(rich_workbook, 0o640)
    inode = os.stat(rich_workbook).st_ino
    write_cells(rich_workbook, {"Customers": [CellWrite(2, 0, "Ann")]}, digest(rich_workbook))
    assert stat.S_IMODE(os.stat(rich_workbook).st_mode) == 0o640
    assert os.stat(rich_workbook).st_ino != inode          # replaced, not rewritten in place
    assert sorted(p.name for p in rich_workbook.parent.iterdir()) == ["dot.png", "rich.xlsx"]


@pytest.mark.parametrize("lock", ["~$rich.xlsx", ".~lock.rich.xlsx#"])
def test_an_open_workbook_is_not_written(rich_workbook, lock):
    (rich_workbook.parent / lock).write_text("someone")
    before = rich_workbook.read_bytes()
    with pytest.raises(WorkbookBusy, match=lock.replace("$", r"\$").replace(".", r"\.")):
        write_cells(rich_workbook, {"Customers": [CellWrite(2, 0, "x")]}, digest(rich_workbook))
    assert rich_workbook.read_bytes() == before


@pytest.mark.filterwarnings(X14_WARNING)
def test_a_workbook_changed_since_reading_is_not_written(rich_workbook):
    stale = digest(rich_workbook)
    book = openpyxl.load_workbook(rich_workbook)
    book["Customers"]["A3"] = "Robert"       # a person saves meanwhile
    book.save(rich_workbook)
    before = rich_workbook.read_bytes()
    with pytest.raises(WorkbookChanged):
        write_cells(rich_workbook, {"Customers": [CellWrite(2, 0, "x")]}, stale)
    assert rich_workbook.read_bytes() == before


def test_template_date_columns_keep_their_own_date_style(tmp_path):
    path = install_new(builtin("crm"), tmp_path / "c.xlsx", "en",
                       [{"name": "Ann", "member_since": "2024/3/5"}])
    before = parts(path)
    write_cells(path, {"Customers": [CellWrite(2, 11, dt.date(2024, 3, 5))]}, digest(path))
    assert parts(path)["xl/styles.xml"] == before["xl/styles.xml"]   # the column's style served
    cell = openpyxl.load_workbook(path)["Customers"]["L2"]
    assert cell.value == dt.datetime(2024, 3, 5) and cell.number_format == "yyyy-mm-dd"


def test_new_cells_rows_and_empty_values(tmp_path):
    path = tmp_path / "t.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "S"
    book.active.append(["Name", "Phone", "Email"])
    book.active.append(["Ann"])
    book.save(path)
    write_cells(path, {"S": [CellWrite(2, 2, "a@x.com"), CellWrite(2, 0, None),
                            CellWrite(5, 1, "+1"), CellWrite(4, 0, "Cy <&> \"q\"")]},
                digest(path))
    ws = openpyxl.load_workbook(path)["S"]
    assert [c.value for c in ws[2]] == [None, None, "a@x.com"]
    assert ws["A4"].value == 'Cy <&> "q"' and ws["B5"].value == "+1"
    assert ws.max_row == 5


def test_times_and_durations_are_written_as_the_numbers_a_spreadsheet_keeps(tmp_path):
    """A merge or an undo can carry a time cell ("9:30") or a duration ("30:00") somewhere:
    written as numbers in cells keeping their time style, they read back as they were."""
    path = tmp_path / "t.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "S"
    book.active.append([dt.time(8, 0), dt.timedelta(hours=1)])   # openpyxl styles them
    book.save(path)
    write_cells(path, {"S": [CellWrite(1, 0, dt.time(9, 30, 15)),
                            CellWrite(1, 1, dt.timedelta(hours=30, minutes=5))]}, digest(path))
    ws = openpyxl.load_workbook(path)["S"]
    assert ws["A1"].value == dt.time(9, 30, 15)
    assert ws["B1"].value == dt.timedelta(hours=30, minutes=5)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(2, 30), st.integers(0, 5),
                          st.one_of(st.text(max_size=20).filter(
                              lambda t: all(ord(ch) >= 32 or ch in "\n\t" for ch in t)
                              and "\r" not in t),
                                    st.integers(-10**6, 10**6), st.none(),
                                    st.dates(min_value=dt.date(1901, 1, 1)))),
                max_size=30))
def test_whatever_is_written_reads_back(tmp_path, writes):
    path = tmp_path / "p.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "S"
    for r in range(1, 12):      # rows of different lengths: writes replace and add cells
        book.active.append([f"r{r}c{c}" for c in range(r % 6 + 1)])
    book.save(path)
    expected = {}
    for row, col, value in writes:
        expected[(row, col)] = value
    data = patch_package(path.read_bytes(),
                         {"S": [CellWrite(r, c, v) for (r, c), v in expected.items()]})
    path.write_bytes(data)
    ws = openpyxl.load_workbook(path)["S"]
    for r in range(1, 12):                               # every other cell as it was
        for c in range(r % 6 + 1):
            if (r, c) not in expected:
                assert ws.cell(row=r, column=c + 1).value == f"r{r}c{c}"
    for (row, col), value in expected.items():
        got = ws.cell(row=row, column=col + 1).value
        if isinstance(value, dt.date):
            assert got == dt.datetime.combine(value, dt.time())
        elif value == "":
            assert got in ("", None)
        else:
            assert got == value


WRITER_LOOP = """
import hashlib, sys
from pathlib import Path
from sync.xlsx.write import CellWrite, write_cells
path = Path(sys.argv[1])
n = 0
while True:
    n += 1
    write_cells(path, {"Customers": [CellWrite(2, 0, f"Ann {n}")]},
                hashlib.sha256(path.read_bytes()).hexdigest())
    print(n, flush=True)
"""


def test_killed_mid_write_leaves_a_whole_workbook(rich_workbook):
    import python_calamine
    for attempt in range(8):
        proc = subprocess.Popen([sys.executable, "-c", WRITER_LOOP, str(rich_workbook)],
                                cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(2 + attempt):
            proc.stdout.readline()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with zipfile.ZipFile(rich_workbook) as z:
            assert z.testzip() is None
        book = python_calamine.CalamineWorkbook.from_path(str(rich_workbook))
        assert book.get_sheet_by_name("Customers").to_python()[1][0].startswith("Ann")
    # Each killed writer may leave its temporary file; they are swept once stale (below).



@pytest.mark.parametrize("name", ["rich.xlsx", "team [a]*.xlsx"])
def test_a_killed_writers_temporary_file_is_swept_once_stale(rich_workbook, name):
    path = rich_workbook.rename(rich_workbook.with_name(name))
    hour_ago = time.time() - STALE_TEMPORARY_S - 60
    stale = path.with_name(f".{name}.k1ll3d.sheetkeeper")
    at_work = path.with_name(f".{name}.wr1t1n.sheetkeeper")   # another writer's, just made
    others = path.with_name(".other.xlsx.k1ll3d.sheetkeeper")  # another workbook's
    for leftover in (stale, at_work, others):
        leftover.write_bytes(b"PK a copy of the workbook")
    os.utime(stale, (hour_ago, hour_ago))
    os.utime(others, (hour_ago, hour_ago))
    write_cells(path, {"Customers": [CellWrite(2, 1, "Ann Lee")]}, digest(path))
    assert not stale.exists()
    assert at_work.exists() and others.exists()
    assert sorted(p.name for p in path.parent.glob(".*")) == sorted(
        [at_work.name, others.name])                       # and the write left none of its own


def test_a_staged_package_not_committed_leaves_nothing_behind(rich_workbook):
    before = rich_workbook.read_bytes()
    with StagedPackage(rich_workbook, {"Customers": [CellWrite(2, 0, "Ann")]},
                       digest(rich_workbook)):
        assert len(list(rich_workbook.parent.glob(".rich.xlsx.*"))) == 1   # made, not wanted
    assert sorted(p.name for p in rich_workbook.parent.iterdir()) == ["dot.png", "rich.xlsx"]
    assert rich_workbook.read_bytes() == before


def test_a_package_patched_from_the_kept_xml_is_the_one_patched_from_the_file(rich_workbook,
                                                                             tmp_path):
    twin = tmp_path / "twin" / "rich.xlsx"
    twin.parent.mkdir()
    shutil.copy(rich_workbook, twin)
    writes = {"Customers": [CellWrite(2, 1, "Ann Lee"), CellWrite(3, 11, dt.date(2024, 3, 5)),
                            CellWrite(40, 2, "a new row")]}
    digests = []
    kept = read_table(rich_workbook, keep_xml=True)
    assert kept.sheet_xml and read_table(rich_workbook).sheet_xml is None
    for path, known in [(rich_workbook, {"Customers": kept.sheet_xml}), (twin, None)]:
        with StagedPackage(path, writes, digest(path), known=known) as new:
            restyled = new.restyled
            new.commit()
            digests.append(new.digest)
    assert rich_workbook.read_bytes() == twin.read_bytes()
    assert digests == [digest(twin)] * 2
    assert restyled                                        # the date needed a date style


DISK_FULL = """
import hashlib, resource, signal, sys
from pathlib import Path
from sync.xlsx.write import CellWrite, StagedPackage, WriteFailed
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
path = Path(sys.argv[1])
digest = hashlib.sha256(path.read_bytes()).hexdigest()
resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
try:
    with StagedPackage(path, {"Customers": [CellWrite(2, 0, "x" * 5000)]}, digest) as new:
        new.commit()
except WriteFailed as e:
    print("refused:", e)
"""


def test_a_full_disk_leaves_the_workbook_unchanged(rich_workbook):
    pytest.importorskip("resource", reason="the file size limit that plays a full disk is POSIX's")
    before = rich_workbook.read_bytes()
    result = subprocess.run([sys.executable, "-c", DISK_FULL, str(rich_workbook)],
                            cwd=ROOT, capture_output=True, text=True)
    assert "refused:" in result.stdout and "unchanged" in result.stdout, result.stderr
    assert rich_workbook.read_bytes() == before
    assert sorted(p.name for p in rich_workbook.parent.iterdir()) == ["dot.png", "rich.xlsx"]


def test_a_read_only_folder_is_reported(rich_workbook):
    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions; the full-disk test covers write failures")
    os.chmod(rich_workbook.parent, 0o555)
    try:
        with pytest.raises(WriteFailed):
            write_cells(rich_workbook, {"Customers": [CellWrite(2, 0, "x")]}, digest(rich_workbook))
    finally:
        os.chmod(rich_workbook.parent, 0o755)


def rewrite_parts(path: Path, change) -> None:
    """The workbook with each part's bytes passed through `change(name, data)`: a workbook as
    another program would have written it."""
    with zipfile.ZipFile(path) as z:
        parts = {info: z.read(info) for info in z.infolist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info, data in parts.items():
            z.writestr(info, change(info.filename, data))
    path.write_bytes(out.getvalue())


def without_references(path: Path) -> None:
    """The workbook as some generators write it: rows and cells without `r=` (valid OOXML:
    each follows the one before)."""
    rewrite_parts(path, lambda name, data: re.sub(
        rb"<row\b[^>]*?>.*?</row>", _row_without_references, data, flags=re.DOTALL)
        if name.startswith("xl/worksheets/sheet") else data)


def _row_without_references(row: "re.Match") -> bytes:
    """The row with `r=` dropped wherever it can be inferred: the row's own (rows follow one
    another here), and a cell's that stands right after the cell before it."""
    from sheet_templates.references import column_index
    text = re.sub(rb'^(<row\b[^>]*?)\s+r="\d+"', rb"\1", row[0])
    out, last = [], -1
    for piece in re.split(rb"(<c\b[^>]*?(?:/>|>.*?</c>))", text, flags=re.DOTALL):
        ref = re.match(rb'<c\b[^>]*?\sr="([A-Z]+)\d+"', piece)
        if ref:
            col = column_index(ref[1].decode())
            if col == last + 1:
                piece = re.sub(rb'\s+r="[A-Z]+\d+"', b"", piece, count=1)
            last = col
        out.append(piece)
    return b"".join(out)


def test_cells_without_references_are_written_in_place_not_appended(tmp_path):
    """A cell without `r=` got a duplicate appended to its row: an invalid file (issue 24 #12).
    The formula in such a cell is still recognised, so it is never normalised."""
    from sync.xlsx.target import apply_workbook
    from sync.plan import RuleSettings
    from tests.conftest import CRM_EN, crm_row, write_table
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [
        crm_row(name="ANN LEE", phone="138 0013 8000"), crm_row(name="bob stone")])
    book = openpyxl.load_workbook(path)
    book["Customers"]["C3"] = '=LOWER("ACME")'
    book.save(path)
    without_references(path)
    with zipfile.ZipFile(path) as z:
        stripped = z.read("xl/worksheets/sheet1.xml")
    assert stripped.count(b"<c") > stripped.count(b' r="') + 10   # most cells have none
    apply_workbook(path, RuleSettings(today=dt.date(2026, 11, 23), phone_region="CN"))
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    for row in re.findall(rb"<row\b.*?</row>", xml, re.DOTALL):
        refs = re.findall(rb'<c r="([A-Z]+\d+)"', row)
        assert len(refs) == len(set(refs)) == len(re.findall(rb"<c\b", row)), row
    ws = openpyxl.load_workbook(path)["Customers"]
    assert ws["B2"].value == "Ann Lee" and ws["E2"].value == "+8613800138000"
    assert ws["C3"].value == '=LOWER("ACME")' and ws["A3"].value == "C-000002"


def test_an_excel_tables_totals_row_is_not_a_customer(tmp_path):
    """The Totals row of an Excel Table (Insert > Table, Total Row) was given an ID for good
    and a finding (issue 24 #10)."""
    from openpyxl.worksheet.table import Table
    from sync.xlsx.target import apply_workbook
    from sync.plan import RuleSettings
    from tests.conftest import CRM_EN, crm_row, write_table
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [
        crm_row(name="Ann Lee", phone="+8613800138000", total_spend=10),
        crm_row(name="Bob Stone", phone="+8613900139000", total_spend=20)])
    book = openpyxl.load_workbook(path)
    ws = book["Customers"]
    ws["B4"], ws["P4"] = "Total", "=SUBTOTAL(109,P2:P3)"
    ws.add_table(Table(displayName="Customers", ref="A1:S4", totalsRowCount=1))
    book.save(path)
    result = apply_workbook(path, RuleSettings(today=dt.date(2026, 11, 23), phone_region="CN"))
    assert result.plan.facts.rows == 2
    ws = openpyxl.load_workbook(path)["Customers"]
    assert ws["A4"].value is None and ws["S4"].value is None
    assert [ws["A2"].value, ws["A3"].value] == ["C-000001", "C-000002"]


STRICT_NAMES = [
    (b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
     b"http://purl.oclc.org/ooxml/spreadsheetml/main"),
    (b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
     b"http://purl.oclc.org/ooxml/officeDocument/relationships"),
]


def test_a_strict_open_xml_workbook_is_read_and_written(tmp_path):
    """Excel's "Strict Open XML" names the same parts in other namespaces: `apply` said the
    workbook 'kept changing' and the service retried it in a busy loop (issue 24 #13)."""
    import python_calamine
    from sync.xlsx.target import apply_workbook
    from sync.plan import RuleSettings
    from tests.conftest import CRM_EN, crm_row, write_table
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [crm_row(name="ANN LEE",
                                                                phone="138 0013 8000")])
    def strict(_, data: bytes) -> bytes:
        for transitional, strict_name in STRICT_NAMES:
            data = data.replace(transitional, strict_name)
        return data

    rewrite_parts(path, strict)
    result = apply_workbook(path, RuleSettings(today=dt.date(2026, 11, 23), phone_region="CN"))
    assert result.written == 3 and result.attempts == 1
    row = python_calamine.CalamineWorkbook.from_path(str(path)) \
        .get_sheet_by_name("Customers").to_python()[1]
    assert row[:2] == ["C-000001", "Ann Lee"] and row[4] == "+8613800138000"
    with zipfile.ZipFile(path) as z:
        assert STRICT_NAMES[0][1] in z.read("xl/worksheets/sheet1.xml")   # still Strict


def with_file_sharing(path: Path, attributes: bytes) -> None:
    rewrite_parts(path, lambda name, data: re.sub(
        rb"(<workbook\b[^>]*>)", rb"\1<fileSharing " + attributes + b"/>", data, count=1)
        if name == "xl/workbook.xml" else data)


@pytest.mark.parametrize("how", ["read-only recommended", "password to modify",
                                 "protected sheet"])
def test_a_workbook_marked_not_to_be_changed_is_left_alone_in_words(tmp_path, how):
    """It was rewritten without a word, though the README promised otherwise (issue 24 #16).
    Every protection stays; the command says what to do, exit 2, the file untouched."""
    from tests.conftest import CRM_EN, crm_row, fingerprint, run_cli, write_table
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [crm_row(name="ANN LEE")])
    if how == "protected sheet":
        book = openpyxl.load_workbook(path)
        book["Customers"].protection.sheet = True
        book.save(path)
    else:
        with_file_sharing(path, b'readOnlyRecommended="1"' if how.startswith("read")
                          else b'userName="Ann" algorithmName="SHA-512" hashValue="x" '
                               b'saltValue="y" spinCount="100000"')
    before = fingerprint(path)
    result = run_cli("apply", str(path))
    assert result.returncode == 2 and ("sheetkeeper leaves it alone" in result.stderr
                                       or "never removes a protection" in result.stderr), \
        result.stderr
    assert "Traceback" not in result.stderr and fingerprint(path) == before


def test_dates_in_january_and_february_1900_are_the_days_excel_shows(tmp_path):
    """Excel's serials count a 29 February 1900 that never was; a date before March 1900 was
    written a day off (issue 24)."""
    from tests.conftest import write_table
    path = write_table(tmp_path / "c.xlsx", ["Name", "Birthday"], [["Ann", None], ["Bob", None]])
    days = [dt.date(1900, 1, 15), dt.date(1900, 3, 1)]
    write_cells(path, {"Customers": [CellWrite(2, 1, days[0]), CellWrite(3, 1, days[1])]},
                digest(path))
    ws = openpyxl.load_workbook(path)["Customers"]
    assert [ws["B2"].value.date(), ws["B3"].value.date()] == days


def test_a_sheet_written_with_a_namespace_prefix_is_read_and_written(tmp_path):
    """A sheet as the Open XML SDK writes it (`<x:worksheet xmlns:x=…>`, `<x:c>`, `<x:f>`) was
    refused with a wrong reason, and its formulas were not recognised (issue 24). Its formula
    cell, whose cached value the name rule would re-case, is left alone."""
    from sync.xlsx.target import apply_workbook
    from sync.plan import RuleSettings
    from tests.conftest import CRM_EN, crm_row, write_table
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [crm_row(name="x", phone="138 0013 8000"),
                                                     crm_row(name="BOB STONE")])
    book = openpyxl.load_workbook(path)
    book["Customers"]["B2"] = '=UPPER("ann lee")'
    book.save(path)
    main = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    def prefixed(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        data = data.replace(b'<f>UPPER("ann lee")</f><v />',
                            b'<f>UPPER("ann lee")</f><v>ANN LEE</v>')
        data = data.replace(b't="str"', b"").replace(b'<c r="B2">', b'<c r="B2" t="str">')
        data = data.replace(b'xmlns="' + main, b'xmlns:x="' + main)
        return re.sub(rb"<(/?)(?![?!])", rb"<\1x:", data)

    rewrite_parts(path, prefixed)
    result = apply_workbook(path, RuleSettings(today=dt.date(2026, 11, 23), phone_region="CN"))
    assert result.written > 0
    ws = openpyxl.load_workbook(path)["Customers"]
    assert ws["B2"].value == '=UPPER("ann lee")' and ws["B3"].value == "Bob Stone"
    assert ws["E2"].value == "+8613800138000" and ws["A3"].value == "C-000002"
