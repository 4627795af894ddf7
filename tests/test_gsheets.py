"""The Google Sheets client seam (sync/gsheets/client.py) against the emulator, through the real
gspread client: one-request reads, RAW writes, the guard that never overwrites a person,
bounded retries that honour Retry-After, and the messages for a sheet that cannot be opened."""
from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs, unquote, urlsplit

import gspread
import pytest
import tenacity
from google.oauth2.credentials import Credentials

from sync.gsheets.client import (TIMEOUTS, GoogleSheet, GoogleSheetsError, GoogleUnavailable,
                                RetryingHTTPClient,
                          service_account_client, spreadsheet_key)
from sync.xlsx.write import CellWrite

from .fakesheets import EmulatorHTTPClient, client
from .fakesheets import state as fake_state


def retrying_client(server, sleeps=None, attempts=5):
    """The production client class, pointed at the emulator, sleeping into a list."""
    naps = sleeps if sleeps is not None else []
    cls = type("Client", (EmulatorHTTPClient, RetryingHTTPClient),
               {"base": server.url, "sleep": staticmethod(naps.append),
                "stop": tenacity.stop_after_attempt(attempts)})
    return gspread.Client(Credentials(token="test"), http_client=cls)


ROW2 = {("Customers", 2): ["C-000001", "Ann Lee", None]}
ROW3 = {("Customers", 3): ["C-000002", "Bob Stone", "+8613800138000"]}


@pytest.fixture
def sheet(server):
    gc = retrying_client(server)
    sh = gc.create("Customers")
    sh.sheet1.update_title("Customers")
    sh.sheet1.update([["Customer ID", "Name", "Phone"], ["C-000001", "Ann Lee"],
                      ["C-000002", "Bob Stone", "+8613800138000"]], "A1:C3")
    return GoogleSheet.open(gc, sh.id, "robot@proj.iam.gserviceaccount.com")


def test_a_read_is_one_request_and_rectangular(server, sheet):
    before = len(server.faults.log)
    tabs = sheet.read(["Customers"])
    assert len(server.faults.log) - before == 1
    assert tabs["Customers"] == [["Customer ID", "Name", "Phone"], ["C-000001", "Ann Lee", None],
                                 ["C-000002", "Bob Stone", "+8613800138000"]]


def test_a_write_is_raw_two_requests_and_phones_stay_text(server, sheet):
    before = len(server.faults.log)
    out = sheet.write({"Customers": [CellWrite(2, 2, "+8613900139000"),
                                     CellWrite(3, 1, "Bob Stone-Smith")]},
                      {**ROW2, **ROW3})
    assert len(server.faults.log) - before == 2            # the guard's read, then the write
    assert len(out.written) == 2 and not out.moved
    assert sheet.read(["Customers"])["Customers"][1][2] == "+8613900139000"


def test_dates_go_in_as_serial_numbers(sheet):
    sheet.write({"Customers": [CellWrite(2, 3, dt.date(2026, 11, 23))]}, ROW2)
    assert sheet.read(["Customers"])["Customers"][1][3] == 46349


def test_a_row_a_person_changed_meanwhile_is_not_written_to(server, sheet):
    def person(method, path):          # types into C2 after the cycle read, before the write
        if method == "GET" and "batchGet" in path:
            book = server.state.get(sheet.key)
            book.sheets[0].cells[(1, 2)] = fake_state.Cell("+8613700137000", "+8613700137000")
            server.faults.before = None
    server.faults.before = person
    out = sheet.write({"Customers": [CellWrite(2, 2, "+8613900139000"),
                                     CellWrite(2, 1, "Ann Lee-Smith"),
                                     CellWrite(3, 1, "Bob Stone-Smith")]}, {**ROW2, **ROW3})
    assert sorted((w.row, w.column) for _, w in out.moved) == [(2, 1), (2, 2)]
    assert [(w.row, w.column) for _, w in out.written] == [(3, 1)]
    rows = sheet.read(["Customers"])["Customers"]
    assert rows[1][1:3] == ["Ann Lee", "+8613700137000"]     # the person's row, untouched
    assert rows[2][1] == "Bob Stone-Smith"


