"""How the sheet looks (issue 20, "Looks"): which colour rule decides a cell, widths that fit the
headers in any script, and the page set up for printing. Real .xlsx files read back with
openpyxl and their XML; for Google, what the emulator was sent."""
from __future__ import annotations

import re
import zipfile

import openpyxl
import pytest
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import PatternFill

from sheet_templates import builtin
from sheet_templates.presentation import DUPLICATE_FILL, FINDING_FILL, STATUS_FILLS
from sync.gsheets.client import GoogleSheet
from sync.gsheets.install import install_into
from sync.gsheets.upgrade import upgrade_google
from sync.xlsx.install import install_new
from sync.xlsx.upgrade import upgrade_workbook

from .fakesheets import client

CRM = builtin("crm")
TEAM_FORMULA = 'LEFT($A2,3)="VIP"'


def table_xml(path, part="xl/worksheets/sheet1.xml") -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(part).decode("utf-8")


def rules_in_file_order(path):
    """(sqref, priority, stopIfTrue, formula) of each rule, as the file lists them:
    LibreOffice goes by this order, Excel by the priorities."""
    out = []
    for sqref, body in re.findall(r'<conditionalFormatting sqref="([^"]+)">(.*?)'
                                  r"</conditionalFormatting>", table_xml(path), re.DOTALL):
        for attrs, formula in re.findall(r"<cfRule\b([^>]*)>\s*<formula>(.*?)</formula>", body):
            priority = int(re.search(r'priority="(\d+)"', attrs)[1])
            stop = re.search(r'stopIfTrue="(1|true)"', attrs) is not None
            out.append((sqref, priority, stop, formula.replace("&quot;", '"')))
    return out


def kind(formula: str) -> str:
    if "CHAR(10)" in formula:
        return "finding"
    if "MONTH(" in formula:
        return "birthday"
    if "[At risk]" in formula or "[流失风险]" in formula:
        return "at_risk"
    if "SEARCH(" in formula:
        return "duplicate"
    if "TODAY()" in formula:
        return "overdue"
    return "status" if formula.startswith("$") else "team"


def status_letter(path, lang="en"):
    ws = openpyxl.load_workbook(path)[CRM.sheet_names[lang]]
    header = [c.value for c in ws[1]]
    return openpyxl.utils.get_column_letter(
        header.index(CRM.column(CRM.status.column).header(lang)) + 1)


def assert_first_match_order(rules, status):
    """Every rule stops if true; the file's order is the priorities' order; a finding comes
    first, the status colours before the row's tint, and the tint leaves out the Status cell."""
    ours = [r for r in rules if kind(r[3]) != "team"]
    assert ours and all(stop for _, _, stop, _ in ours)
    priorities = [p for _, p, _, _ in rules]
    assert priorities == sorted(priorities) and len(set(priorities)) == len(priorities)
    kinds = [kind(f) for _, _, _, f in ours]
    assert kinds[0] == "finding" and kinds[-1] == "duplicate"
    assert kinds.index("duplicate") > max(i for i, k in enumerate(kinds) if k == "status")
    tint = next(sqref for sqref, _, _, f in ours if kind(f) == "duplicate")
    # A birthday's pink and a churn warning's lilac, each on its own cell, before the tint.
    assert {"birthday", "at_risk"} <= set(kinds[:-1])
    assert f"{status}2:" not in tint and f":{status}1048576" not in tint
    spans = [re.fullmatch(r"([A-Z]+)2:([A-Z]+)1048576", s).groups() for s in tint.split()]
    col = openpyxl.utils.column_index_from_string
    covered = {c for a, b in spans for c in range(col(a), col(b) + 1)}
    assert col(status) not in covered and len(covered) >= 10   # the rest of the row is tinted


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_installed_rules_let_status_show_on_a_duplicate_row(tmp_path, lang):
    path = install_new(CRM, tmp_path / "c.xlsx", lang)
    status = status_letter(path, lang)
    rules = rules_in_file_order(path)
    assert_first_match_order(rules, status)
    ws = openpyxl.load_workbook(path)[CRM.sheet_names[lang]]
    fills = {kind(r.formula[0]): r.dxf.fill.fgColor.rgb[-6:]
             for cf in ws.conditional_formatting for r in cf.rules if r.dxf.fill}
    assert fills["finding"] == FINDING_FILL and fills["duplicate"] == DUPLICATE_FILL
    assert fills["status"] in STATUS_FILLS.values()


