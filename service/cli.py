"""The `sheetkeeper` command. Each subcommand parses its arguments, calls one library function
and turns sheetkeeper's errors into a one-line message and exit status 2. No logic lives here."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Callable, Sequence

from rules.dates import DATE_ORDERS
from rules.status import StatusThresholds
from sheet_templates import BUILTIN, LANGS, TemplateError, builtin, sample_rows
from sync.check import check_workbook
from sync.errors import SheetkeeperError
from sync.plan import RuleSettings
from sync.xlsx_install import install_new

from . import report

EXIT_CLEAN, EXIT_FOUND, EXIT_ERROR = 0, 1, 2


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-23") from None


def _region(text: str) -> str:
    import phonenumbers
    region = text.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a region phonenumbers knows; use a two-letter country code "
            "such as CN, GB or US")
    return region


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sheetkeeper",
        description="Keeps a team's customer or member list clean in the spreadsheet it "
                    "already uses.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    install = commands.add_parser(
        "install", help="install a template (crm, members) into a new workbook",
        description="Write a new workbook laid out for a template: the table tab with dropdowns "
                    "and colour rules, a Lists tab, a Review tab and a Data dictionary tab. "
                    "Never overwrites an existing file.")
    install.add_argument("template", choices=BUILTIN, help="which template")
    install.add_argument("--to", required=True, type=Path, metavar="PATH.xlsx",
                         help="the new workbook to write")
    install.add_argument("--lang", choices=LANGS, default="en",
                         help="language of headers, dropdown values and help (default: en)")
    install.add_argument("--with-samples", action="store_true",
                         help="add a few realistic, messy example rows to try sheetkeeper on")
    install.set_defaults(run=_install)

    check = commands.add_parser(
        "check", help="show what is wrong with a workbook's list; changes nothing",
        description="Read the workbook, run the rules and print the changes, findings and "
                    "duplicate pairs sheetkeeper would act on. The file is not changed. "
                    "Exit status: 0 clean, 1 something to change or look at, 2 error.")
    check.add_argument("path", type=Path, help="the .xlsx workbook")
    check.add_argument("--report", choices=("text", "json"), default="text",
                       help="text for people (default) or one JSON object for scripts")
    check.add_argument("--template", choices=BUILTIN,
                       help="the template the sheet follows (default: recognised from headers)")
    check.add_argument("--sheet", help="the sheet holding the list (default: recognised)")
    check.add_argument("--region", type=_region,
                       help="country for phone numbers typed without +country code (CN, GB, …); "
                            "default: CN for Chinese headers, none otherwise")
    check.add_argument("--date-order", choices=DATE_ORDERS, default="auto",
                       help="how to read 03/05/2024: dmy, mdy, or auto (flag it when unclear)")
    check.add_argument("--today", type=_date, default=None,
                       help="compute statuses as of this date (default: today)")
    check.add_argument("--new-days", type=int, default=StatusThresholds.new_days,
                       help="days a row stays New (default: %(default)s)")
    check.add_argument("--paused-days", type=int, default=StatusThresholds.paused_days,
                       help="days without contact before Paused (default: %(default)s)")
    check.add_argument("--churned-days", type=int, default=StatusThresholds.churned_days,
                       help="days without contact before Churned (default: %(default)s)")
    check.add_argument("--limit", type=int, default=50,
                       help="rows shown per section in text output; 0 for all (default: 50)")
    check.set_defaults(run=_check)
    return parser


def _install(args: argparse.Namespace) -> int:
    template = builtin(args.template)
    rows = sample_rows(args.template, args.lang) if args.with_samples else []
    path = install_new(template, args.to, args.lang, rows)
    print(f"Installed the {template.name} template ({args.lang}) in {path}"
          + (f" with {len(rows)} sample rows" if rows else ""))
    return EXIT_CLEAN


def _check(args: argparse.Namespace) -> int:
    try:
        thresholds = StatusThresholds(args.new_days, args.paused_days, args.churned_days)
    except ValueError as e:
        raise SheetkeeperError(str(e)) from None
    settings = RuleSettings(today=args.today or dt.date.today(), phone_region=args.region,
                            date_order=args.date_order, thresholds=thresholds)
    templates = [builtin(args.template)] if args.template else None
    plan = check_workbook(args.path, settings, templates, args.sheet)
    if args.report == "json":
        report.write_json(plan, sys.stdout)
    else:
        sys.stdout.write(report.as_text(plan, args.limit))
    return EXIT_CLEAN if plan.clean else EXIT_FOUND


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except (SheetkeeperError, TemplateError) as e:
        print(f"sheetkeeper {args.command}: {e}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (`sheetkeeper check … | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_CLEAN
    except KeyboardInterrupt:
        print(f"sheetkeeper {args.command}: interrupted; nothing was changed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
