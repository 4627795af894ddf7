"""`sheetkeeper doctor gsheet:KEY`: every day-one failure of a Google Sheet found, each check on its
own (one failing does not hide the others that can still be looked at), each failure with what
to do; exit 0 when none failed, 2 when one did. Against the emulator (tests/fakesheets), through
sheetkeeper's own client, and the real CLI in a subprocess."""
from __future__ import annotations

import json

import requests

from sheet_templates import builtin
from sync.gsheets import doctor
from sync.gsheets.doctor import (credentials_file, diagnose, quota_check, quota_use, separator,
                                 size_check)

from .conftest import run_cli
from .fakesheets import client, installed_sheet
from .fakesheets import state as emulator_state
from .fakesheets.state import PROJECT
from .test_gsheets_errors import token_file

OWNER = "owner@team.example"
CONSOLE = "https://console.developers.google.com/apis/api/{}/overview?project=" + PROJECT
NAMES = ["Credentials", "Sheets API", "Drive API", "Shared", "Template tabs", "Locale", "Size",
         "Quota"]


def by_name(checks) -> dict:
    assert [c.name for c in checks] == NAMES
    return {c.name: c for c in checks}


def theirs(server, title="Team customers"):
    """A spreadsheet another account owns, with the crm template installed by its owner."""
    from sync.gsheets.client import GoogleSheet
    from sync.gsheets.install import install_into
    gc = client(server, OWNER)
    sh = gc.create(title)
    install_into(GoogleSheet.open(gc, sh.id), builtin("crm"), "en")
    return sh


def test_an_installed_sheet_passes_every_check(server):
    sheet = installed_sheet(server, [["C-000001", "Anna Berg"]])
    checks = by_name(diagnose(f"gsheet:{sheet.key}", api_endpoint=server.url))
    assert all(c.ok is True and not c.warning for c in checks.values()), checks
    assert server.state.user in checks["Drive API"].detail
    assert "may edit" in checks["Shared"].detail
    assert "'Customers' (crm template, header in row 1)" in checks["Template tabs"].detail
    assert "en_US" in checks["Locale"].detail and "`,`" in checks["Locale"].detail


def test_a_sheet_not_shared_says_whom_to_share_it_with(server):
    sh = client(server, OWNER).create("Team customers")
    checks = by_name(diagnose(sh.id, api_endpoint=server.url))
    assert checks["Sheets API"].ok and checks["Drive API"].ok
    shared = checks["Shared"]
    assert shared.ok is False and f"not shared with {server.state.user}" in shared.detail
    assert f"add {server.state.user} as Editor" in shared.fix
    # What needs the sheet open is not looked at, and says why; the quota still is.
    assert [checks[n].ok for n in ("Template tabs", "Locale", "Size")] == [None] * 3
    assert "could not be opened" in checks["Size"].detail
    assert checks["Quota"].ok


def test_a_sheet_shared_read_only_fails_and_the_rest_is_still_looked_at(server):
    sh = theirs(server)
    sh.share(server.state.user, perm_type="user", role="reader")
    checks = by_name(diagnose(sh.id, api_endpoint=server.url))
    assert checks["Shared"].ok is False and "to read only" in checks["Shared"].detail
    assert f"make {server.state.user} an Editor" in checks["Shared"].fix
    assert checks["Template tabs"].ok and checks["Locale"].ok and checks["Size"].ok


def test_a_sheet_shared_as_editor_passes(server):
    sh = theirs(server)
    sh.share(server.state.user, perm_type="user", role="writer")
    checks = by_name(diagnose(sh.id, api_endpoint=server.url))
    assert not doctor.failed(checks.values()), checks


def test_the_drive_api_switched_off_gives_googles_link_and_the_rest_goes_on(server):
    sheet = installed_sheet(server, [])
    server.state.disabled.add("drive.googleapis.com")
    checks = by_name(diagnose(sheet.key, api_endpoint=server.url))
    drive = checks["Drive API"]
    assert drive.ok is False
    assert CONSOLE.format("drive.googleapis.com") in drive.detail
    assert checks["Sheets API"].ok and checks["Template tabs"].ok and checks["Size"].ok
    # Edit rights are Drive's to tell: readable, and said as not known.
    assert checks["Shared"].ok and checks["Shared"].warning
    assert "Drive API" in checks["Shared"].fix


def test_the_sheets_api_switched_off_gives_googles_link_and_drive_still_tells(server):
    sheet = installed_sheet(server, [])
    server.state.disabled.add("sheets.googleapis.com")
    checks = by_name(diagnose(sheet.key, api_endpoint=server.url))
    assert checks["Sheets API"].ok is False
    assert CONSOLE.format("sheets.googleapis.com") in checks["Sheets API"].detail
    assert checks["Drive API"].ok and checks["Shared"].ok
    assert checks["Template tabs"].ok is None