def test_upgrade_lays_the_same_order_after_the_teams_own_rules(tmp_path):
    """A workbook installed before the order changed (finding and tint over one range, tint
    above the status colours, no stop) with a team rule of its own: the upgrade lays down the
    new order after the team's rule, which keeps its priority; twice is once."""
    path = install_new(CRM, tmp_path / "c.xlsx", "en")
    book = openpyxl.load_workbook(path)
    ws = book["Customers"]
    old = [(str(cf.sqref), r) for cf in ws.conditional_formatting for r in cf.rules]
    ws.conditional_formatting = type(ws.conditional_formatting)()
    ws.conditional_formatting.add("A2:A500", FormulaRule(
        formula=[TEAM_FORMULA], fill=PatternFill("solid", start_color="FFD700",
                                                 end_color="FFD700")))
    legacy_order = sorted(old, key=lambda o: {"finding": 0, "duplicate": 1}.get(
        kind(o[1].formula[0]), 2))
    for sqref, rule in legacy_order:
        rule.stopIfTrue = None
        ws.conditional_formatting.add(sqref.split()[0] if kind(rule.formula[0]) != "duplicate"
                                      else "A2:S1048576", rule)
    book.save(path)

    upgrade_workbook(path, CRM)
    rules = rules_in_file_order(path)
    assert rules[0] == ("A2:A500", 1, False, TEAM_FORMULA)            # theirs, first, as it was
    assert_first_match_order(rules, status_letter(path))
    assert len(rules) == len(old) + 1
    once = path.read_bytes()
    upgrade_workbook(path, CRM)
    assert rules_in_file_order(path) == rules and path.read_bytes() == once


# -- Google Sheets ----------------------------------------------------------------------------

def google_rules(server, key, tab="Customers"):
    return server.state.get(key).sheet(tab).conditional


def google_kinds(rules):
    return [kind(r["booleanRule"]["condition"]["values"][0]["userEnteredValue"].lstrip("="))
            for r in rules]


def test_google_install_sends_the_rules_in_first_match_order(server):
    gc = client(server)
    sh = gc.create("Studio")
    install_into(GoogleSheet.open(gc, sh.id), CRM, "en")
    rules = google_rules(server, sh.id)
    kinds = google_kinds(rules)
    assert kinds[0] == "finding" and kinds[-1] == "duplicate"
    assert kinds.index("duplicate") > max(i for i, k in enumerate(kinds) if k == "status")
    status = [c.key for c in CRM.columns].index(CRM.status.column)
    tint = rules[-1]["ranges"]
    assert [(r["startColumnIndex"], r["endColumnIndex"]) for r in tint] == \
        [(0, status), (status + 1, len(CRM.columns))]
    assert all(r["startRowIndex"] == 1 and "endRowIndex" not in r for r in tint)


def test_google_upgrade_puts_its_rules_after_the_teams_own(server):
    gc = client(server)
    sh = gc.create("Studio")
    sheet = GoogleSheet.open(gc, sh.id)
    install_into(sheet, CRM, "en")
    table = next(s["properties"]["sheetId"] for s in sh.fetch_sheet_metadata()["sheets"]
                 if s["properties"]["title"] == "Customers")
    sh.batch_update({"requests": [{"addConditionalFormatRule": {"index": 0, "rule": {
        "ranges": [{"sheetId": table, "startRowIndex": 1, "startColumnIndex": 0,
                    "endColumnIndex": 1}],
        "booleanRule": {"condition": {"type": "CUSTOM_FORMULA",
                                      "values": [{"userEnteredValue": "=" + TEAM_FORMULA}]},
                        "format": {"textFormat": {"italic": True}}}}}}]})
    installed = google_kinds(google_rules(server, sh.id))
    upgrade_google(sheet, CRM)
    kinds = google_kinds(google_rules(server, sh.id))
    assert kinds == installed                      # the team's first, then sheetkeeper's
    upgrade_google(sheet, CRM)
    assert google_kinds(google_rules(server, sh.id)) == kinds


# -- widths and printing ----------------------------------------------------------------------

def test_a_cjk_character_is_two_latin_widths():
    from sheet_templates.presentation import display_width, header_width
    assert display_width("Tier") == 4 and display_width("客户等级") == 8
    assert display_width("ＡＢ") == 4                       # full-width forms too
    assert header_width(11, "客户等级") >= 8 + 3 > 11 - 1


