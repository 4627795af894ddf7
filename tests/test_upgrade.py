"""`install --upgrade` on workbooks already in use."""
import shutil
import zipfile

import openpyxl
import pytest
from openpyxl.comments import Comment
from openpyxl.worksheet.datavalidation import DataValidation

from sheet_templates import builtin
from sync.xlsx.target import apply_workbook
from sync.plan import RuleSettings
from sync.xlsx.install import install_new
from sync.xlsx.upgrade import upgrade_workbook
from tests.conftest import TODAY, run_cli

CRM = builtin("crm")


def parts(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.fixture
def own_workbook(tmp_path):
    """A team's own list: a few of the template's columns, one of theirs, a comment, a second
    sheet, a validation of their own."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Customers"
    ws.append(["Name", "Tel", "E-mail", "Favourite colour"])
    ws.append(["Ann Lee", "138 0013 8000", "ann@example.com", "green"])
    ws.append(["Bob", "+8613900139000", "bob@example.com", "blue"])
    ws["A2"].comment = Comment("VIP since 2019", "owner")
    ws.add_data_validation(DataValidation(type="list", formula1='"red,green,blue"',
                                          sqref="D2:D500"))
    book.create_sheet("Notes")["A1"] = "not a list"
    path = tmp_path / "own.xlsx"
    book.save(path)
    return path


def test_upgrade_adds_columns_and_tabs_and_keeps_everything_else(own_workbook):
    before = parts(own_workbook)
    report = upgrade_workbook(own_workbook, CRM)
    assert report.added_columns[:2] == ["Customer ID", "Company"]
    assert set(report.added_tabs) == {"Lists", "Review", "Data dictionary", "Merged",
                                      "Purchases", "Follow-ups", "Dashboard"}
    after = parts(own_workbook)
    untouched = {n for n in before if before[n] == after.get(n)}
    assert {"xl/worksheets/sheet2.xml", "xl/comments/comment1.xml"} <= untouched
    book = openpyxl.load_workbook(own_workbook)
    ws = book["Customers"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["Name", "Tel", "E-mail", "Favourite colour"]     # theirs, in place
    assert header[4] == "Customer ID" and "Findings" in header and len(header) == 4 + 22
    assert [c.value for c in ws[2]][:4] == ["Ann Lee", "138 0013 8000", "ann@example.com",
                                            "green"]
    assert ws["A2"].comment.text == "VIP since 2019"
    sources = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert sources["D2:D500"] == '"red,green,blue"'                       # theirs, kept
    tier = header.index("Tier")
    letter = openpyxl.utils.get_column_letter(tier + 1)
    assert sources[f"{letter}2:{letter}1048576"] == "'Lists'!$B$2:$B$4"
    assert book["Notes"]["A1"].value == "not a list"
    assert book["Lists"]["B1"].value == "Tier" and book["Lists"]["B2"].value == "VIP"
    assert book["Review"]["K1"].value == "Decision"
    rules = [r.formula[0] for cf in ws.conditional_formatting for r in cf.rules]
    assert len(rules) == 9 and any("TODAY()" in f for f in rules)   # birthday, at risk too
    # and the workbook now works as a sheetkeeper list
    result = apply_workbook(own_workbook, RuleSettings(today=TODAY, phone_region="CN"))
    ws = openpyxl.load_workbook(own_workbook)["Customers"]
    assert ws.cell(row=2, column=5).value == "C-000001" and ws["B2"].value == "+8613800138000"
    assert result.batch


def test_upgrade_twice_changes_nothing_more(own_workbook):
    upgrade_workbook(own_workbook, CRM)
    once = parts(own_workbook)
    upgrade_workbook(own_workbook, CRM)
    assert parts(own_workbook) == once


def test_upgrade_repairs_broken_ranges_and_keeps_list_additions(tmp_path):
    path = install_new(CRM, tmp_path / "c.xlsx", "en", [{"name": "Ann", "tier": "Gold"}])
    book = openpyxl.load_workbook(path)
    ws = book["Customers"]
    ws.data_validations.dataValidation = [dv for dv in ws.data_validations.dataValidation
                                          if "$B$" not in dv.formula1]    # pasting broke Tier
    book["Lists"]["B5"] = "Gold"                                          # the team's addition
    book.save(path)
    upgrade_workbook(path, CRM)
    ws = openpyxl.load_workbook(path)["Customers"]
    sources = [(str(dv.sqref), dv.formula1) for dv in ws.data_validations.dataValidation]
    assert ("I2:I1048576", "'Lists'!$B$2:$B$5") in sources               # Gold included
    assert len([s for s in sources if s[0].startswith("H2")]) == 1        # no duplicates


def test_upgrade_cli_and_refusals(own_workbook, tmp_path):
    result = run_cli("install", "crm", "--to", str(own_workbook), "--upgrade")
    assert result.returncode == 0 and "7 tabs added" in result.stdout
    (tmp_path / ".~lock.own.xlsx#").write_text("x")
    result = run_cli("install", "crm", "--to", str(own_workbook), "--upgrade")
    assert result.returncode == 2 and "open in a spreadsheet program" in result.stderr


def test_upgrade_takes_its_turn_with_the_cycles_on_the_workbook(own_workbook, monkeypatch,
                                                                  capsys):
    """While a cycle (here: this test, holding the lock) works on the workbook, an upgrade
    waits for it, and says who holds it if that takes too long; the file is left as it was."""
    import os
    from service.cli import main
    from sync import cycle_lock
    from sync.xlsx.target import workbook_key
    before = own_workbook.read_bytes()
    monkeypatch.setattr(cycle_lock, "WAIT", 0.2)
    with cycle_lock.one_at_a_time(own_workbook.parent / ".sheetkeeper",
                                  workbook_key(own_workbook)):
        code = main(["install", "crm", "--to", str(own_workbook), "--upgrade"])
    assert code == 2 and own_workbook.read_bytes() == before
    assert f"another sheetkeeper (pid {os.getpid()})" in capsys.readouterr().err
    assert main(["install", "crm", "--to", str(own_workbook), "--upgrade"]) == 0


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_an_upgraded_workbook_opens_in_libreoffice(own_workbook, tmp_path):
    import subprocess
    upgrade_workbook(own_workbook, CRM)
    out = tmp_path / "lo"
    subprocess.run(["soffice", "--headless", "--norestore",
                    f"-env:UserInstallation=file://{out}/profile", "--convert-to", "xlsx",
                    "--outdir", str(out), str(own_workbook)], check=True, capture_output=True,
                   timeout=180)
    book = openpyxl.load_workbook(out / "own.xlsx")
    assert book.sheetnames[:2] == ["Customers", "Notes"]
    assert {"Lists", "Review", "Data dictionary", "Merged"} <= set(book.sheetnames)
    assert book["Customers"]["E1"].value == "Customer ID"
