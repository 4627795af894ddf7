"""The installed template opens cleanly in a real spreadsheet program: LibreOffice (headless)
re-saves it with the dropdowns and colour rules intact, exports its data as CSV, and renders the
status, finding, duplicate and overdue colours. Skipped where LibreOffice is not installed."""
import csv
import datetime as dt
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from sheet_templates import builtin
from sheet_templates.presentation import DUPLICATE_FILL, FINDING_FILL, STATUS_FILLS
from sync.xlsx.install import install_new

SOFFICE = shutil.which("soffice")
pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed; "
                       "`apt-get install libreoffice-calc-nogui poppler-utils` to run this test"),
]
ROWS = [
    {"customer_id": "C-000001", "name": "Ann New", "status": "New",
     "next_follow_up": dt.date(2099, 1, 1)},
    {"customer_id": "C-000002", "name": "Bob Active", "status": "Active",
     "next_follow_up": dt.date(2020, 1, 1)},
    {"customer_id": "C-000003", "name": "Cy Paused", "status": "Paused", "phone": "12345",
     "findings": "Phone: not a valid number"},
    {"customer_id": "C-000004", "name": "Di Churned", "status": "Churned"},
    {"customer_id": "C-000005", "name": "Ed Twin", "status": "Active",
     "findings": "[Duplicate] possible duplicate of C-000001"},
]


def convert(source: Path, fmt: str, out: Path) -> Path:
    profile = out / "profile"
    subprocess.run([SOFFICE, "--headless", "--norestore",
                    f"-env:UserInstallation=file://{profile}", "--convert-to", fmt,
                    "--outdir", str(out), str(source)],
                   check=True, capture_output=True, timeout=180)
    result = out / f"{source.stem}.{fmt.split(':')[0]}"
    assert result.exists(), f"LibreOffice wrote no {fmt}"
    return result


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    return install_new(builtin("crm"), tmp_path_factory.mktemp("lo") / "crm.xlsx", "en", ROWS)


def test_dropdowns_and_colour_rules_survive_a_libreoffice_round_trip(workbook, tmp_path):
    resaved = convert(workbook, "xlsx", tmp_path)
    book = openpyxl.load_workbook(resaved)
    ws = book["Customers"]
    sources = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation}
    for cell, lists_column in {"H2": "A", "I2": "B", "J2": "C", "K2": "D"}.items():
        assert sources[cell].replace("'", "").startswith(f"Lists!${lists_column}$2"), sources
    formulas = {f for r in ws.conditional_formatting for rule in r.rules for f in rule.formula}
    assert '$K2="Churned"' in formulas and "AND(ISNUMBER(N2),N2<TODAY())" in formulas
    assert any("[Duplicate]" in f for f in formulas)
    assert book.sheetnames == openpyxl.load_workbook(workbook).sheetnames    # every tab kept


def test_data_reads_back_as_csv(workbook, tmp_path):
    exported = convert(workbook, "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path)
    rows = list(csv.reader(exported.open(encoding="utf-8")))
    assert rows[0][:3] == ["Customer ID", "Name", "Company"]
    assert [r[1] for r in rows[1:]] == [r["name"] for r in ROWS]


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing")
def test_colours_are_rendered(workbook, tmp_path):
    from PIL import Image

    pdf = convert(workbook, "pdf", tmp_path)
    # Every page: the table prints more than one page wide (install's page setup), so the
    # Status column is not on the first.
    subprocess.run(["pdftoppm", "-png", "-r", "110", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=60)
    colours = {rgb for page in tmp_path.glob("page*.png")
               for _, rgb in Image.open(page).convert("RGB").getcolors(maxcolors=1_000_000)}

    def present(hex_colour: str) -> bool:
        want = tuple(int(hex_colour[i:i + 2], 16) for i in (0, 2, 4))
        return any(all(abs(a - b) <= 6 for a, b in zip(want, rgb)) for rgb in colours)

    for name, fill in {**STATUS_FILLS, "finding": FINDING_FILL,
                       "duplicate": DUPLICATE_FILL}.items():
        assert present(fill), f"{name} colour {fill} not rendered"


def test_cells_written_into_a_libreoffice_saved_workbook_read_back(workbook, tmp_path):
    """A file saved by a real spreadsheet program (shared strings, its own styles) takes
    sheetkeeper's cell writes, keeps its shared strings intact, and opens cleanly again."""
    import hashlib
    import zipfile

    from sync.xlsx.write import CellWrite, write_cells

    saved = convert(workbook, "xlsx", tmp_path)
    shared_before = zipfile.ZipFile(saved).read("xl/sharedStrings.xml")
    write_cells(saved, {"Customers": [CellWrite(2, 4, "+8613800138000"),
                                     CellWrite(3, 11, dt.date(2024, 3, 5))]},
                hashlib.sha256(saved.read_bytes()).hexdigest())
    assert zipfile.ZipFile(saved).read("xl/sharedStrings.xml") == shared_before
    out = tmp_path / "again"
    out.mkdir()
    rows = list(csv.reader(convert(saved, "csv:Text - txt - csv (StarCalc):44,34,76", out)
                           .open(encoding="utf-8")))
    assert rows[1][4] == "+8613800138000"
    assert rows[2][11] and rows[2][11] != "45356"      # shown as a date, not a serial number
    assert [r[1] for r in rows[1:]] == [r["name"] for r in ROWS]