def assert_headers_fit(ws):
    from sheet_templates.presentation import display_width
    for cell in ws[1]:
        if cell.value:
            width = ws.column_dimensions[cell.column_letter].width
            assert width >= display_width(str(cell.value)) * 1.1 + 3, (ws.title, cell.value)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_installed_headers_fit_and_the_table_prints_landscape_with_its_header(tmp_path, lang):
    from sheet_templates.presentation import column_widths, pages_wide
    book = openpyxl.load_workbook(install_new(CRM, tmp_path / "c.xlsx", lang))
    for ws in book.worksheets:
        assert_headers_fit(ws)
    ws = book[CRM.sheet_names[lang]]
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    pages = pages_wide(column_widths(CRM, lang))
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (pages, 0)
    assert 1 <= pages <= 3
    assert ws.print_title_rows == "$1:$1" and ws.page_setup.pageOrder == "overThenDown"


def test_a_wide_table_prints_on_more_pages_and_a_narrow_one_on_one():
    from sheet_templates.presentation import (
        PRINT_MIN_SCALE,
        PRINT_WIDTH_PT,
        pages_wide,
        width_px,
    )
    assert pages_wide([14] * 5) == 1
    widths = [30] * 20
    pages = pages_wide(widths)
    table_pt = sum(width_px(w) for w in widths) * 0.75
    assert pages > 1 and table_pt / pages * PRINT_MIN_SCALE <= PRINT_WIDTH_PT
    assert (pages - 1) * PRINT_WIDTH_PT < table_pt * PRINT_MIN_SCALE   # no fewer would do


