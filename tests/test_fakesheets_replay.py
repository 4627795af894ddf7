"""The emulator is faithful: Google's recorded answers to gspread (tests/google_recorded) are
replayed against it, and every cassette whose requests it implements must get the same status
codes and the same JSON (ids mapped, times ignored). Requests it does not implement get 501."""
from __future__ import annotations

import pytest
import requests

from .fakesheets import FakeSheetsServer, client
from .fakesheets.replay import RECORDED_ACCOUNT, cassettes, replay, scope

# Cassettes in scope that cannot be replayed, and why. Keep this short and honest.
KNOWN_GAPS: dict[str, str] = {}
ALL = [p for p in cassettes() if p.suffix == ".json"]
IN_SCOPE = [p for p in ALL if scope(p) is None and p.name not in KNOWN_GAPS]
# Spreadsheets that were there at Google but another account's, not shared with the one that
# recorded (ClientTest.test_access_private_spreadsheet: Google answered 403).
OTHERS = {"1jIKzPs8LsiZZdLdeMEP-5ZIHw6RkjiOmj1LrJN706Yc": "someone-else@example.com"}


@pytest.fixture(scope="module")
def server():
    s = FakeSheetsServer(user=RECORDED_ACCOUNT).start()
    for key, owner in OTHERS.items():
        s.state.create("Someone else's", owner=owner, key=key)
    yield s
    s.stop()


def test_most_of_the_recorded_traffic_is_in_scope():
    # A regression guard: the emulator must not quietly shrink what it can answer.
    assert len(IN_SCOPE) >= 80, f"only {len(IN_SCOPE)} of {len(ALL)} cassettes in scope"


@pytest.mark.parametrize("cassette", IN_SCOPE, ids=lambda p: p.stem)
def test_replays_as_google_answered(server, cassette):
    mismatches = list(replay(cassette, server))
    assert not mismatches, "\n".join(
        f"#{m.index} {m.request}\n  Google: {m.expected}\n  emulator: {m.got}"
        for m in mismatches[:3])


def test_a_request_it_does_not_implement_is_501_and_named(server):
    gc = client(server)
    sheet = gc.create("x")
    answer = requests.post(f"{server.url}/v4/spreadsheets/{sheet.id}/developerMetadata:search",
                           json={})
    assert answer.status_code == 501
    assert "POST /v4/spreadsheets/" in answer.json()["error"]["message"]
    merge = requests.post(f"{server.url}/v4/spreadsheets/{sheet.id}:batchUpdate",
                          json={"requests": [{"mergeCells": {}}]})
    assert merge.status_code == 501 and "mergeCells" in merge.json()["error"]["message"]


def test_the_real_gspread_client_and_googles_phone_pitfall(server):
    ws = client(server).create("Customers").sheet1
    ws.update([["Phone"], ["+442079460958"]], "A1:A2", raw=False)     # USER_ENTERED
    ws.update([["+442079460958"]], "A3")                               # RAW
    assert ws.col_values(1) == ["Phone", "442079460958", "+442079460958"]
    from gspread.utils import ValueRenderOption
    assert ws.get("A2:A3", value_render_option=ValueRenderOption.unformatted) == \
        [[442079460958], ["+442079460958"]]


def test_a_batch_is_applied_whole_or_not_at_all(server):
    sheet = client(server).create("atomic")
    bad = {"requests": [{"addSheet": {"properties": {"title": "Lists"}}},
                        {"deleteSheet": {"sheetId": 424242}}]}
    answer = requests.post(f"{server.url}/v4/spreadsheets/{sheet.id}:batchUpdate", json=bad)
    assert answer.status_code == 400
    assert [w.title for w in sheet.worksheets()] == ["Sheet1"]


def test_a_values_batch_update_is_applied_whole_or_not_at_all(server):
    sheet = client(server).create("atomic values")
    sheet.sheet1.update([["kept"]], "A1")
    bad = {"valueInputOption": "RAW", "data": [
        {"range": "Sheet1!A1", "values": [["overwritten"]]},
        {"range": "Sheet1!A1:A2", "values": [["x"], ["y"], ["one row too many"]]}]}
    answer = requests.post(f"{server.url}/v4/spreadsheets/{sheet.id}/values:batchUpdate",
                           json=bad)
    assert answer.status_code == 400
    assert sheet.sheet1.get_all_values() == [["kept"]]


def test_it_can_be_started_on_its_own():
    import subprocess
    import sys
    import time
    from .conftest import ROOT
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakesheets", "--port", "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = line.split(" at ")[1].split()[0]
        deadline = time.monotonic() + 10
        created = requests.post(f"{url}/drive/v3/files", json={
            "name": "by hand", "mimeType": "application/vnd.google-apps.spreadsheet"})
        assert created.status_code == 200 and time.monotonic() < deadline
        assert requests.get(f"{url}/v4/spreadsheets/{created.json()['id']}").json()[
            "properties"]["title"] == "by hand"
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_the_formatting_the_template_needs_round_trips(server):
    """No recording covers these; what installing the template sends, read back the way
    Google answers (colours with their Style twins, sheetId 0 left out, schema-valid)."""
    sheet = client(server).create("template")
    lists = sheet.add_worksheet("Lists", 40, 5)
    tier = {"sheetId": 0, "startRowIndex": 1, "endRowIndex": 1000, "startColumnIndex": 8,
            "endColumnIndex": 9}
    sheet.batch_update({"requests": [
        {"setDataValidation": {"range": tier, "rule": {
            "condition": {"type": "ONE_OF_RANGE",
                          "values": [{"userEnteredValue": "=Lists!$B$2:$B$40"}]},
            "strict": False, "showCustomUi": True}}},
        {"addConditionalFormatRule": {"index": 0, "rule": {
            "ranges": [{"sheetId": 0, "startRowIndex": 1, "startColumnIndex": 10,
                        "endColumnIndex": 11}],
            "booleanRule": {"condition": {"type": "TEXT_EQ",
                                          "values": [{"userEnteredValue": "Active"}]},
                            "format": {"backgroundColor": {"red": 0.78, "green": 0.94,
                                                           "blue": 0.81}}}}}},
        {"addProtectedRange": {"protectedRange": {
            "range": {"sheetId": 0, "startColumnIndex": 10, "endColumnIndex": 11},
            "description": "Status is computed by sheetkeeper", "warningOnly": True}}},
    ]})
    meta = sheet.fetch_sheet_metadata()["sheets"][0]
    rule = meta["conditionalFormats"][0]
    assert rule["ranges"] == [{"startRowIndex": 1, "startColumnIndex": 10, "endColumnIndex": 11}]
    assert rule["booleanRule"]["format"]["backgroundColorStyle"] == {
        "rgbColor": {"red": 0.78039217, "green": 0.9411765, "blue": 0.8117647}}   # 8-bit: 207/255
    assert meta["protectedRanges"][0]["warningOnly"] is True
    cells = sheet.fetch_sheet_metadata({"ranges": "Sheet1!I2",
                                        "fields": "sheets.data.rowData.values.dataValidation"})
    validation = cells["sheets"][0]["data"][0]["rowData"][0]["values"][0]["dataValidation"]
    assert validation["condition"]["values"] == [{"userEnteredValue": "=Lists!$B$2:$B$40"}]
    assert lists.title == "Lists"
