"""Installing the template into an existing Google Sheet, against the emulator (which checks
every request body against Google's schema): three requests, the team's own tabs untouched."""
from __future__ import annotations

import pytest

from sheet_templates import builtin
from sheet_templates.presentation import colour_rules, lists_tab
from sync.gsheets.client import GoogleSheet, GoogleSheetsError
from sync.gsheets.install import install_into

from .fakesheets import client


@pytest.fixture
def team_sheet(server):
    """A spreadsheet in use: the team's own tab with their own notes."""
    gc = client(server)
    sh = gc.create("Studio")
    sh.sheet1.update_title("Notes")
    sh.sheet1.update([["Opening hours", "9-17"], ["Wifi", "studio-guest"]], "A1:B2")
    return gc, sh


def test_install_adds_the_template_in_three_requests_and_leaves_other_tabs(server, team_sheet):
    gc, sh = team_sheet
    sheet = GoogleSheet.open(gc, sh.id)
    crm = builtin("crm")
    before = len(server.faults.log)
    done = install_into(sheet, crm, "en")
    assert len(server.faults.log) - before == done.requests == 3
    assert done.added_tabs == ("Customers", "Dashboard", "Purchases", "Follow-ups", "Lists",
                               "Review", "Data dictionary", "Merged")
    board = server.state.get(sh.id).sheet("Dashboard")
    assert board.cells[(3, 1)].entered == "=COUNTIF('Customers'!$K:$K,A4)"   # in the same batch
    assert [c["spec"]["basicChart"]["chartType"] for c in board.charts] == [
        "COLUMN", "COLUMN", "LINE", "LINE"]
    assert sh.worksheet("Notes").get_all_values() == [["Opening hours", "9-17"],
                                                      ["Wifi", "studio-guest"]]
    table = sh.worksheet("Customers")
    assert table.row_values(1) == [c.header("en") for c in crm.columns]
    lists = lists_tab(crm, "en")
    assert sh.worksheet("Lists").col_values(2)[:len(lists[1].values) + 1] == \
        [lists[1].header, *lists[1].values]

    meta = next(s for s in sh.fetch_sheet_metadata()["sheets"]
                if s["properties"]["title"] == "Customers")
    assert meta["properties"]["gridProperties"]["frozenRowCount"] == 1
    assert len(meta["conditionalFormats"]) == len(colour_rules(
        crm, "en", {c.key: i for i, c in enumerate(crm.columns)}))
    protected = {p["range"]["startColumnIndex"] for p in meta["protectedRanges"]}
    # The ID, Status, Findings and the roll-ups sheetkeeper owns (Total spend, Orders…), not
    # Last contact, which people type too.
    assert protected == {i for i, c in enumerate(crm.columns)
                         if c.type in ("id", "status", "findings")
                         or (c.rollup and c.key != "last_contact" and c.key != "next_follow_up")}
    assert [c.key for c in crm.columns].index("total_spend") in protected
    assert all(p["warningOnly"] for p in meta["protectedRanges"])

    tier = [c.key for c in crm.columns].index("tier")
    phone = [c.key for c in crm.columns].index("phone")
    cells = sh.fetch_sheet_metadata({
        "ranges": [f"Customers!{chr(65 + tier)}2", f"Customers!{chr(65 + phone)}2"],
        "fields": "sheets.data.rowData.values(dataValidation,userEnteredFormat)"})
    tier_cell = cells["sheets"][0]["data"][0]["rowData"][0]["values"][0]
    assert tier_cell["dataValidation"]["condition"]["type"] == "ONE_OF_RANGE"
    source = tier_cell["dataValidation"]["condition"]["values"][0]["userEnteredValue"]
    assert source.startswith(("=Lists!$", "='Lists'!$"))         # fed from the Lists tab
    assert tier_cell["dataValidation"]["strict"] is False        # warn, keep what was typed
    phone_cell = cells["sheets"][0]["data"][1]["rowData"][0]["values"][0]
    assert phone_cell["userEnteredFormat"]["numberFormat"]["type"] == "TEXT"


def test_install_in_chinese(server, team_sheet):
    gc, sh = team_sheet
    done = install_into(GoogleSheet.open(gc, sh.id), builtin("crm"), "zh-CN")
    assert done.added_tabs[0] == "客户"
    assert "电话" in sh.worksheet("客户").row_values(1)


def test_a_second_install_is_refused_and_changes_nothing(server, team_sheet):
    gc, sh = team_sheet
    sheet = GoogleSheet.open(gc, sh.id)
    install_into(sheet, builtin("crm"), "en")
    version = sheet.change_signal()[1]
    with pytest.raises(GoogleSheetsError, match="already has a 'Customers' tab"):
        install_into(sheet, builtin("crm"), "en")
    assert sheet.change_signal()[1] == version


def test_the_cli_explains_what_a_google_install_needs(tmp_path):
    from .conftest import run_cli
    missing = run_cli("install", "crm", "--to", "gsheet:1AbC")
    assert missing.returncode == 2 and "needs a way in: --credentials KEY.json" in missing.stderr
    no_file = run_cli("install", "crm", "--to",
                      "https://docs.google.com/spreadsheets/d/1AbC/edit",
                      "--credentials", str(tmp_path / "key.json"))
    assert no_file.returncode == 2 and "no such key file" in no_file.stderr
    assert "Traceback" not in missing.stderr + no_file.stderr


