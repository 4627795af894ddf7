"""An array formula's result is never written over (#19 item 13): the cells it fills read as
plain values (a workbook's cached values inside the formula's range; a Google Sheet's values
below an ARRAYFORMULA), and a cycle that normalised them would break the formula (#SPILL! in
Excel, #REF! in Google Sheets). Nor does a restore write them back: it clears them for the
formula to fill again."""
from __future__ import annotations

import datetime as dt
import json

import openpyxl
from openpyxl.worksheet.formula import ArrayFormula

from sheet_templates import builtin
from sync.gsheets.backup import restore_google, take_google_snapshot
from sync.gsheets.spills import spilled
from sync.gsheets.target import apply_google
from sync.plan import RuleSettings
from sync.xlsx.install import install_new
from sync.xlsx.target import apply_workbook

from .fakesheets import installed_sheet

SETTINGS = RuleSettings(today=dt.date(2026, 11, 23), phone_region="CN")
CRM = builtin("crm")
PHONE = [c.key for c in CRM.columns].index("phone")


def test_a_workbooks_array_result_is_left_alone(tmp_path):
    path = install_new(CRM, tmp_path / "c.xlsx", "en", [
        {"customer_id": f"C-00000{n}", "name": f"Person {n}", "email": f"p{n}@x.org"}
        for n in (1, 2, 3)])
    book = openpyxl.load_workbook(path)
    ws = book["Customers"]
    letter = openpyxl.utils.get_column_letter(PHONE + 1)
    # A dynamic array in the Phone column: its anchor holds the formula; the cells below hold
    # the cached results, as Excel saves them, in a form the phone rule would rewrite.
    ws[f"{letter}2"] = ArrayFormula(f"{letter}2:{letter}4", "=T(\"138 0013 8000\")")
    ws[f"{letter}3"] = "139 0013 9000"
    ws[f"{letter}4"] = "137 0013 7000"
    ws["A5"], ws["B5"], ws[f"{letter}5"] = "C-000004", "Typed Person", "136 0013 6000"
    book.save(path)
    apply_workbook(path, SETTINGS)
    ws = openpyxl.load_workbook(path)["Customers"]
    assert ws[f"{letter}3"].value == "139 0013 9000" and ws[f"{letter}4"].value == "137 0013 7000"
    assert ws[f"{letter}5"].value == "+8613600136000"          # a typed phone is still cleaned


def test_a_google_sheets_array_result_is_left_alone_and_restored_empty(server, tmp_path):
    sheet = installed_sheet(server, [
        ["C-000001", "Ann Lee", "", "", '=ARRAYFORMULA("138 0013 800"&ROW(A2:A3))'],
        ["C-000002", "Bob Stone", "", "", "138 0013 8003"],            # the result, as read
        ["C-000003", "Cy Wu", "", "", ""],
        ["C-000004", "Di Ho", "", "", "136 0013 6000"]], raw=False)
    apply_google(sheet, SETTINGS, tmp_path)
    cells = server.state.get(sheet.key).sheet("Customers").cells
    assert cells[(2, PHONE)].value == "138 0013 8003"               # never "normalised"
    assert cells[(4, PHONE)].value == "+8613600136000"              # after a gap: typed
    snap = take_google_snapshot(sheet, tmp_path)
    restore_google(snap.id, tmp_path, sheet)
    cells = server.state.get(sheet.key).sheet("Customers").cells
    assert cells[(1, PHONE)].entered.startswith("=ARRAYFORMULA(")
    assert (2, PHONE) not in cells                  # cleared for the formula to fill again


def test_which_cells_a_result_may_fill():
    grid = [["=SPLIT(\"a,b,c\", \",\")", "b", "c", "", "own"],
            ["=SUM(A1:A2)", "x", "", "", ""],
            ["=QUERY(A1:C2, \"select *\")", "q", "=1+1", "", ""],
            ["1", "2", "", "", ""],
            ["", "3", "", "", ""]]
    assert spilled(grid) == {(0, 1), (0, 2),          # SPLIT: across its row, up to a gap
                             (3, 0), (3, 1),          # QUERY: down its column and across,
                             (2, 1)}                  # never over another formula
    assert spilled([["=A1+1"], ["2"]]) == set()       # not an array formula
    data = json.loads(json.dumps(grid))
    assert spilled(data) == spilled(grid)


def test_a_formula_above_or_beside_the_table_is_found_without_a_scan_of_every_cell():
    """The read passes spilled() the formula cells it has found (the table's, and those above
    and beside it) rather than have it look at every cell: the same cells as a full look."""
    from sync.gsheets.target import table_from_values
    headers = [c.header("en") for c in CRM.columns]
    phone = headers.index("Phone")
    title = [None] * (len(headers) + 2)
    title[phone] = '=ARRAYFORMULA("x"&ROW(A1:A4))'          # above the header, down the column
    rows = [title, headers + ["", "=SPLIT(\"a,b\",\",\")"]]
    for n in range(1, 4):
        rows.append([f"C-00000{n}", f"P {n}"] + [None] * (len(headers) - 2) + ["", f"s{n}"])
        rows[-1][phone] = f"13{n} 0013 8000"
    table = table_from_values("t", "Customers", rows, [], [CRM])
    assert {(n, phone) for n in (3, 4, 5)} <= table.formulas       # the title row's spill
    assert spilled(rows) == spilled(rows, [(0, phone), (1, len(headers) + 1)])