def test_upgrade_sets_up_printing_and_widths_where_the_workbook_has_none(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Customers"
    ws.append(["Name", "Phone", "Email"])
    ws.column_dimensions["A"].width = 40                       # the team's own width
    path = tmp_path / "own.xlsx"
    book.save(path)
    report = upgrade_workbook(path, CRM)
    assert report.page_setup and "header row on every page" in report.page_setup
    book = openpyxl.load_workbook(path)
    ws = book["Customers"]
    assert ws.column_dimensions["A"].width == 40
    assert_headers_fit(ws)
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.print_title_rows == "$1:$1"
    assert ws.page_setup.pageOrder == "overThenDown"
    for tab in ("Lists", "Review", "Data dictionary", "Merged"):
        assert_headers_fit(book[tab])
    once = path.read_bytes()
    assert upgrade_workbook(path, CRM).page_setup == [] and path.read_bytes() == once


def test_upgrade_keeps_a_page_setup_and_print_titles_of_the_teams_own(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "客户"
    ws.append(["标题"])
    ws.append(["姓名", "电话", "邮箱"])
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3
    ws.print_title_rows = "1:2"
    path = tmp_path / "own.xlsx"
    book.save(path)
    assert upgrade_workbook(path, CRM).page_setup == []
    ws = openpyxl.load_workbook(path)["客户"]
    assert ws.page_setup.orientation == "portrait" and ws.print_title_rows == "$1:$2"
    header = {c.value: c.column_letter for c in ws[2] if c.value}
    assert ws.column_dimensions[header["客户等级"]].width >= 8 * 1.1 + 3


# -- rows tall enough for their findings ------------------------------------------------------

def test_row_height_estimates():
    from sync.xlsx import heights
    assert heights.lines("Phone: no country code", 40) == 1
    assert heights.lines("a\nb\nc", 40) == 3
    assert heights.lines("电话" * 20, 41) == 2                # 80 widths in 40 a line
    assert heights.needed_height([("x\n" * 100, 40)]) == heights.MAX_PT
    tag = b'<row r="3">'
    assert heights.grown(tag, 45) == b'<row r="3" ht="45">'
    assert heights.grown(b'<row r="3" ht="60">', 45) == b'<row r="3" ht="60">'   # not shrunk
    assert heights.grown(b'<row r="3" ht="20">', 45) == b'<row r="3" ht="45">'
    custom = b'<row r="3" ht="18" customHeight="1">'
    assert heights.grown(custom, 45) == custom                # a person's height stays
    assert heights.grown(tag, 15) == tag                      # one line: nothing to do


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_apply_makes_rows_tall_enough_for_their_findings(tmp_path, lang):
    """The sample rows' findings, written by apply, each in a row whose height holds its lines
    at the Findings column's width; a row a person sized keeps its height; no row is made a
    person's (customHeight) by sheetkeeper."""
    from sheet_templates.loader import sample_rows
    from sync.plan import RuleSettings
    from sync.xlsx import heights
    from sync.xlsx.target import apply_workbook
    from tests.conftest import TODAY
    path = install_new(CRM, tmp_path / "c.xlsx", lang, sample_rows("crm", lang))
    book = openpyxl.load_workbook(path)
    ws = book[CRM.sheet_names[lang]]
    ws.row_dimensions[4].height = 18                          # sized by a person
    book.save(path)
    apply_workbook(path, RuleSettings(today=TODAY))
    ws = openpyxl.load_workbook(path)[CRM.sheet_names[lang]]
    findings = len(CRM.columns)
    width = ws.column_dimensions[openpyxl.utils.get_column_letter(findings)].width
    tall = 0
    for r in range(2, ws.max_row + 1):
        text = ws.cell(row=r, column=findings).value
        height = ws.row_dimensions[r].height
        if r == 4:
            assert height == 18
        elif text and heights.lines(text, width) > 1:
            assert height >= heights.lines(text, width) * heights.LINE_PT, (r, text)
            tall += 1
    assert tall >= 1
    rows = [t for t in re.findall(r"<row\b[^>]*>", table_xml(path)) if 'r="1"' not in t]
    assert [t for t in rows if "customHeight" in t] == [t for t in rows if 'r="4"' in t]


# -- Google Sheets: widths and wrapping -------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_google_install_sizes_columns_for_their_headers_and_wraps_findings(server, lang):
    from sheet_templates.presentation import column_widths, width_px
    gc = client(server)
    sh = gc.create("Studio")
    install_into(GoogleSheet.open(gc, sh.id), CRM, lang)
    book = server.state.get(sh.id)
    table = book.sheet(CRM.sheet_names[lang])
    assert table.column_pixels == {i: width_px(w)
                                   for i, w in enumerate(column_widths(CRM, lang))}
    review = book.sheet(CRM.word("tabs", "review", lang))
    assert len(review.column_pixels) == 12
    keys = [c.key for c in CRM.columns]
    for key in ("findings", "notes"):
        assert table.formats[(1, keys.index(key))]["wrapStrategy"] == "WRAP"
        assert table.formats[(999, keys.index(key))]["wrapStrategy"] == "WRAP"
    assert "wrapStrategy" not in table.formats.get((1, keys.index("name")), {})


def test_google_upgrade_sizes_only_the_columns_it_adds(server):
    from sheet_templates.presentation import header_width, width_px
    gc = client(server)
    sh = gc.create("Gym")
    sh.sheet1.update_title("Customers")
    sh.sheet1.update([["Name", "Phone", "Email"]], "A1")
    sheet = GoogleSheet.open(gc, sh.id)
    done = upgrade_google(sheet, CRM)
    table = server.state.get(sh.id).sheet("Customers")
    assert set(table.column_pixels) == set(range(3, 3 + len(done.added_columns)))
    findings = 3 + list(done.added_columns).index("Findings")
    assert table.column_pixels[findings] == width_px(header_width(40, "Findings"))
    assert table.formats[(1, findings)]["wrapStrategy"] == "WRAP"


def test_an_upgraded_list_wraps_its_new_findings_column_and_fits_its_rows(tmp_path):
    from sync.plan import RuleSettings
    from sync.xlsx import heights
    from sync.xlsx.target import apply_workbook
    from tests.conftest import TODAY
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Customers"
    ws.append(["Name", "Phone", "Email"])
    ws.append(["ann lee", "12345", "not an email"])
    path = tmp_path / "own.xlsx"
    book.save(path)
    upgrade_workbook(path, CRM)
    apply_workbook(path, RuleSettings(today=TODAY))
    ws = openpyxl.load_workbook(path)["Customers"]
    header = [c.value for c in ws[1]]
    findings = ws.cell(row=2, column=header.index("Findings") + 1)
    assert findings.value and findings.alignment.wrap_text
    width = ws.column_dimensions[findings.column_letter].width
    assert heights.lines(findings.value, width) >= 2
    assert ws.row_dimensions[2].height >= heights.lines(findings.value, width) * heights.LINE_PT
    notes = ws.column_dimensions[openpyxl.utils.get_column_letter(header.index("Notes") + 1)]
    assert notes.alignment.wrap_text