def validation_source(server, sheet_id, title, row, col):
    v = server.state.get(sheet_id).sheet(title).validations.get((row, col))
    return v["condition"]["values"][0]["userEnteredValue"] if v else None


def test_a_teams_own_lists_tab_feeds_the_dropdowns_where_it_keeps_them(server, team_sheet):
    """Their Lists tab has Tier first, with a value they added, and no Source list: each
    dropdown reads the team's column, and the missing list is added at the end."""
    gc, sh = team_sheet
    lists = sh.add_worksheet("Lists", 50, 10)
    lists.update([["Tier", "Customer type"], ["VIP", "Existing"], ["Normal", "Potential"],
                  ["Prospect", "Partner"], ["Gold", ""]], "A1")
    crm = builtin("crm")
    done = install_into(GoogleSheet.open(gc, sh.id), crm, "en")
    assert done.requests == 4 and "Lists" not in done.added_tabs
    keys = [c.key for c in crm.columns]
    assert validation_source(server, sh.id, "Customers", 1, keys.index("tier")) == \
        "='Lists'!$A$2:$A$5"                          # Gold included
    assert validation_source(server, sh.id, "Customers", 1, keys.index("customer_type")) == \
        "='Lists'!$B$2:$B$4"
    header = lists.row_values(1)
    assert header[:2] == ["Tier", "Customer type"] and "Source" in header
    assert lists.col_values(header.index("Source") + 1)[1:] == \
        list(next(c.values for c in lists_tab(crm, "en") if c.list_key == "source"))
    decision = validation_source(server, sh.id, "Review", 1, 10)
    assert decision and decision.startswith("='Lists'!$") and "Decision" in header


def test_the_merged_tab_shows_dates_as_dates_and_phones_as_text(server, team_sheet):
    gc, sh = team_sheet
    crm = builtin("crm")
    install_into(GoogleSheet.open(gc, sh.id), crm, "en")
    merged = server.state.get(sh.id).sheet("Merged")
    keys = [c.key for c in crm.columns]
    kinds = {c: merged.formats.get((1, c), {}).get("numberFormat", {}).get("type")
             for c in (keys.index("phone"), keys.index("member_since"), len(keys) + 1)}
    assert kinds == {keys.index("phone"): "TEXT", keys.index("member_since"): "DATE",
                     len(keys) + 1: "DATE"}


def test_each_header_carries_its_columns_help_as_a_note(server, team_sheet):
    gc, sh = team_sheet
    crm = builtin("crm")
    install_into(GoogleSheet.open(gc, sh.id), crm, "zh-CN")
    notes = server.state.get(sh.id).sheet(crm.sheet_names["zh-CN"]).notes
    assert {c: notes.get((0, c)) for c in range(len(crm.columns))} == \
        {i: c.help["zh-CN"] for i, c in enumerate(crm.columns)}


@pytest.mark.parametrize("theirs", ["lists", "REVIEW", "customers"])
def test_a_tab_named_like_one_install_adds_but_in_other_case_is_named_before_sending(
        server, team_sheet, theirs):
    """Google tells tab titles apart regardless of case, so a team's own `lists` tab would
    make the whole batch fail (it adds `Lists`): said before anything is sent."""
    from .conftest import run_cli
    gc, sh = team_sheet
    sh.add_worksheet(theirs, 10, 5)
    before = len(server.faults.log)
    done = run_cli("install", "crm", "--to", f"gsheet:{sh.id}", "--api-endpoint", server.url)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and f"rename the tab '{theirs}'" in done.stderr
    assert not [p for _, p in server.faults.log[before:] if p.endswith("atchUpdate")]
    assert [w.title for w in sh.worksheets()] == ["Notes", theirs]


def test_upgrade_names_a_tab_in_the_way_too(server, team_sheet):
    gc, sh = team_sheet
    sheet = GoogleSheet.open(gc, sh.id)
    install_into(sheet, builtin("crm"), "en")
    sh.del_worksheet(sh.worksheet("Review"))
    sh.add_worksheet("review", 10, 5)
    from sync.gsheets.upgrade import upgrade_google
    with pytest.raises(GoogleSheetsError, match="rename the tab 'review'"):
        upgrade_google(sheet, builtin("crm"))


def test_an_install_whose_answer_was_lost_is_not_undone_by_its_retry(server, team_sheet):
    """The batch that adds the tabs is carried out, its answer lost on the way back: the
    retry finds the tabs there ('already exists'); install sees its own tabs, by the ids it
    chose, and goes on."""
    from .conftest import run_cli
    gc, sh = team_sheet
    server.faults.next("ok", "ok", "lost")      # open, the tab list, then the batch
    done = run_cli("install", "crm", "--to", f"gsheet:{sh.id}", "--api-endpoint", server.url)
    assert done.returncode == 0, done.stderr
    assert ("added Customers, Dashboard, Purchases, Follow-ups, Lists, Review, "
            "Data dictionary, Merged") in done.stdout
    assert sh.worksheet("Customers").row_values(1)[:2] == ["Customer ID", "Name"]
    assert [w.title for w in sh.worksheets()] == [
        "Customers", "Dashboard", "Purchases", "Follow-ups", "Lists", "Review",
        "Data dictionary", "Merged", "Notes"]
