"""Google's per-minute quota (#19, failure 7): the emulator keeps it per account on the test's
clock (tests/fakesheets/quota.py) and answers 429 without Retry-After past it; the client paces
every request of an account through one budget (sync/gsheets/quota.py) and, refused all the
same, waits for the minute to refill; and 50 sheets on one account, watched by the service's
Google side, never go over it. Minutes pass on the test's clock, not the wall's."""
from __future__ import annotations

import datetime as dt

import gspread
import pytest
import requests
from google.oauth2.credentials import Credentials

from service.config import GoogleConfig, ServiceConfig, SheetWatch
from service.google_watch import GoogleWatches
from sync.gsheets.quota import QuotaBudget, kind_of

from .fakesheets import SheetkeeperHTTPClient, installed_sheet
from .fakesheets.quota import PerMinuteQuota


class Clock:
    """Seconds on the test's clock; sleeping moves it on."""

    def __init__(self, t: float = 6000.0):
        self.t = t
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def test_kinds_are_googles_quotas():
    assert kind_of("GET", "https://sheets.googleapis.com/v4/spreadsheets/K/values:batchGet") \
        == "read"
    assert kind_of("post", "http://127.0.0.1:9/v4/spreadsheets/K/values:batchUpdate") == "write"
    assert kind_of("get", "https://www.googleapis.com/drive/v3/files/K") == "drive"


def test_the_budget_lets_sixty_a_window_and_then_waits_for_the_oldest_to_leave():
    clock = Clock()
    budget = QuotaBudget({"read": 60, "write": 60}, window=61, clock=clock, sleep=clock.sleep)
    for i in range(60):
        assert budget.take("read") == 0
        clock.t += 0.5                       # 60 reads in 30 s
    assert budget.take("write") == 0         # writes have their own 60
    assert budget.take("read") == pytest.approx(31)   # until the first read is 61 s old
    budget.exhausted("write")                # Google said 429: a whole window, from now
    assert budget.take("write") == pytest.approx(61)
    budget.exhausted("write", retry_after=7)  # ... or as long as its Retry-After says
    assert budget.take("write") == pytest.approx(7)


def test_past_the_quota_the_emulator_answers_429_without_retry_after(server):
    sheet = installed_sheet(server, [])
    clock = Clock(60 * 100 + 1)
    server.state.quota = PerMinuteQuota(clock)
    url = f"{server.url}/v4/spreadsheets/{sheet.key}"
    for _ in range(60):
        assert requests.get(url).status_code == 200
    refused = requests.get(url)
    assert refused.status_code == 429 and "Retry-After" not in refused.headers
    error = refused.json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED" and "'Read requests'" in error["message"]
    assert requests.post(f"{url}:batchUpdate", json={"requests": []}).status_code == 200
    clock.t += 59                            # the next minute: refilled
    assert requests.get(url).status_code == 200
    assert server.state.quota.most("read") == 60


def paced_client(server, clock, naps):
    """sheetkeeper's client at the emulator, retrying, paced by a budget on the test's clock."""
    cls = type("Paced", (SheetkeeperHTTPClient,), {
        "base": server.url, "stop": SheetkeeperHTTPClient.__mro__[2].stop,
        "sleep": staticmethod(naps.append)})
    gc = gspread.Client(Credentials(token="test"), http_client=cls)
    gc.http_client.budget = QuotaBudget(clock=clock, sleep=clock.sleep)
    return gc


def test_a_429_without_retry_after_waits_for_the_minute_to_refill(server):
    sheet = installed_sheet(server, [["", "Ann Lee"]])
    clock = Clock(60 * 100 + 1)
    server.state.quota = PerMinuteQuota(clock)
    for _ in range(60):                      # another program spent this minute's reads
        server.state.quota.spend(server.state.user, "GET")
    naps = []
    gc = paced_client(server, clock, naps)
    from sync.gsheets.client import GoogleSheet
    again = GoogleSheet.open(gc, sheet.key)
    assert server.state.quota.refused         # Google did say no, once
    assert len(server.state.quota.refused) == 1
    assert sum(clock.slept) >= 60             # the budget waited for the minute to refill
    assert all(n < 60 for n in naps)          # not by tenacity's short backoff alone
    assert again.read(["Customers"])["Customers"][1][1] == "Ann Lee"


def test_fifty_sheets_on_one_account_stay_within_the_quota(server, tmp_path):
    n = 50
    sheets = [installed_sheet(server, [["", "ANNA BERG", "", "", "13800138000"]],
                              title=f"Shop {i}") for i in range(n)]
    clock = Clock(60 * 100)
    server.state.quota = PerMinuteQuota(clock)
    config = ServiceConfig(None, tmp_path / "data", (),
                           sheets=tuple(SheetWatch(s.key) for s in sheets),
                           google=GoogleConfig(api_endpoint=server.url, poll=15))
    events = []
    watches = GoogleWatches(config, lambda event, **f: events.append((event, f)), clock,
                            lambda: dt.date(2026, 11, 23),
                            budget=QuotaBudget(clock=clock, sleep=clock.sleep))
    start = clock.t
    while clock.t < start + 10 * 60:         # ten minutes: start-up, cycles, idle polls
        watches.run_due(lambda: False, lambda *a: None)
        clock.t = max(clock.t, watches.next_due())
    quota = server.state.quota
    assert quota.refused == []
    assert quota.most("read") <= 60 and quota.most("write") <= 60
    assert quota.most("read") > 40            # paced near the limit, not far below it
    errors = [f for e, f in events if e == "error"]
    assert errors == []
    cycled = {f["workbook"] for e, f in events if e == "cycle"}
    assert cycled == {f"gsheet:{s.key}" for s in sheets}
    server.state.quota = None                 # the test's own reads are not the service's
    names = [s.read(["Customers"])["Customers"][1][1] for s in sheets[:3] + sheets[-3:]]
    assert names == ["Anna Berg"] * 6
