"""`sheetkeeper doctor gsheet:KEY`: the day-one checks of a Google Sheet (sync.gsheets.doctor),
one line each, and the exit status: 0 when none failed, 2 when one did."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from i18n import _, say

from .options import config_of, config_option

EXIT_CLEAN, EXIT_ERROR = 0, 2
MARKS = {True: "✓", False: "✗", None: "–", "warning": "!"}
WORDS = {True: "OK", False: "FAIL", None: "SKIP", "warning": "WARN"}


def add_commands(commands: argparse._SubParsersAction) -> None:
    doctor = commands.add_parser(
        "doctor", help=say(_("check that a Google Sheet is ready for sheetkeeper; changes "
                             "nothing")),
        description=say(_("Look at everything a Google Sheet needs, one check a line, each "
                          "failure with what to do: the credentials file, that the Sheets and "
                          "Drive APIs answer, that the sheet is shared with the account with "
                          "edit rights, the template's tabs, the sheet's locale, its size "
                          "against Drive's 10 MB export cap, and the quota the service would "
                          "use at the configured poll. Exit status: 0 all passed, 2 one "
                          "failed.")))
    doctor.add_argument("sheet", metavar="gsheet:KEY",
                        help=say(_("the Google Sheet (gsheet:KEY or its URL)")))
    way = doctor.add_mutually_exclusive_group()
    way.add_argument("--credentials", type=Path, metavar="KEY.json",
                     help=say(_("a service account's JSON key file (default: the config's "
                                "[google])")))
    way.add_argument("--authorized-user", type=Path, metavar="TOKEN.json",
                     help=say(_("a person's sign-in, written by `sheetkeeper google-login` "
                                "(default: the config's [google])")))
    doctor.add_argument("--api-endpoint", metavar="URL",
                        help=say(_("a local emulator of Google's APIs instead of Google "
                                   "(python -m tests.fakesheets)")))
    config_option(doctor)
    doctor.set_defaults(run=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    from sync.gsheets.client import spreadsheet_key
    from sync.gsheets.doctor import diagnose, failed
    config = config_of(args)
    google = config.google
    if args.credentials or args.authorized_user or args.api_endpoint:
        ways = (args.credentials, args.authorized_user, args.api_endpoint)
    else:
        ways = (google.credentials, google.authorized_user, google.api_endpoint)
    key = spreadsheet_key(args.sheet)
    watch = config.sheet_watch(f"gsheet:{key}")
    sheets = len(config.sheets) + (watch is None)
    checks = diagnose(args.sheet, *ways, poll=google.poll, sheets=sheets,
                      templates=watch.templates if watch else None)
    marks = MARKS if _can_write("".join(MARKS.values())) else WORDS
    for c in checks:
        mark = marks["warning"] if c.warning and c.ok else marks[c.ok]
        line = f"{mark} {say(c.name)}: {say(c.detail)}"
        if c.fix and (c.ok is False or c.warning):
            line += f" → {say(c.fix)}" if marks is MARKS else f" -> {say(c.fix)}"
        print(line)
    bad = sum(c.ok is False for c in checks)
    print(say(_("{n} of {total} checks failed: put right what each says, then run `sheetkeeper "
                "doctor gsheet:{key}` again", n=bad, total=len(checks), key=key) if bad
              else _("gsheet:{key} is ready for sheetkeeper", key=key)))
    return EXIT_ERROR if failed(checks) else EXIT_CLEAN


def _can_write(text: str) -> bool:
    try:
        text.encode(sys.stdout.encoding or "ascii")
        return True
    except (UnicodeEncodeError, LookupError):
        return False
