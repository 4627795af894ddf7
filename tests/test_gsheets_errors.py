"""What a team meets on its first day with a real Google account, told in one line that says what
to do: a sheet not shared with the account, an API not enabled in the Cloud project, any other
refusal in Google's own words. Every
error of gspread, google-auth and requests becomes one of sheetkeeper's own at the seam
(sync/gsheets/client.py): none escapes sync/. Against the emulator, through the real gspread
client, and the real CLI in a subprocess."""
from __future__ import annotations

import gspread
import pytest
import tenacity

from sheet_templates import builtin
from sync.errors import SheetkeeperError
from sync.gsheets.client import EndpointHTTPClient, GoogleSheet, endpoint_client
from sync.gsheets.install import install_into

from .conftest import run_cli
from .fakesheets import client
from .fakesheets.state import PROJECT

OWNER = "owner@team.example"
CONSOLE = "https://console.developers.google.com/apis/api/{}/overview?project=" + PROJECT


def one_line_exit_2(done) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    return done.stderr


def theirs(server, title="Team customers"):
    """A spreadsheet another account owns (a team member made it)."""
    return client(server, OWNER).create(title)


# -- 1. not shared; an API not enabled ---------------------------------------------------------

def test_a_sheet_not_shared_with_the_account_says_whom_to_share_it_with(server):
    key = theirs(server).id
    said = one_line_exit_2(run_cli("check", f"gsheet:{key}", "--api-endpoint", server.url))
    assert f"share it with {server.state.user}" in said
    assert said.startswith("sheetkeeper check: ")


@pytest.mark.parametrize("api,title,command", [
    ("sheets.googleapis.com", "Google Sheets API", "check"),
    ("drive.googleapis.com", "Google Drive API", "snapshot")])
def test_an_api_not_enabled_says_which_for_which_project_and_where(server, tmp_path, api,
                                                                   title, command):
    sh = client(server).create("Customers")
    install_into(GoogleSheet.open(client(server), sh.id), builtin("crm"), "en")
    server.state.disabled.add(api)
    said = one_line_exit_2(run_cli(command, f"gsheet:{sh.id}", "--api-endpoint", server.url,
                                   *(["--data", str(tmp_path)] if command == "snapshot" else [])))
    assert f"enable the {title} for project {PROJECT}: {CONSOLE.format(api)}" in said


# -- 2. every error translated; Google's own message -------------------------------------------

def retrying(server, token=None):
    """The production client, at the emulator, retrying without sleeping."""
    cls = type("Quick", (EndpointHTTPClient,), {
        "base": server.url, "sleep": staticmethod(lambda s: None),
        "stop": tenacity.stop_after_attempt(3)})
    return cls


def failing(server, tmp_path, kind):
    """Each way Google or the way to it fails, and what sheetkeeper raises for it."""
    gc = endpoint_client(server.url)
    if kind == "not shared":
        return GoogleSheet.open(gc, theirs(server).id)
    if kind == "no such sheet":
        return GoogleSheet.open(gc, "1NoSuchSheet")
    mine = GoogleSheet.open(gc, client(server).create("Mine").id)
    if kind == "drive off":
        server.state.disabled.add("drive.googleapis.com")
        return mine.change_signal()
    if kind == "read only":
        shared = theirs(server)
        shared.share(server.state.user, perm_type="user", role="reader", notify=False)
        return GoogleSheet.open(gc, shared.id).add_tabs(["Review"])
    if kind == "refused":            # a range past the grid, in Google's words
        return mine.read(["Nope"])
    quick = gspread.Client(gc.http_client.auth, http_client=retrying(server))
    server.faults.next(*[{"5xx": "503", "dropped": "drop"}[kind]] * 5)
    return GoogleSheet.open(quick, mine.key)


@pytest.mark.parametrize("kind", ["not shared", "no such sheet", "drive off",
                                  "read only", "refused", "5xx", "dropped"])
def test_no_error_of_gspread_google_auth_or_requests_escapes(server, tmp_path, kind):
    with pytest.raises(Exception) as raised:
        failing(server, tmp_path, kind)
    assert isinstance(raised.value, SheetkeeperError), repr(raised.value)
    assert "\n" not in str(raised.value)


def test_any_other_refusal_is_one_line_in_googles_own_words(server, tmp_path):
    """Shared to read only (a common slip: Viewer, not Editor): the write is refused."""
    sh = theirs(server)
    sh.share(server.state.user, perm_type="user", role="writer", notify=False)
    done = run_cli("install", "crm", "--to", f"gsheet:{sh.id}", "--api-endpoint", server.url)
    assert done.returncode == 0, done.stderr
    sh.worksheet("Customers").update([["", "ANNA BERG"]], "A2")
    sh.share(server.state.user, perm_type="user", role="reader", notify=False)
    said = one_line_exit_2(run_cli("apply", f"gsheet:{sh.id}", "--api-endpoint", server.url,
                                   "--data", str(tmp_path)))
    assert "The caller does not have permission" in said and "403" in said
    assert "Editor" in said