def test_retries_honour_retry_after_and_go_through(server, sheet):
    naps = []
    gc = retrying_client(server, naps)
    server.faults.retry_after = 3
    server.faults.next("429", "503", "drop")
    again = GoogleSheet.open(gc, sheet.key)
    assert again.read(["Customers"])["Customers"][0][0] == "Customer ID"
    assert len(naps) == 3 and naps[0] >= 3                  # never sooner than Retry-After


def test_retries_are_bounded_and_say_so(server, sheet):
    naps = []
    gc = retrying_client(server, naps, attempts=3)
    server.faults.next(*["503"] * 10)
    with pytest.raises(GoogleUnavailable, match="kept failing .*503 UNAVAILABLE"):
        GoogleSheet.open(gc, sheet.key)
    assert len(naps) == 2


def test_every_request_has_connect_and_read_timeouts():
    assert gspread.Client(Credentials(token="t"), http_client=RetryingHTTPClient
                          ).http_client.timeout == TIMEOUTS
    connect, read = TIMEOUTS
    assert 0 < connect <= 30 and 0 < read <= 120


def test_a_stalled_answer_times_out_and_is_retried(server, sheet):
    """gspread waits for ever by default; here the stalled request gives up after the read
    timeout and is sent again, like a dropped connection."""
    naps = []
    gc = retrying_client(server, naps)
    gc.http_client.timeout = (1.0, 0.3)
    server.faults.next("stall")
    again = GoogleSheet.open(gc, sheet.key)
    assert server.faults.stalled.is_set()
    assert again.read(["Customers"])["Customers"][1][1] == "Ann Lee"
    assert len(naps) == 1


def test_a_request_that_stalls_every_time_is_unavailable(server, sheet):
    gc = retrying_client(server, attempts=2)
    gc.http_client.timeout = (1.0, 0.2)
    server.faults.next("stall", "stall")
    with pytest.raises(GoogleUnavailable, match="kept failing .*ReadTimeout"):
        GoogleSheet.open(gc, sheet.key)


def test_a_sheet_that_is_not_there_or_not_shared_says_whom_to_share_it_with(server):
    gc = retrying_client(server)
    with pytest.raises(GoogleSheetsError, match="share it with robot@proj.iam"):
        GoogleSheet.open(gc, "1NoSuchSheet", "robot@proj.iam.gserviceaccount.com")


def test_the_change_signal_is_one_request_and_moves_with_edits(server, sheet):
    before = len(server.faults.log)
    first = sheet.change_signal()
    assert len(server.faults.log) - before == 1
    assert sheet.change_signal() == first
    sheet.write({"Customers": [CellWrite(2, 1, "Ann")]}, ROW2)
    assert sheet.change_signal()[1] != first[1]


@pytest.mark.parametrize("ref", ["1AbC-d_E", "gsheet:1AbC-d_E",
                                 "https://docs.google.com/spreadsheets/d/1AbC-d_E/edit#gid=0"])
def test_a_sheet_is_named_by_key_or_url(ref):
    assert spreadsheet_key(ref) == "1AbC-d_E"


