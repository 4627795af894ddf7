"""End to end: the real `sheetkeeper run` in a subprocess looks after a Google Sheet served by
the emulator (real HTTP on 127.0.0.1, the real gspread client): install, messy edits, cycles,
review and merge, undo, snapshot and restore, and one request per idle poll."""
from __future__ import annotations

import json
import time
from itertools import pairwise

import pytest

from sheet_templates import builtin
from sheet_templates.presentation import review_headers
from sync.gsheets.client import GoogleSheet

from .conftest import run_cli
from .daemon_harness import Daemon
from .fakesheets import client

KEYS = [c.key for c in builtin("crm").columns]
POLL = 0.3


def row(**values):
    out = [""] * len(KEYS)
    for key, value in values.items():
        out[KEYS.index(key)] = value
    return out


def col(key):
    return chr(65 + KEYS.index(key))


@pytest.fixture
def sheet(server):
    """A team's spreadsheet, the template installed by the real command."""
    gc = client(server)
    key = gc.create("Shop customers").id
    done = run_cli("install", "crm", "--to", f"gsheet:{key}", "--api-endpoint", server.url)
    assert done.returncode == 0, done.stderr
    sheet = GoogleSheet.open(gc, key)
    sheet.spreadsheet.worksheet("Customers").update([
        row(name="ANNA BERG", company="Acme", phone="138 0013 8000", email="anna@acme.com"),
        row(name="li wei", phone="13900139000", email=" LI@Example.com "),
    ], "A2", raw=True)
    return sheet


@pytest.fixture
def daemon(tmp_path, server, sheet):
    d = Daemon(tmp_path, f"""
data = "data"

[rules]
region = "CN"

[google]
api_endpoint = "{server.url}"
poll = {POLL}

[[watch]]
spreadsheet = "https://docs.google.com/spreadsheets/d/{sheet.key}/edit#gid=0"
template = "crm"
""")
    yield d
    d.kill()


def values(sheet, tab="Customers"):
    return sheet.read([tab])[tab]


def cli(daemon, *args):
    done = run_cli(*args, "--config", str(daemon.config))
    assert done.returncode in (0, 1), done.stderr
    return done


def drive_poll(sheet):
    """The one request an idle poll makes: Drive's files.get, for the change signal."""
    return "GET", f"/drive/v3/files/{sheet.key}"


def quiet(daemon, server, sheet):
    """Wait until the service has nothing left to do: a poll made after this call found
    nothing to cycle on, so the request after it was the next poll, not a cycle's read."""
    poll, start = drive_poll(sheet), len(server.faults.log)

    def settled():
        since = server.faults.log[start:]
        return any(one == two == poll for one, two in pairwise(since))
    daemon.wait_for(settled, timeout=60, what="the sheet to go quiet")


def test_the_service_looks_after_a_google_sheet_end_to_end(daemon, server, sheet):
    key = f"gsheet:{sheet.key}"
    daemon.start()
    daemon.wait_for(lambda: daemon.events("cycle", workbook=key), what="the first cycle")
    quiet(daemon, server, sheet)
    rows = values(sheet)
    assert rows[1][:6] == ["C-000001", "Anna Berg", "Acme", None, "+8613800138000",
                           "anna@acme.com"]
    assert rows[2][5] == "LI@example.com"
    assert daemon.events("snapshot", workbook=key, reason="catch-up")

    # Idle: one cheap Drive request per poll, nothing else. A poll that found a change would
    # be followed by its cycle's requests before the next poll.
    poll, before, since = drive_poll(sheet), len(server.faults.log), time.monotonic()

    def nine_polls():
        idle = server.faults.log[before:]
        return idle if idle.count(poll) >= 9 else None
    idle = daemon.wait_for(nine_polls, what="nine more polls")
    assert all(request == poll for request in idle)
    # ... and no more often than `poll`: each comes `poll` after the last one ended, and the
    # first ended after `since`, so the ninth came at least eight times `poll` after it.
    assert time.monotonic() - since >= 8 * POLL

    # A person's messy edit: logged as theirs, normalised, at most four requests a cycle.
    sheet.spreadsheet.worksheet("Customers").update([["  MARY SMITH "]], f"{col('name')}3")
    daemon.wait_for(lambda: values(sheet)[2][1] == "Mary Smith", what="the edit normalised")
    quiet(daemon, server, sheet)
    cycles = daemon.events("cycle", workbook=key)
    assert any(c.get("person_edits") for c in cycles)
    assert all(c["requests"] <= 4 for c in cycles)

    # A duplicate: listed on the Review tab, merged on a person's decision, undone by hand.
    sheet.spreadsheet.worksheet("Customers").update(
        [row(name="Anna Berg", title="CTO", email="anna@acme.com")], "A4", raw=True)
    pair = "C-000001 + C-000003"
    daemon.wait_for(lambda: any(r and r[0] == pair for r in values(sheet, "Review")),
                    what="the pair listed for review")
    quiet(daemon, server, sheet)
    table_before = values(sheet)
    number = next(i for i, r in enumerate(values(sheet, "Review"), start=1) if r[0] == pair)
    decision = chr(65 + review_headers(builtin("crm"), "en").index("Decision"))
    sheet.spreadsheet.worksheet("Review").update([["Merge"]], f"{decision}{number}")
    daemon.wait_for(lambda: values(sheet)[1][KEYS.index("title")] == "CTO", what="the merge")
    quiet(daemon, server, sheet)
    assert values(sheet, "Merged")[1][0] == "C-000003"
    log = [json.loads(line) for line in
           cli(daemon, "audit", key, "--format", "json").stdout.splitlines()]
    merge = next(e["batch"] for e in log if e["rule"] == "merge")
    undone = cli(daemon, "undo", merge)
    assert "Undid batch" in undone.stdout
    quiet(daemon, server, sheet)
    now = values(sheet)
    assert [r[:KEYS.index("findings")] for r in now[:4]] == \
        [r[:KEYS.index("findings")] for r in table_before[:4]]

    # A snapshot by hand, a bad edit, and a restore that the service then leaves be.
    taken = cli(daemon, "snapshot", key)
    snap = taken.stdout.split()[2]
    sheet.spreadsheet.worksheet("Customers").update([["WRONG"]], f"{col('company')}2")
    daemon.wait_for(lambda: values(sheet)[1][2] == "WRONG", what="the bad edit")
    quiet(daemon, server, sheet)
    restored = cli(daemon, "restore", snap)
    assert "Restored snapshot" in restored.stdout
    assert values(sheet)[1][2] == "Acme"
    quiet(daemon, server, sheet)
    assert values(sheet)[1][2] == "Acme"

    status = cli(daemon, "status", "--format", "json")
    assert key in status.stdout
    assert daemon.stop() == 0