def test_missing_template_tabs_say_to_upgrade(server):
    sheet = installed_sheet(server, [["C-000001", "Anna Berg"]])
    for title in ("Review", "Purchases", "Data dictionary"):
        sheet.spreadsheet.del_worksheet(sheet.spreadsheet.worksheet(title))
    tabs = by_name(diagnose(sheet.key, api_endpoint=server.url))["Template tabs"]
    assert tabs.ok is False
    assert "missing: Review, Purchases, Data dictionary" in tabs.detail
    assert f"sheetkeeper install crm --to gsheet:{sheet.key} --upgrade" in tabs.fix


def test_only_tabs_for_people_missing_is_a_warning(server):
    sheet = installed_sheet(server, [])
    sheet.spreadsheet.del_worksheet(sheet.spreadsheet.worksheet("Dashboard"))
    tabs = by_name(diagnose(sheet.key, api_endpoint=server.url))["Template tabs"]
    assert tabs.ok and tabs.warning and "Dashboard" in tabs.detail
    assert "--upgrade" in tabs.fix


def test_a_sheet_without_the_template_says_to_install_it(server):
    sh = client(server).create("Just a sheet")
    tabs = by_name(diagnose(sh.id, api_endpoint=server.url))["Template tabs"]
    assert tabs.ok is False and "no tab has the header row" in tabs.detail
    assert f"sheetkeeper install crm --to gsheet:{sh.id}" in tabs.fix


def test_a_semicolon_locale_is_said(server):
    sheet = installed_sheet(server, [])
    sheet.spreadsheet.update_locale("de_DE")
    checks = by_name(diagnose(sheet.key, api_endpoint=server.url))
    assert checks["Locale"].ok and "de_DE" in checks["Locale"].detail
    assert "`;`" in checks["Locale"].detail
    assert (separator("fr_FR"), separator("zh_CN"), separator("en_GB")) == (";", ",", ",")
    assert separator("xx_YY") is None


# -- credentials -------------------------------------------------------------------------------

def test_an_expired_sign_in_says_to_sign_in_again_and_stops_there(server, tmp_path):
    sheet = installed_sheet(server, [])
    server.state.revoked.add("1//refresh")
    checks = by_name(diagnose(sheet.key, authorized_user=token_file(tmp_path),
                              api_endpoint=server.url))
    cred = checks["Credentials"]
    assert cred.ok is False and "Token has been expired or revoked" in cred.detail
    assert "sheetkeeper google-login" in cred.detail and "7 days" in cred.fix
    assert [checks[n].ok for n in NAMES[1:7]] == [None] * 6


def test_a_person_s_sign_in_that_works_names_the_account(server, tmp_path):
    sheet = installed_sheet(server, [])
    checks = by_name(diagnose(sheet.key, authorized_user=token_file(tmp_path),
                              api_endpoint=server.url))
    assert "person's sign-in (OAuth)" in checks["Credentials"].detail
    assert not doctor.failed(checks.values())
    assert server.state.tokens       # signed in through the emulator's token endpoint


def test_what_the_credentials_file_is(tmp_path):
    key = tmp_path / "sa.json"
    key.write_text(json.dumps({"type": "service_account",
                               "client_email": "robot@p.iam.gserviceaccount.com",
                               "private_key": "-----BEGIN PRIVATE KEY-----"}))
    check, cred = credentials_file(key, None, None)
    assert check.ok and "robot@p.iam.gserviceaccount.com" in check.detail
    assert cred.kind == "service_account"

    check, _ = credentials_file(None, key, None)         # a key named as a sign-in
    assert check.ok is False and "--credentials" in check.fix

    secret = tmp_path / "client.json"
    secret.write_text(json.dumps({"installed": {"client_id": "1234"}}))
    check, _ = credentials_file(None, secret, None)
    assert check.ok is False and "OAuth client file" in check.detail
    assert f"google-login --client-secret {secret}" in check.fix

    check, _ = credentials_file(tmp_path / "nowhere.json", None, None)
    assert check.ok is False and "no such file" in check.detail and "Add key" in check.fix

    (tmp_path / "bad.json").write_text("{not json")
    check, _ = credentials_file(tmp_path / "bad.json", None, None)
    assert check.ok is False and "cannot be read as JSON" in check.detail

    check, _ = credentials_file(None, None, None)
    assert check.ok is False and "--credentials" in check.fix


