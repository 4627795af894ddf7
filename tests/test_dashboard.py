"""The Dashboard tab (#21): formulas over the list and the Purchases tab, and native charts; laid
out by install, added by --upgrade over a list as it stands, and drawn by a real spreadsheet
program (LibreOffice headless: the formulas computed, the charts not empty)."""
from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from sheet_templates import builtin
from sync.plan import RuleSettings
from sync.xlsx.install import install_new
from sync.xlsx.target import apply_workbook
from sync.xlsx.upgrade import upgrade_workbook
from tests.conftest import TODAY

CRM = builtin("crm")
SOFFICE, PDFTOPPM = shutil.which("soffice"), shutil.which("pdftoppm")
needs_libreoffice = pytest.mark.skipif(
    SOFFICE is None or PDFTOPPM is None,
    reason="LibreOffice or pdftoppm missing: `make test-deps` (Debian) installs them")
CHART_BLUE = (79, 129, 189)         # the charts' series colour (Office's first accent)


def charts(path: Path, tab: str) -> list:
    return openpyxl.load_workbook(path)[tab]._charts


def test_install_lays_out_the_dashboard_in_each_language(tmp_path):
    path = install_new(CRM, tmp_path / "c.xlsx", "en")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:2] == ["Customers", "Dashboard"]
    board = book["Dashboard"]
    assert board["A4"].value == "New"
    assert board["B4"].value == "=COUNTIF('Customers'!$K:$K,A4)"      # Status is column K
    month = board["C11"].value
    assert month.startswith("=SUMIFS('Purchases'!$F:$F,'Purchases'!$A:$A,")  # Amount, Date
    kinds = sorted(type(c).__name__ for c in charts(path, "Dashboard"))
    assert kinds == ["BarChart", "BarChart", "LineChart", "LineChart"]
    zh = install_new(CRM, tmp_path / "zh.xlsx", "zh-CN")
    book = openpyxl.load_workbook(zh)
    assert book.sheetnames[1] == "看板"
    assert book["看板"]["A3"].value == "按状态的客户数" and book["看板"]["A4"].value == "新客户"
    assert book["看板"]["B4"].value == "=COUNTIF('客户'!$K:$K,A4)"


def test_upgrade_builds_the_dashboard_over_the_list_as_it_stands(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Customers"
    ws.append(["Status", "Name", "Phone", "Total spend"])       # their order, not the template's
    ws.append(["Active", "Ann Lee", "13800138000", 120])
    path = tmp_path / "own.xlsx"
    book.save(path)
    report = upgrade_workbook(path, CRM)
    assert "Dashboard" in report.added_tabs
    board = openpyxl.load_workbook(path)["Dashboard"]
    assert board["B4"].value == "=COUNTIF('Customers'!$A:$A,A4)"      # Status where it is
    assert "LARGE('Customers'!$D:$D,1)" in board["F11"].value        # Total spend where it is
    assert len(charts(path, "Dashboard")) == 4
    once = path.read_bytes()
    assert "Dashboard" not in upgrade_workbook(path, CRM).added_tabs
    assert path.read_bytes() == once                                # twice is once


@pytest.fixture
def shop(tmp_path) -> Path:
    """A list with four customers, three of them buying, cleaned by a cycle."""
    customers = [
        {"customer_id": f"C-00000{n}", "name": name, "phone": f"+861380013800{n}",
         "member_since": dt.date(2026, 10, n), "tier": tier}
        for n, name, tier in ((1, "Ann Lee", "VIP"), (2, "Bob Stone", "Normal"),
                              (3, "Cy Wu", "Normal"), (4, "Di Ho", "Prospect"))]
    path = install_new(CRM, tmp_path / "shop.xlsx", "en", customers)
    book = openpyxl.load_workbook(path)
    for r, (day, who, amount) in enumerate([(dt.date(2026, 11, 2), "C-000001", 300),
                                            (dt.date(2026, 11, 20), "C-000001", 200),
                                            (dt.date(2026, 9, 9), "C-000002", 80),
                                            (dt.date(2026, 11, 1), "C-000003", 55)], start=2):
        for c, value in enumerate([day, who, None, "Tea", 1, amount], start=1):
            book["Purchases"].cell(row=r, column=c, value=value)
    book.save(path)
    apply_workbook(path, RuleSettings(today=TODAY, phone_region="CN"))
    return path


def dashboard_page(pdf: Path) -> int:
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", str(pdf)], capture_output=True, text=True).stdout)[1])
    for page in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout",
                               str(pdf), "-"], capture_output=True, text=True).stdout
        if text.lstrip().startswith("Dashboard"):
            return page
    raise AssertionError("no page of the PDF is the Dashboard")


@needs_libreoffice
def test_libreoffice_computes_the_formulas_and_draws_the_charts(shop, tmp_path):
    from PIL import Image

    from tests.test_libreoffice import convert
    pdf = convert(shop, "pdf", tmp_path)
    page = dashboard_page(pdf)
    text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf),
                           "-"], capture_output=True, text=True).stdout
    statuses = [r[10] for r in openpyxl.load_workbook(shop)["Customers"].iter_rows(
        min_row=2, values_only=True)]
    for label in ("New", "Active", "Paused", "Churned"):
        assert re.search(rf"^{label}\s+{statuses.count(label)}\b", text, re.M), (label, text)
    assert re.search(r"Ann Lee\s+500", text)                         # the top spender
    assert re.search(r"VIP\s+1\b", text) and re.search(r"Normal\s+2\b", text)
    subprocess.run([PDFTOPPM, "-png", "-r", "70", "-f", str(page), "-l", str(page), str(pdf),
                    str(tmp_path / "board")], check=True, timeout=60)
    image = Image.open(next(tmp_path.glob("board*.png"))).convert("RGB")
    blue = sum(n for n, rgb in image.getcolors(maxcolors=1_000_000)
               if all(abs(a - b) <= 8 for a, b in zip(rgb, CHART_BLUE)))
    # Bars and lines drawn: four charts with data make well over a thousand pixels of the
    # series colour at 70 dpi; charts over empty cells draw none.
    assert blue > 1000, blue
