"""The emulator refuses what Google refuses, in Google's words and JSON shape: a spreadsheet
not shared with the account (or shared to read only), an API switched off in the Cloud project,
a tab title that differs from another only in case, an .xlsx file stored in Drive, and a refresh
token that expired or was revoked; and Google's sign-in hands out a refresh token only on
consent. Through the real gspread client and plain HTTP."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import gspread
import pytest
import requests

from .fakesheets import client
from .fakesheets.replay import RECORDED, exchanges
from .fakesheets.state import XLSX_MIME

OWNER = "owner@team.example"


def recorded_403() -> dict:
    """Google's answer to a spreadsheet another account owns, as recorded."""
    answer = next(e for e in exchanges(RECORDED / "ClientTest.test_access_private_spreadsheet"
                                       ".json") if e.status == 403)
    return json.loads(answer.response)


def bearer(server, account: str | None = None) -> dict:
    token = server.state.sign_in(account) if account else "test"
    return {"Authorization": f"Bearer {token}"}


def test_a_sheet_not_shared_with_the_account_is_403_as_google_answers_it(server):
    theirs = client(server, OWNER).create("Team customers")
    mine = client(server)
    with pytest.raises(PermissionError):          # gspread's own word for any 403 on open
        mine.open_by_key(theirs.id)
    answer = requests.get(f"{server.url}/v4/spreadsheets/{theirs.id}",
                          headers=bearer(server))
    assert (answer.status_code, answer.json()) == (403, recorded_403())
    drive = requests.get(f"{server.url}/drive/v3/files/{theirs.id}", headers=bearer(server))
    assert drive.status_code == 404               # Drive does not say it is there at all
    assert drive.json()["error"]["errors"][0]["reason"] == "notFound"
    assert mine.http_client.request("get", "https://www.googleapis.com/drive/v3/about",
                                    params={"fields": "user(emailAddress)"}).json() == {
        "user": {"emailAddress": server.state.user}}


def test_shared_to_read_it_can_be_read_not_written_and_shared_to_edit_both(server):
    theirs = client(server, OWNER).create("Team customers")
    theirs.share(server.state.user, perm_type="user", role="reader", notify=False)
    mine = client(server).open_by_key(theirs.id)
    assert mine.sheet1.get_all_values() == [[]]
    with pytest.raises(gspread.exceptions.APIError) as refused:
        mine.sheet1.update([["x"]], "A1")
    assert refused.value.response.status_code == 403
    assert refused.value.error["status"] == "PERMISSION_DENIED"
    theirs.share(server.state.user, perm_type="user", role="writer", notify=False)
    mine.sheet1.update([["x"]], "A1")
    assert theirs.sheet1.acell("A1").value == "x"


def test_anyone_with_the_link_sees_it(server):
    theirs = client(server, OWNER).create("Public list")
    theirs.share(None, perm_type="anyone", role="reader")
    assert client(server).open_by_key(theirs.id).title == "Public list"


def test_about_needs_fields_as_drive_does(server):
    answer = requests.get(f"{server.url}/drive/v3/about", headers=bearer(server, OWNER))
    assert answer.status_code == 400
    answer = requests.get(f"{server.url}/drive/v3/about", params={"fields": "user"},
                          headers=bearer(server, OWNER))
    assert answer.json()["user"]["emailAddress"] == OWNER


@pytest.mark.parametrize("service,path", [
    ("drive.googleapis.com", "/drive/v3/files/{key}"),
    ("sheets.googleapis.com", "/v4/spreadsheets/{key}")])