def test_a_service_account_key_google_cannot_use_fails_the_credentials(server, tmp_path):
    """Against Google (no emulator) the key itself is loaded: one that is not a key fails
    there, and nothing is sent."""
    key = tmp_path / "sa.json"
    key.write_text(json.dumps({"type": "service_account",
                               "client_email": "robot@p.iam.gserviceaccount.com",
                               "private_key": "not a key"}))
    checks = by_name(diagnose("gsheet:1AbC", credentials=key))
    assert checks["Credentials"].ok is False and "cannot be used" in checks["Credentials"].detail
    assert "new key" in checks["Credentials"].fix
    assert checks["Sheets API"].ok is None


# -- size and quota ----------------------------------------------------------------------------

def test_a_sheet_over_the_export_cap_is_a_warning_not_a_failure(server, monkeypatch):
    """The cap made small (the emulator's and doctor's alike), so a small sheet is over it:
    the estimate is past half of it, so Drive is asked, and refuses the export."""
    sheet = installed_sheet(server, [["C-000001", "Anna Berg"]])
    monkeypatch.setattr(emulator_state, "MAX_EXPORT", 1_000)
    monkeypatch.setattr(doctor, "EXPORT_CAP", 1_000)
    size = by_name(diagnose(sheet.key, api_endpoint=server.url))["Size"]
    assert size.ok and size.warning
    assert "Drive refused its .xlsx export as over 10 MB" in size.detail
    assert "snapshots keep the values anyway" in size.fix


def test_the_size_estimate_and_the_export_s_own_size():
    assert "about 4.0 MB" in size_check(40_000, 4_000_000).detail
    assert not size_check(40_000, 4_000_000).warning
    assert size_check(90_000, 12_000_000).warning
    exported = size_check(90_000, 7_000_000, exported=9_000_000)
    assert "9.0 MB" in exported.detail and exported.warning


def test_the_quota_at_a_poll():
    use = quota_use(15)
    assert (use.polls, use.reads, use.writes) == (4, 12, 4) and use.within
    assert quota_check(15).ok and not quota_check(15).warning
    fast = quota_check(1)
    assert fast.ok and fast.warning and "poll = 3 or more" in fast.fix
    many = quota_check(15, sheets=10)
    assert "120 reads" in many.detail and "poll = 30 or more" in many.fix


def test_the_emulator_answers_files_get_capabilities_for_the_caller(server):
    sh = client(server, OWNER).create("Team customers")
    sh.share(server.state.user, perm_type="user", role="reader")
    url = f"{server.url}/drive/v3/files/{sh.id}"

    def asked(fields):
        return requests.get(url, params={"fields": fields},
                            headers={"Authorization": "Bearer test"}).json()
    assert asked("capabilities(canEdit)") == {"capabilities": {"canEdit": False}}
    sh.share(server.state.user, perm_type="user", role="writer")
    assert asked("name,capabilities/canEdit") == {"name": "Team customers",
                                                  "capabilities": {"canEdit": True}}
    assert asked("modifiedTime,version").keys() == {"modifiedTime", "version"}


# -- the command -------------------------------------------------------------------------------

def test_the_command_exits_0_when_all_pass(server):
    sheet = installed_sheet(server, [])
    done = run_cli("doctor", f"gsheet:{sheet.key}", "--api-endpoint", server.url)
    assert done.returncode == 0, (done.stdout, done.stderr)
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [f"✓ {n}" for n in NAMES]
    assert lines[-1] == f"gsheet:{sheet.key} is ready for sheetkeeper"
    assert done.stderr == ""


def test_the_command_exits_2_with_one_line_a_failure_saying_what_to_do(server, tmp_path):
    sh = client(server, OWNER).create("Team customers")
    config = tmp_path / "sheetkeeper.toml"
    config.write_text(f'[google]\napi_endpoint = "{server.url}"\npoll = 2\n\n'
                      f'[[watch]]\nspreadsheet = "{sh.id}"\ntemplate = "crm"\n')
    done = run_cli("doctor", f"https://docs.google.com/spreadsheets/d/{sh.id}/edit",
                   "--config", str(config))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    failures = [line for line in lines if line.startswith("✗")]
    assert failures == [line for line in lines if "Shared" in line]
    assert f"add {server.state.user} as Editor" in failures[0]
    assert any(line.startswith("– Template tabs: not looked at") for line in lines)
    assert any(line.startswith("! Quota: a poll every 2 s") for line in lines)
    assert lines[-1].startswith("1 of 8 checks failed")


def test_a_bad_address_is_one_line_and_exit_2(server):
    done = run_cli("doctor", "https://example.com/nothing", "--api-endpoint", server.url)
    assert done.returncode == 2 and done.stderr.startswith("sheetkeeper doctor: ")
    assert done.stderr.count("\n") == 1
