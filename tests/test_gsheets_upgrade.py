"""`install --upgrade` on a Google Sheet already in use, against the emulator: missing columns
and tabs added, dropdowns and colours laid down again once, nothing of the team's touched."""
from __future__ import annotations

import datetime as dt

import pytest

from sheet_templates import builtin
from sync.gsheets.client import GoogleSheet
from sync.gsheets.target import apply_google
from sync.gsheets.install import install_into
from sync.gsheets.upgrade import upgrade_google
from sync.plan import RuleSettings

from .conftest import run_cli
from .fakesheets import client

TEAM = '=$A2="VIP!"'
TEAM_RULE = {"ranges": [{"sheetId": 0, "startRowIndex": 1, "startColumnIndex": 0,
                         "endColumnIndex": 1}],
             "booleanRule": {"condition": {"type": "CUSTOM_FORMULA",
                                           "values": [{"userEnteredValue": TEAM}]},
                             "format": {"textFormat": {"italic": True}}}}


@pytest.fixture
def in_use(server):
    """A list a team made by hand: some of the template's columns, in its own order, starting
    at B3 under a title, with its own column and its own colour rule."""
    gc = client(server)
    sh = gc.create("Gym")
    ws = sh.sheet1
    ws.update_title("Customers")
    ws.update([["Our customers"], [], ["", "Phone", "Name", "Loyalty card", "Email"],
               ["", "138 0013 8000", "ANNA BERG", "LC-17", "anna@acme.com"],
               ["", "13900139000", "li wei", "LC-18", ""]], "A1", raw=True)
    sh.batch_update({"requests": [{"addConditionalFormatRule": {"index": 0,
                                                                 "rule": TEAM_RULE}}]})
    sh.add_worksheet("Notes", 10, 5).update([["keep me"]], "A1")
    return GoogleSheet.open(gc, sh.id)


def grid(sheet, tab):
    return sheet.read([tab])[tab]


def formulas(server, sheet, tab="Customers"):
    """The conditional formats' formulas, as the emulator keeps them (Google's shape)."""
    return [r["booleanRule"]["condition"]["values"][0]["userEnteredValue"]
            for r in server.state.get(sheet.key).sheet(tab).conditional]


def test_upgrade_adds_what_is_missing_and_keeps_the_teams_own(server, in_use, tmp_path):
    crm = builtin("crm")
    before = grid(in_use, "Customers")
    notes = grid(in_use, "Notes")
    start = len(server.faults.log)
    done = upgrade_google(in_use, crm)
    assert done.requests == len(server.faults.log) - start == 4
    after = grid(in_use, "Customers")
    for r, row in enumerate(before):                       # nothing of theirs moved or changed
        assert after[r][:len(row)] == row
    header = after[2]
    assert header[1:5] == ["Phone", "Name", "Loyalty card", "Email"]
    assert header[5:] == [c.header("en") for c in crm.columns
                          if c.header("en") not in ("Phone", "Name", "Email")]
    assert set(done.added_tabs) == {"Lists", "Review", "Data dictionary", "Merged",
                                    "Purchases", "Follow-ups", "Dashboard"}
    # The dashboard counts statuses where this list keeps them, not where install would.
    status = header.index("Status")
    board = server.state.get(in_use.key).sheet("Dashboard")
    letter = chr(ord("A") + status)
    assert board.cells[(3, 1)].entered == f"=COUNTIF('Customers'!${letter}:${letter},A4)"
    assert "MATCH" in board.cells[(10, 4)].entered                  # the top spenders
    assert len(board.charts) == 4
    assert grid(in_use, "Notes") == notes
    review = server.state.get(in_use.key).sheet("Review")
    assert review.validations.get((1, 10))                 # the Decision dropdown
    own = [f for f in formulas(server, in_use) if f != TEAM]
    assert TEAM in formulas(server, in_use) and len(own) == done.colour_rules > 0

    again = upgrade_google(in_use, crm)                    # twice is once
    assert again.added_columns == () and again.added_tabs == ()
    assert sorted(formulas(server, in_use)) == sorted(own + [TEAM])
    protected = server.state.get(in_use.key).sheet("Customers").protected
    # ID, Status, Findings and the 7 roll-ups sheetkeeper owns; not doubled
    assert len(protected) == 3 + 7

    result = apply_google(in_use, RuleSettings(today=dt.date(2026, 11, 23), phone_region="CN"),
                          tmp_path)
    assert result.batch is not None
    assert grid(in_use, "Customers")[3][1:3] == ["+8613800138000", "Anna Berg"]


def test_the_cli_upgrades_a_google_sheet(server, in_use):
    done = run_cli("install", "crm", "--to", f"gsheet:{in_use.key}", "--upgrade",
                   "--api-endpoint", server.url)
    assert done.returncode == 0, done.stderr
    assert "columns added" in done.stdout and "Lists" in done.stdout


def test_a_sheet_without_the_table_is_sent_to_install(server):
    gc = client(server)
    sheet = GoogleSheet.open(gc, gc.create("Empty").id)
    with pytest.raises(Exception, match="sheetkeeper install crm --to gsheet:"):
        upgrade_google(sheet, builtin("crm"))
    install_into(sheet, builtin("crm"), "en")             # and then it can be upgraded
    assert upgrade_google(sheet, builtin("crm")).added_columns == ()
