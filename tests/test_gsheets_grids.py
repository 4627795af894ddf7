"""Tabs that are not grids, and ranges past a tab's grid: Google refuses to read values from a
chart on a sheet of its own, or past a tab's rows (`'Tab'!1:10` on a 5-row tab), with a 400.
The emulator refuses both; the snapshot, restore, upgrade and the cycle read only grid tabs,
within their grids."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import requests

from sheet_templates import builtin
from sync.gsheets.backup import restore_google, take_google_snapshot
from sync.gsheets.target import apply_google
from sync.gsheets.upgrade import upgrade_google
from sync.plan import RuleSettings

from .fakesheets import installed_sheet
from .fakesheets import state as fake

SETTINGS = RuleSettings(today=dt.date(2026, 11, 23), phone_region="CN")


def add_chart_sheet(server, key: str, title: str = "Chart1", index: int = 0) -> None:
    """A chart on a sheet of its own, as Google lists it (sheetType OBJECT, no grid). Put into
    the emulator's state directly: the emulator's addChart places charts over a grid only."""
    book = server.state.get(key)
    book.sheets.insert(index, fake.Sheet(424242, title, index, kind="OBJECT"))
    for i, sheet in enumerate(book.sheets):
        sheet.index = i


def values(server, key: str, *ranges: str) -> requests.Response:
    return requests.get(f"{server.url}/v4/spreadsheets/{key}/values:batchGet",
                        params={"ranges": list(ranges)},
                        headers={"Authorization": "Bearer test"})


@pytest.fixture
def sheet(server):
    google = installed_sheet(server, [["", "Anna Berg", "Acme", "", "13800138000"],
                                      ["", "Li Wei", "", "", "13900139000"]])
    small = google.spreadsheet.add_worksheet("Small", rows=5, cols=3)
    small.update([["a", "b"], ["c", "=1+2"]], "A1", raw=False)
    add_chart_sheet(server, google.key)
    return google


def test_the_emulator_refuses_ranges_past_the_grid_and_chart_sheets(server, sheet):
    meta = sheet.spreadsheet.fetch_sheet_metadata()["sheets"][0]["properties"]
    assert meta["sheetType"] == "OBJECT" and "gridProperties" not in meta
    past = values(server, sheet.key, "'Small'!1:10")
    assert past.status_code == 400
    assert past.json()["error"] == {
        "code": 400, "status": "INVALID_ARGUMENT",
        "message": "Range (Small!1:10) exceeds grid limits. Max rows: 5, max columns: 3"}
    assert values(server, sheet.key, "'Small'!D1").status_code == 400
    assert values(server, sheet.key, "'Small'!1:5", "'Small'!A1:C5", "Small").status_code == 200
    chart = values(server, sheet.key, "'Chart1'")
    assert chart.status_code == 400 and chart.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_snapshot_and_restore_read_only_grid_tabs(server, sheet, tmp_path):
    snap = take_google_snapshot(sheet, tmp_path)
    tabs = {t["title"]: t["values"] for t in json.loads(snap.path.read_bytes())["tabs"]}
    assert "Chart1" not in tabs and tabs["Small"] == [["a", "b"], ["c", "=1+2"]]
    sheet.spreadsheet.worksheet("Small").update([["changed"]], "A1")
    restore_google(snap.id, tmp_path, sheet)
    small = server.state.get(sheet.key).sheet("Small")
    assert small.cells[(0, 0)].value == "a" and small.cells[(1, 1)].entered == "=1+2"
    assert server.state.get(sheet.key).sheets[0].kind == "OBJECT"     # the chart left be


def test_upgrade_reads_a_small_tab_within_its_grid_and_no_chart_sheet(server, sheet):
    done = upgrade_google(sheet, builtin("crm"))
    assert done.added_tabs == ()


def test_a_cycle_with_a_chart_sheet_first(server, sheet, tmp_path):
    result = apply_google(sheet, SETTINGS, tmp_path)
    assert result.written and server.state.get(sheet.key).sheet("Customers").cells[
        (1, 0)].value == "C-000001"


def test_a_chart_sheet_title_still_clashes_with_a_tab_added(server, sheet):
    from sync.errors import GoogleSheetsError
    sheet.tabs()
    assert "Chart1" not in sheet.grids and "Chart1" in sheet.titles
    with pytest.raises(GoogleSheetsError, match="has a tab 'Chart1'"):
        sheet.add_tabs(["chart1"])


def test_upgrade_looks_for_a_header_no_further_than_a_small_tabs_grid(server):
    google = installed_sheet(server, [["", "Anna Berg"]])
    google.spreadsheet.add_worksheet("Tiny", rows=3, cols=2)       # fewer rows than it looks at
    assert upgrade_google(google, builtin("crm")).added_tabs == ()


def test_charts_and_cells_past_the_grid_are_refused_as_google_refuses_them(server, sheet):
    """addChart over ranges and at an anchor within a tab's grid is kept and listed with the
    tab; past the grid it is a 400, and so is updateCells writing past it."""
    small = sheet.spreadsheet.worksheet("Small").id
    ok = {"addChart": {"chart": {"spec": {"title": "t", "basicChart": {
        "chartType": "COLUMN",
        "domains": [{"domain": {"sourceRange": {"sources": [
            {"sheetId": small, "startRowIndex": 0, "endRowIndex": 2,
             "startColumnIndex": 0, "endColumnIndex": 1}]}}}],
        "series": [{"series": {"sourceRange": {"sources": [
            {"sheetId": small, "startRowIndex": 0, "endRowIndex": 2,
             "startColumnIndex": 1, "endColumnIndex": 2}]}}}]}},
        "position": {"overlayPosition": {"anchorCell": {
            "sheetId": small, "rowIndex": 0, "columnIndex": 2}}}}}}
    answer = sheet.spreadsheet.batch_update({"requests": [ok]})
    chart_id = answer["replies"][0]["addChart"]["chart"]["chartId"]
    listed = next(s for s in sheet.spreadsheet.fetch_sheet_metadata()["sheets"]
                  if s["properties"]["title"] == "Small")
    assert [c["chartId"] for c in listed["charts"]] == [chart_id]
    past = json.loads(json.dumps(ok))
    past["addChart"]["chart"]["spec"]["basicChart"]["series"][0]["series"]["sourceRange"][
        "sources"][0]["endRowIndex"] = 9
    with pytest.raises(Exception, match="400"):
        sheet.spreadsheet.batch_update({"requests": [past]})
    with pytest.raises(Exception, match="400"):
        sheet.spreadsheet.batch_update({"requests": [{"updateCells": {
            "start": {"sheetId": small, "rowIndex": 4, "columnIndex": 2},
            "rows": [{"values": [{"userEnteredValue": {"stringValue": "x"}},
                                 {"userEnteredValue": {"stringValue": "y"}}]}],
            "fields": "userEnteredValue"}}]})


def test_dates_as_formatted_strings_and_warning_only_protections_read_back_as_google_does(
        server, sheet):
    """dateTimeRenderOption=FORMATTED_STRING gives a date as its number format shows it (a
    date typed, or a number in a column formatted as a date); SERIAL_NUMBER, the default, and
    what sheetkeeper asks for, the number. A warning-only protected range keeps no editors
    ("editors are ignored" when writing it) and reads back with requestingUserCanEdit."""
    small = sheet.spreadsheet.worksheet("Small")
    small.update([["2026-03-05", 46086]], "A3", raw=False)
    sheet.spreadsheet.batch_update({"requests": [{"repeatCell": {
        "range": {"sheetId": small.id, "startRowIndex": 2, "endRowIndex": 3,
                  "startColumnIndex": 1, "endColumnIndex": 2},
        "cell": {"userEnteredFormat": {"numberFormat": {"type": "DATE",
                                                        "pattern": "yyyy-mm-dd"}}},
        "fields": "userEnteredFormat.numberFormat"}}]})

    def third_row(dates: str | None) -> list:
        params = {"ranges": "'Small'!A3:B3", "valueRenderOption": "UNFORMATTED_VALUE",
                  **({"dateTimeRenderOption": dates} if dates else {})}
        answer = requests.get(f"{server.url}/v4/spreadsheets/{sheet.key}/values:batchGet",
                              params=params, headers={"Authorization": "Bearer test"})
        return answer.json()["valueRanges"][0]["values"][0]

    assert third_row(None) == third_row("SERIAL_NUMBER") == [46086, 46086]
    assert third_row("FORMATTED_STRING") == ["2026-03-05", "2026-03-05"]
    sheet.spreadsheet.batch_update({"requests": [{"addProtectedRange": {"protectedRange": {
        "range": {"sheetId": small.id, "startRowIndex": 0, "endRowIndex": 1},
        "warningOnly": True, "editors": {"users": ["someone@example.com"]},
        "description": "computed"}}}]})
    meta = next(s for s in sheet.spreadsheet.fetch_sheet_metadata()["sheets"]
                if s["properties"]["title"] == "Small")
    protected, = meta["protectedRanges"]
    assert protected["warningOnly"] and protected["requestingUserCanEdit"]
    assert "editors" not in protected
