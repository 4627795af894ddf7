"""The emulator's strictness (Google's schema) and its faults on demand, through the real
gspread client and plain HTTP."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import gspread
import pytest
import requests

from .fakesheets import client
from .fakesheets.replay import HOST, cassettes, exchanges
from .fakesheets.schema import problems
from .fakesheets.server import ROUTES


def recorded_bodies():
    """(schema, body, Google's status) of every recorded request that has a schema here."""
    for path in cassettes():
        for e in exchanges(path):
            parts = urlsplit(HOST.sub("", e.uri))
            for method, pattern, _, schema in ROUTES:
                if schema and method == e.method and pattern.match(parts.path) and e.body:
                    yield path.stem, schema, json.loads(e.body), e.status


def test_the_schema_accepts_every_body_google_accepted():
    checked = 0
    for name, schema, body, status in recorded_bodies():
        if status == 200:
            assert problems(schema, body) == [], (name, body)
            checked += 1
    assert checked > 100


def test_unknown_fields_wrong_types_and_enums_are_400_in_googles_words(server):
    sheet = client(server).create("strict")
    answer = requests.post(f"{server.url}/v4/spreadsheets/{sheet.id}:batchUpdate", json={
        "requests": [{"addSheet": {"properties": {"title": "x", "colour": "red"}}}]})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == (
        'Invalid JSON payload received. Unknown name "colour" at '
        "'requests[0].add_sheet.properties': Cannot find field.")
    with pytest.raises(gspread.exceptions.APIError) as e:
        sheet.batch_update({"requests": [{"repeatCell": {
            "range": {"sheetId": 0}, "fields": "userEnteredFormat",
            "cell": {"userEnteredFormat": {"horizontalAlignment": "MIDDLE"}}}}]})
    assert e.value.response.status_code == 400 and "expected one of" in str(e.value)
    assert [w.title for w in sheet.worksheets()] == ["Sheet1"]


def test_429_carries_resource_exhausted_and_retry_after(server):
    sheet = client(server).create("quota")
    server.faults.retry_after = 7
    server.faults.next("429")
    with pytest.raises(gspread.exceptions.APIError) as e:
        sheet.sheet1.get_all_values()
    assert e.value.response.status_code == 429
    assert e.value.response.headers["Retry-After"] == "7"
    assert e.value.response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert sheet.sheet1.acell("A1").value is None             # the next one goes through


@pytest.mark.parametrize("kind, status", [("500", "INTERNAL"), ("503", "UNAVAILABLE")])
def test_server_errors(server, kind, status):
    sheet = client(server).create("errors")
    server.faults.next(kind)
    with pytest.raises(gspread.exceptions.APIError) as e:
        sheet.sheet1.acell("A1")
    assert e.value.response.status_code == int(kind)
    assert e.value.response.json()["error"]["status"] == status


def test_a_dropped_connection(server):
    sheet = client(server).create("drop")
    server.faults.next("drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        sheet.sheet1.acell("A1")
    assert sheet.sheet1.acell("A1").value is None


def test_a_slow_answer_arrives_late(server):
    import time
    sheet = client(server).create("slow")
    server.faults.slow_seconds = 0.5
    server.faults.next("slow")
    start = time.monotonic()
    sheet.sheet1.acell("A1")
    assert time.monotonic() - start >= 0.5


def test_a_seeded_failure_rate_and_the_request_log(server):
    sheet = client(server).create("rate")
    before = len(server.faults.log)
    server.faults.rate(0.2, seed=3)
    failures = 0
    for _ in range(100):
        try:
            requests.get(f"{server.url}/v4/spreadsheets/{sheet.id}", timeout=5)\
                .raise_for_status()
        except requests.RequestException:
            failures += 1
    server.faults.clear()
    assert 10 <= failures <= 30
    assert len(server.faults.log) - before == 100


def test_a_person_can_act_between_requests(server):
    sheet = client(server).create("race")
    ws = sheet.sheet1
    ws.update([["Ann"]], "A1")

    def person(method, path):                  # the person types before the next read lands
        if method == "GET" and "/values/" in path:
            book = server.state.get(sheet.id)
            from .fakesheets import state
            book.sheets[0].cells[(0, 0)] = state.Cell("Bob", "Bob")
            server.faults.before = None
    server.faults.before = person
    assert ws.acell("A1").value == "Bob"
