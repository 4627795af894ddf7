"""What a team meets on its first day with a real Google account, told in one line that says what
to do: a sheet not shared with the account, an API not enabled in the Cloud project, a sign-in
that expired, an .xlsx file stored in Drive, any other refusal in Google's own words. Every
error of gspread, google-auth and requests becomes one of sheetkeeper's own at the seam
(sync/gsheets/client.py): none escapes sync/. Against the emulator, through the real gspread
client, and the real CLI in a subprocess."""
from __future__ import annotations

import json
import threading
import time

import gspread
import pytest
import requests
import tenacity

from sheet_templates import builtin
from sync.errors import SheetkeeperError
from sync.gsheets.client import (EndpointHTTPClient, GoogleSheet, GoogleSheetsError,
                                 authorized_user_client, endpoint_client, google_login)
from sync.gsheets.install import install_into

from .conftest import run_cli
from .fakesheets import client
from .fakesheets.state import PROJECT, XLSX_MIME

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
    if kind == "xlsx":
        made = requests.post(f"{server.url}/drive/v3/files",
                             json={"name": "customers.xlsx", "mimeType": XLSX_MIME})
        return GoogleSheet.open(gc, made.json()["id"])
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


@pytest.mark.parametrize("kind", ["not shared", "no such sheet", "xlsx", "drive off",
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


# -- 3. sign-ins that expire; the network during a refresh; consent ----------------------------

def token_file(tmp_path, refresh="1//refresh"):
    path = tmp_path / "google-user.json"
    path.write_text(json.dumps({
        "type": "authorized_user", "client_id": "1234.apps.googleusercontent.com",
        "client_secret": "not-a-secret", "refresh_token": refresh,
        "token_uri": "https://oauth2.googleapis.com/token"}))
    return path


def test_an_expired_or_revoked_sign_in_says_to_sign_in_again(server, tmp_path):
    key = client(server).create("Members").id
    server.state.revoked.add("1//refresh")
    gc, _ = authorized_user_client(token_file(tmp_path), retrying(server),
                                   token_uri=f"{server.url}/token")
    with pytest.raises(GoogleSheetsError) as refused:
        GoogleSheet.open(gc, key)
    assert "Token has been expired or revoked" in str(refused.value)
    assert "sheetkeeper google-login" in str(refused.value)
    assert str(tmp_path / "google-user.json") in str(refused.value)


def test_the_network_failing_during_a_token_refresh_is_retried(server, tmp_path):
    key = client(server).create("Members").id
    gc, _ = authorized_user_client(token_file(tmp_path), retrying(server),
                                   token_uri=f"{server.url}/token")
    server.faults.next("drop")                    # the refresh's request: no answer
    before = len(server.faults.log)
    assert GoogleSheet.open(gc, key).tabs() == ["Sheet1"]
    assert server.faults.log[before:before + 2] == [("POST", "/token"), ("POST", "/token")]


def test_a_second_google_login_still_gets_a_refresh_token(server, tmp_path, capsys,
                                                          monkeypatch):
    """Google gives a refresh token at an account's first consent only, unless consent is
    asked again: a second `google-login` (a new machine, a token file lost) must ask."""
    # The emulator speaks http on 127.0.0.1, where Google speaks https; oauthlib refuses a
    # token exchange over http unless told it is on purpose.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    secret = tmp_path / "client.json"
    secret.write_text(json.dumps({"installed": {
        "client_id": "1234.apps.googleusercontent.com", "client_secret": "not-a-secret",
        "auth_uri": f"{server.url}/o/oauth2/auth", "token_uri": f"{server.url}/token",
        "redirect_uris": ["http://localhost"]}}))
    for attempt in (1, 2):
        token = tmp_path / f"token-{attempt}.json"
        thread = threading.Thread(target=google_login, args=(secret, token))
        thread.start()
        printed, deadline = "", time.monotonic() + 30
        while "/o/oauth2/auth?" not in printed and time.monotonic() < deadline:
            time.sleep(0.05)
            printed += capsys.readouterr().out
        address = next(w for w in printed.split() if "/o/oauth2/auth?" in w)
        requests.get(address, timeout=30)         # the person signs in and clicks Allow
        thread.join(30)
        assert json.loads(token.read_text()).get("refresh_token"), attempt


# -- 4. an Excel file stored in Drive ----------------------------------------------------------

def test_an_xlsx_file_in_drive_says_to_save_it_as_a_google_sheet(server):
    made = requests.post(f"{server.url}/drive/v3/files",
                         json={"name": "customers.xlsx", "mimeType": XLSX_MIME})
    said = one_line_exit_2(run_cli("check", f"gsheet:{made.json()['id']}", "--api-endpoint",
                                   server.url))
    assert "this is an .xlsx file in Drive: File → Save as Google Sheets, then use the new " \
           "sheet's address" in said
