"""`sheetkeeper install` writes a real workbook; read back with openpyxl, as any consumer would."""
import openpyxl
import pytest

from sheet_templates import builtin
from sheet_templates.presentation import STATUS_FILLS
from sync.errors import TemplateInstallError
from sync.xlsx.install import install_new
from tests.conftest import CRM_EN, fingerprint, run_cli


def validations(ws):
    return {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}


def test_install_crm_english(tmp_path):
    path = install_new(builtin("crm"), tmp_path / "c.xlsx", "en")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Customers", "Dashboard", "Purchases", "Follow-ups", "Lists",
                               "Review", "Data dictionary", "Merged"]
    crm = [c.header("en") for c in builtin("crm").columns]
    assert crm[:16] == CRM_EN[:16] and crm[-3:] == CRM_EN[-3:]   # roll-ups after Total spend
    assert [c.value for c in book["Merged"][1]] == crm + ["Merged into", "Merged on"]
    ws = book["Customers"]
    assert [c.value for c in ws[1]] == crm
    purchases = book["Purchases"]
    assert [c.value for c in purchases[1]] == [
        "Date", "Customer ID", "Customer", "Product", "Quantity", "Amount", "Payment method",
        "Notes", "Findings"]
    assert purchases.column_dimensions["B"].number_format == "@"   # IDs stay text
    assert validations(purchases)["G2:G1048576"].formula1.startswith("='Lists'!")
    assert [c.value for c in book["Follow-ups"][1]][:4] == [
        "Date", "Customer ID", "Customer", "Channel"]
    assert ws.freeze_panes == "A2"
    assert ws["A1"].font.bold and ws.column_dimensions["B"].width == 22
    assert ws.column_dimensions["E"].number_format == "@"   # phones typed stay text
    dv = validations(ws)
    assert dv["H2:H1048576"].formula1 == "='Lists'!$A$2:$A$4"        # Customer type
    assert dv["I2:I1048576"].formula1 == "='Lists'!$B$2:$B$4"        # Tier
    assert dv["K2:K1048576"].formula1 == "='Lists'!$D$2:$D$5"        # Status
    assert not dv["H2:H1048576"].showDropDown                      # True would hide the arrow
    lists = book["Lists"]
    assert [lists.cell(row=r, column=4).value for r in range(1, 6)] == \
        ["Status", "New", "Active", "Paused", "Churned"]
    rules = {str(r.sqref): r.rules for r in ws.conditional_formatting}
    status_rules = rules["K2:K1048576"]
    fills = {r.formula[0]: r.dxf.fill.fgColor.rgb[-6:] for r in status_rules}
    assert fills == {'$K2="New"': STATUS_FILLS["new"], '$K2="Active"': STATUS_FILLS["active"],
                     '$K2="Paused"': STATUS_FILLS["paused"],
                     '$K2="Churned"': STATUS_FILLS["churned"]}
    for r in status_rules:  # Excel paints solid fills from bgColor: both must be set
        assert r.dxf.fill.bgColor.rgb[-6:] == r.dxf.fill.fgColor.rgb[-6:]
    overdue = rules["N2:N1048576"][0]
    assert overdue.dxf.font.b and overdue.formula == ["AND(ISNUMBER(N2),N2<TODAY())"]
    finding, = rules["A2:Y1048576"]
    duplicate, = rules["A2:J1048576 L2:Y1048576"]          # the row but its Status cell
    assert "$Y2" in finding.formula[0] and "[Duplicate]" in duplicate.formula[0]
    review = book["Review"]
    assert review["K1"].value == "Decision"
    assert validations(review)["K2:K100000"].formula1 == "='Lists'!$G$2:$G$3"
    dictionary = book["Data dictionary"]
    assert dictionary["A2"].value == "Customer ID"
    assert "Existing, Potential, Partner" in [c.value for c in dictionary[9]]


def test_install_members_chinese(tmp_path):
    path = install_new(builtin("members"), tmp_path / "m.xlsx", "zh-CN")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["会员", "看板", "到店签到", "缴费记录", "列表", "重复审核", "数据字典",
                               "已合并"]
    assert book["会员"]["A1"].value == "会员编号"
    dv = validations(book["会员"])
    assert dv["E2:E1048576"].formula1 == "='列表'!$A$2:$A$6"
    assert book["列表"]["A2"].value == "月卡"


def test_long_lists_use_ranges_not_inline_text(tmp_path):
    """Every dropdown refers to the Lists tab: inline lists over 255 characters break in Excel."""
    book = openpyxl.load_workbook(install_new(builtin("crm"), tmp_path / "c.xlsx"))
    for dv in book["Customers"].data_validations.dataValidation:
        assert dv.formula1.startswith("='Lists'!$") and dv.formula1.count('"') == 0


def test_install_refuses_to_overwrite(tmp_path):
    path = tmp_path / "c.xlsx"
    path.write_bytes(b"precious")
    before = fingerprint(path)
    with pytest.raises(TemplateInstallError, match="will not overwrite"):
        install_new(builtin("crm"), path)
    assert fingerprint(path) == before
    result = run_cli("install", "crm", "--to", str(path))
    assert result.returncode == 2 and "will not overwrite" in result.stderr
    assert "Traceback" not in result.stderr and fingerprint(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.xlsx"]   # no temp files left


def test_install_cli_with_samples_then_check_finds_work(tmp_path):
    path = tmp_path / "c.xlsx"
    result = run_cli("install", "crm", "--to", str(path), "--with-samples")
    assert result.returncode == 0, result.stderr
    assert "with 5 sample rows" in result.stdout
    check = run_cli("check", str(path), "--today", "2026-11-23")
    assert check.returncode == 1
    assert "John McDonald" in check.stdout and "possible" in check.stdout


def test_install_needs_an_existing_folder_and_xlsx_name(tmp_path):
    with pytest.raises(TemplateInstallError, match="no such folder"):
        install_new(builtin("crm"), tmp_path / "missing" / "c.xlsx")
    with pytest.raises(TemplateInstallError, match="must end in .xlsx"):
        install_new(builtin("crm"), tmp_path / "c.csv")