def test_an_api_switched_off_is_403_service_disabled_with_the_console_link(server, service,
                                                                         path):
    sheet = client(server).create("Customers")
    server.state.disabled.add(service)
    answer = requests.get(server.url + path.format(key=sheet.id))
    error = answer.json()["error"]
    assert answer.status_code == 403 and error["status"] == "PERMISSION_DENIED"
    info = next(d for d in error["details"] if d["@type"].endswith("ErrorInfo"))
    link = f"https://console.developers.google.com/apis/api/{service}/overview?project="
    assert info["reason"] == "SERVICE_DISABLED" and info["metadata"]["service"] == service
    assert info["metadata"]["activationUrl"].startswith(link)
    assert "has not been used in project" in error["message"]
    help_links = next(d for d in error["details"] if d["@type"].endswith("Help"))["links"]
    assert help_links[0]["url"] == info["metadata"]["activationUrl"]
    other = ("/v4/spreadsheets/{key}" if service.startswith("drive") else
             "/drive/v3/files/{key}")
    assert requests.get(server.url + other.format(key=sheet.id)).status_code == 200


def test_tab_titles_are_unique_regardless_of_case(server):
    sheet = client(server).create("Titles")
    answer = requests.post(f"{server.url}/v4/spreadsheets/{sheet.id}:batchUpdate", json={
        "requests": [{"addSheet": {"properties": {"title": "Lists"}}},
                     {"addSheet": {"properties": {"title": "sheet1"}}}]})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == (
        'Invalid requests[1].addSheet: A sheet with the name "sheet1" already exists. Please '
        "enter another name.")
    assert [w.title for w in sheet.worksheets()] == ["Sheet1"]      # the batch: whole or none
    review = sheet.add_worksheet("Review", 10, 5)
    with pytest.raises(gspread.exceptions.APIError, match="already exists"):
        review.update_title("SHEET1")
    review.update_title("REVIEW")                                    # itself, in other case
    assert [w.title for w in sheet.worksheets()] == ["Sheet1", "REVIEW"]


def test_an_xlsx_file_in_drive_is_not_a_spreadsheet_to_the_sheets_api(server):
    made = requests.post(f"{server.url}/drive/v3/files",
                         json={"name": "customers.xlsx", "mimeType": XLSX_MIME})
    key = made.json()["id"]
    assert made.json()["mimeType"] == XLSX_MIME
    with pytest.raises(gspread.exceptions.APIError) as refused:
        client(server).open_by_key(key)
    assert refused.value.response.status_code == 400
    assert refused.value.error["status"] == "FAILED_PRECONDITION"
    assert refused.value.error["message"] == "This operation is not supported for this document"
    assert requests.get(f"{server.url}/drive/v3/files/{key}",
                        params={"fields": "mimeType"}).json() == {"mimeType": XLSX_MIME}
    export = requests.get(f"{server.url}/drive/v3/files/{key}/export",
                          params={"mimeType": XLSX_MIME})
    assert export.status_code == 403


def token(server, **form) -> requests.Response:
    return requests.post(f"{server.url}/token", data=form)


def test_a_revoked_or_expired_refresh_token_is_invalid_grant(server):
    assert token(server, grant_type="refresh_token", refresh_token="1//r").status_code == 200
    server.state.revoked.add("1//r")
    answer = token(server, grant_type="refresh_token", refresh_token="1//r")
    assert (answer.status_code, answer.json()) == (400, {
        "error": "invalid_grant", "error_description": "Token has been expired or revoked."})


def sign_in(server, **extra) -> dict:
    """Google's sign-in page, the person clicking Allow; then the code exchanged."""
    asked = {"response_type": "code", "client_id": "1234.apps.googleusercontent.com",
             "redirect_uri": "http://localhost:1/", "scope": "openid", "state": "s",
             "access_type": "offline", **extra}
    back = requests.get(f"{server.url}/o/oauth2/auth", params=asked, allow_redirects=False)
    assert back.status_code == 302 and back.headers["Location"].startswith(
        "http://localhost:1/?state=s&code=")
    code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]
    answer = token(server, grant_type="authorization_code", code=code)
    assert token(server, grant_type="authorization_code", code=code).status_code == 400
    return answer.json()


def test_a_refresh_token_is_given_at_first_consent_and_when_consent_is_asked_again(server):
    assert "refresh_token" in sign_in(server)
    assert "refresh_token" not in sign_in(server)               # signed in again: none
    assert "refresh_token" in sign_in(server, prompt="consent")
