"""The service's Google side in-process (tests/test_daemon_google.py runs the real daemon):
each sheet on its own, a missing one logged and retried with backoff, one request per idle
poll, and a nightly snapshot; a sheet not shared, or an API not enabled, told as what it is (not
as a bug), backed off, and taken up once put right."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from service.config import GoogleConfig, ServiceConfig, SheetWatch
from service.google_watch import GoogleWatches
from sheet_templates import builtin
from sync.gsheets.client import GoogleSheet
from sync.gsheets.install import install_into

from .fakesheets import client, installed_sheet


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_each_sheet_on_its_own_and_one_request_per_idle_poll(server, tmp_path):
    good = installed_sheet(server, [["", "ANNA BERG", "", "", "13800138000"]])
    config = ServiceConfig(None, tmp_path / "data", (),
                           sheets=(SheetWatch("1NoSuchSheet"), SheetWatch(good.key)),
                           google=GoogleConfig(api_endpoint=server.url, poll=15))
    events, clock = [], Clock()
    watches = GoogleWatches(config, lambda event, **f: events.append((event, f)), clock,
                            lambda: dt.date(2026, 11, 23))
    snapshots = []
    watches.run_due(lambda: False, lambda state, sheet: snapshots.append(state.path))
    kinds = {(e, f["workbook"]) for e, f in events}
    assert ("error", "gsheet:1NoSuchSheet") in kinds and ("cycle", f"gsheet:{good.key}") in kinds
    error = next(f for e, f in events if e == "error")
    assert "not found" in error["error"] and error["retry_in_s"] > 0
    assert good.spreadsheet.worksheet("Customers").acell("B2").value == "Anna Berg"

    clock.t += 1                                  # written: polled again soon; settles
    watches.run_due(lambda: False, lambda *a: None)
    clock.t += 16
    before, cycles = len(server.faults.log), len(events)
    watches.run_due(lambda: False, lambda *a: None)
    quiet = [p for _, p in server.faults.log[before:] if good.key in p]
    assert quiet == [f"/drive/v3/files/{good.key}"]   # nothing moved: one request
    assert not [e for e, f in events[cycles:] if e == "cycle"]

    watches.nightly("nightly")                    # forced: a cycle and a snapshot
    watches.run_due(lambda: False, lambda state, sheet: snapshots.append(state.path))
    assert f"gsheet:{good.key}" in snapshots
    assert Path(config.data / "audit.sqlite3").exists()


def watching(server, tmp_path, key):
    config = ServiceConfig(None, tmp_path / "data", (), sheets=(SheetWatch(key),),
                           google=GoogleConfig(api_endpoint=server.url, poll=15))
    events, clock = [], Clock()
    watches = GoogleWatches(config, lambda event, **f: events.append((event, f)), clock,
                            lambda: dt.date(2026, 11, 23))
    return watches, events, clock


def test_a_sheet_not_shared_is_told_as_such_backed_off_and_taken_up_once_shared(
        server, tmp_path, capsys):
    owner = client(server, "owner@team.example")
    sh = owner.create("Team customers")
    install_into(GoogleSheet.open(owner, sh.id), builtin("crm"), "en")
    sh.worksheet("Customers").update([["", "ANNA BERG"]], "A2")
    watches, events, clock = watching(server, tmp_path, sh.id)
    state = watches.states[f"gsheet:{sh.id}"]
    for failures in (1, 2, 3):
        watches.run_due(lambda: False, lambda *a: None)
        event, fields = events[-1]
        assert event == "error" and fields["failures"] == failures
        assert f"share it with {server.state.user}" in fields["error"]
        assert "bug" not in fields["error"] and "Traceback" not in capsys.readouterr().err
        asked = len(server.faults.log)
        watches.run_due(lambda: False, lambda *a: None)   # not due yet: nothing is asked
        assert len(server.faults.log) == asked and state.due >= clock.t + 1
        clock.t = state.due
    sh.share(server.state.user, perm_type="user", role="writer", notify=False)
    watches.run_due(lambda: False, lambda *a: None)
    assert events[-1][0] == "cycle" and state.failures == 0
    assert sh.worksheet("Customers").acell("B2").value == "Anna Berg"


def test_the_drive_api_not_enabled_is_told_with_its_link_not_as_a_bug(server, tmp_path,
                                                                      capsys):
    good = installed_sheet(server, [["", "ANNA BERG"]])
    server.state.disabled.add("drive.googleapis.com")
    watches, events, clock = watching(server, tmp_path, good.key)
    watches.run_due(lambda: False, lambda *a: None)
    (event, fields), = events
    assert event == "error" and "bug" not in fields["error"]
    assert "enable the Google Drive API for project" in fields["error"]
    assert "Traceback" not in capsys.readouterr().err
    assert watches.states[f"gsheet:{good.key}"].due > clock.t


def test_a_refused_sign_in_is_told_and_the_token_file_read_again_after_a_new_login(
        server, tmp_path):
    """A person's sign-in (google-login's token file) that expired: the service says to sign
    in again, and takes the new token file up without a restart."""
    import json
    good = installed_sheet(server, [["", "ANNA BERG"]])
    token = tmp_path / "google-user.json"
    signed_in = {"type": "authorized_user", "client_id": "1234.apps.googleusercontent.com",
                 "client_secret": "not-a-secret", "refresh_token": "1//old"}
    token.write_text(json.dumps(signed_in))
    server.state.revoked.add("1//old")
    config = ServiceConfig(None, tmp_path / "data", (), sheets=(SheetWatch(good.key),),
                           google=GoogleConfig(authorized_user=token,
                                               api_endpoint=server.url, poll=15))
    events, clock = [], Clock()
    watches = GoogleWatches(config, lambda event, **f: events.append((event, f)), clock,
                            lambda: dt.date(2026, 11, 23))
    watches.run_due(lambda: False, lambda *a: None)
    (event, fields), = events
    assert event == "error" and "google-login" in fields["error"] and str(token) in \
        fields["error"]
    token.write_text(json.dumps({**signed_in, "refresh_token": "1//new"}))   # signed in anew
    clock.t = watches.states[f"gsheet:{good.key}"].due
    watches.run_due(lambda: False, lambda *a: None)
    assert events[-1][0] == "cycle"