def test_key_file_problems_are_explained(tmp_path):
    with pytest.raises(GoogleSheetsError, match="no such key file.*Add key"):
        service_account_client(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(GoogleSheetsError, match="not a readable JSON key file"):
        service_account_client(tmp_path / "bad.json")
    (tmp_path / "user.json").write_text(json.dumps({"type": "authorized_user"}))
    with pytest.raises(GoogleSheetsError, match="not a service-account key"):
        service_account_client(tmp_path / "user.json")


def test_the_oauth_user_flow_token_file_is_used_and_refreshed(server, tmp_path):
    """An authorized-user file as `sheetkeeper google-login` writes it: google-auth refreshes
    its access token at the token endpoint (here the emulator's), then gspread reads."""
    from sync.gsheets.client import EndpointHTTPClient, authorized_user_client
    gc = client(server)
    key = gc.create("Members").id
    token = tmp_path / "google-user.json"
    token.write_text(json.dumps({
        "type": "authorized_user", "client_id": "1234.apps.googleusercontent.com",
        "client_secret": "not-a-secret", "refresh_token": "1//refresh",
        "token_uri": "https://oauth2.googleapis.com/token"}))
    http = type("Local", (EndpointHTTPClient,), {"base": server.url})
    oauth, account = authorized_user_client(token, http, token_uri=f"{server.url}/token")
    sheet = GoogleSheet.open(oauth, key)
    assert sheet.tabs() == ["Sheet1"] and server.state.tokens == ["emulator-token-1"]
    with pytest.raises(GoogleSheetsError, match="google-login"):
        authorized_user_client(tmp_path / "missing.json")


def test_google_login_explains_a_missing_or_wrong_client_file(tmp_path):
    from sync.gsheets.client import google_login
    with pytest.raises(GoogleSheetsError, match="no such file; download the OAuth client"):
        google_login(tmp_path / "client.json", tmp_path / "token.json")
    (tmp_path / "client.json").write_text(json.dumps({"web": {}}))
    with pytest.raises(GoogleSheetsError, match="not an OAuth client file"):
        google_login(tmp_path / "client.json", tmp_path / "token.json")
    assert not (tmp_path / "token.json").exists()


def test_past_the_address_limit_the_guard_reads_whole_tabs_in_one_request(server):
    """More scattered rows to write than their ranges fit in MAX_URL bytes of address: the
    guard reads their tabs whole (so its address does not grow with the rows), still one
    request, and every row still checked."""
    gc = client(server)
    sh = gc.create("Many")
    sheet = GoogleSheet.open(gc, sh.id)
    rows = 500
    sh.sheet1.update([[f"r{r}"] for r in range(1, rows + 1)], "A1")
    every_other = range(1, rows + 1, 2)                    # no two of them consecutive
    as_read = {("Sheet1", r): [f"r{r}"] for r in every_other}
    writes = {"Sheet1": [CellWrite(r, 1, "x") for r in every_other]}
    first = len(server.faults.log)
    out = sheet.write(writes, as_read)
    guard, write = server.faults.targets[first:]           # one guard read, one write
    assert unquote(guard).count("ranges=") == 1 and len(guard) < 300
    assert len(out.written) == len(every_other) and not out.moved
    assert sh.sheet1.acell(f"B{rows - 1}").value == "x" and sh.sheet1.acell("B2").value is None


@pytest.mark.parametrize("tab", ["Customers", "客户"])
def test_the_guards_address_stays_within_2048_bytes_at_row_100000(server, tab):
    """200 rows about to change near row 100,000, none next to another: as ranges, 8.8 KB of
    address for 'Customers' and 10.6 KB for '客户'. The guard's address stays within the
    2,048 bytes Google's own client sends as a GET; consecutive rows go as one range."""
    from sync.gsheets.client import MAX_URL
    gc = client(server)
    sh = gc.create("Big")
    sh.add_worksheet(tab, rows=100_500, cols=19)
    sheet = GoogleSheet.open(gc, sh.id)
    sheet.tabs()
    scattered = [(tab, CellWrite(r, 1, "x")) for r in range(100_000, 100_400, 2)]
    together = [(tab, CellWrite(r, 1, "y")) for r in range(100_100, 100_300)]
    for cells in (scattered, scattered[:20] + together):
        first = len(server.faults.log)
        out = sheet.guard(cells, {(t, w.row): [None] * 19 for t, w in cells})
        assert len(out.written) == len(cells) and not out.moved
        (guard,) = server.faults.targets[first:]
        assert len("https://sheets.googleapis.com") + len(guard) <= MAX_URL
    ranges = parse_qs(urlsplit(guard).query)["ranges"]     # 20 rows apart, then 200 in a row
    assert len(ranges) == 21 and ranges[-1].endswith("!A100100:S100299")


def test_the_guard_never_reads_past_a_tabs_grid(server, monkeypatch):
    """Google refuses to read past a tab's grid; a row past it is empty by definition."""
    gc = client(server)
    sheet = GoogleSheet.open(gc, gc.create("Grid").id)
    sheet.tabs()                                           # Sheet1: 1,000 rows
    asked = []
    real = GoogleSheet._rows_now
    monkeypatch.setattr(GoogleSheet, "_rows_now",
                        lambda self, rows, *a: asked.extend(rows) or real(self, rows, *a))
    out = sheet.guard([("Sheet1", CellWrite(5, 0, "a")), ("Sheet1", CellWrite(1200, 0, "b"))],
                      {("Sheet1", 5): [], ("Sheet1", 1200): []})
    assert asked == [("Sheet1", 5)] and len(out.written) == 2
