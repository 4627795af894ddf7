"""The `sheetkeeper` command. Each subcommand parses its arguments, calls one library function
and turns sheetkeeper's errors into a one-line message and exit status 2. No logic lives here."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable, Sequence

from sheet_templates import BUILTIN, LANGS, TemplateError, builtin, sample_rows
from audit.log import AuditLog
from sync.check import check_workbook
from sync.cycle import apply_workbook, undo_batch
from sync.xlsx_target import workbook_key
from sync.errors import SheetkeeperError
from sync.xlsx_install import install_new
from sync.xlsx_upgrade import upgrade_workbook

from . import cli_backup, cli_service, report
from .options import (DATA_HELP, config_of, config_option, data_folder, date_arg,
                      report_options, rule_options, settings)

EXIT_CLEAN, EXIT_FOUND, EXIT_ERROR = 0, 1, 2


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
    install.add_argument("--to", required=True, metavar="PATH.xlsx|gsheet:KEY",
                         help="the new workbook to write, or an existing Google Sheet (gsheet:KEY "
                              "or its URL) to add the template's tabs to")
    _google_options(install)
    install.add_argument("--lang", choices=LANGS, default="en",
                         help="language of headers, dropdown values and help (default: en)")
    install.add_argument("--with-samples", action="store_true",
                         help="add a few realistic, messy example rows to try sheetkeeper on")
    install.add_argument("--upgrade", action="store_true",
                         help="bring a workbook already in use up to the template: add missing "
                              "columns and tabs, re-apply dropdowns and colours; never touches "
                              "user data or columns")
    install.set_defaults(run=_install)

    check = commands.add_parser(
        "check", help="show what is wrong with a workbook's list; changes nothing",
        description="Read the workbook, run the rules and print the changes, findings and "
                    "duplicate pairs sheetkeeper would act on. The file is not changed. "
                    "Exit status: 0 clean, 1 something to change or look at, 2 error.")
    check.add_argument("path", type=Path, help="the .xlsx workbook")
    report_options(check)
    rule_options(check)
    check.set_defaults(run=_check)

    apply = commands.add_parser(
        "apply", help="one sync cycle: normalise, write back, log every change",
        description="Read the workbook, log what people changed since the last cycle, run the "
                    "rules and write back only the cells that change, then record every change "
                    "in the audit log. A workbook open in Excel or LibreOffice is left alone; "
                    "one that changes meanwhile is read again. Exit status as for check; "
                    "--dry-run is check.")
    apply.add_argument("path", metavar="PATH|gsheet:KEY",
                       help="the .xlsx workbook, or a Google Sheet (gsheet:KEY or its URL)")
    _google_options(apply)
    apply.add_argument("--dry-run", action="store_true", help="change nothing (same as check)")
    report_options(apply)
    apply.add_argument("--data", type=Path, help=DATA_HELP)
    apply.add_argument("--auto-merge", choices=("none", "certain"),
                       help="merge certain duplicates without waiting for a decision on the "
                            "Review tab (default: the config's, else none: every merge is a "
                            "person's decision)")
    rule_options(apply)
    apply.set_defaults(run=_apply)

    audit = commands.add_parser(
        "audit", help="list the audit log, or `audit verify` its hash chain",
        description="Every change sheetkeeper wrote and every edit it saw people make. "
                    "`sheetkeeper audit verify` checks the log's hash chain and names the first "
                    "bad row.")
    audit.add_argument("target", nargs="?", metavar="PATH|verify",
                       help="a workbook to show the changes of, or `verify`")
    audit.add_argument("--since", type=date_arg, help="only from this date (UTC)")
    audit.add_argument("--id", help="only this row ID (C-000012)")
    audit.add_argument("--column", help="only this column (as its header says)")
    audit.add_argument("--batch", help="only this batch")
    audit.add_argument("--format", choices=("table", "csv", "json"), default="table")
    audit.add_argument("--data", type=Path, help=DATA_HELP)
    config_option(audit)
    audit.set_defaults(run=_audit)

    undo = commands.add_parser(
        "undo", help="restore the before-values of one batch",
        description="Restore what a batch changed, in the cells that still hold what it wrote; "
                    "cells a person changed since are reported and left alone. The undo is an "
                    "audited batch itself, and sheetkeeper will not re-apply the undone values.")
    undo.add_argument("batch", help="the batch id (from apply's output or `sheetkeeper audit`)")
    undo.add_argument("--data", type=Path, help=DATA_HELP)
    config_option(undo)
    undo.set_defaults(run=_undo)
    cli_service.add_commands(commands)
    cli_backup.add_commands(commands)
    return parser


def _install(args: argparse.Namespace) -> int:
    template = builtin(args.template)
    if _is_google(args.to):
        return _install_google(args, template)
    args.to = Path(args.to)
    if args.upgrade:
        done = upgrade_workbook(args.to, template)
        print(f"Upgraded {args.to} to the {template.name} template: "
              f"{len(done.added_columns)} columns added"
              + (f" ({', '.join(done.added_columns)})" if done.added_columns else "")
              + f", {len(done.added_tabs)} tabs added"
              + (f" ({', '.join(done.added_tabs)})" if done.added_tabs else "")
              + f", {done.dropdowns} dropdowns and {done.colour_rules} colour rules applied "
                "to whole columns")
        return EXIT_CLEAN
    rows = sample_rows(args.template, args.lang) if args.with_samples else []
    path = install_new(template, args.to, args.lang, rows)
    print(f"Installed the {template.name} template ({args.lang}) in {path}"
          + (f" with {len(rows)} sample rows" if rows else ""))
    return EXIT_CLEAN


def _table_options(args: argparse.Namespace) -> tuple[list | None, str | None]:
    """The template and sheet: named on the command line, else by the config's [[watch]]."""
    watch = config_of(args).watch_for(args.path)
    templates = [builtin(args.template)] if args.template else watch and watch.templates
    return templates, args.sheet or (watch.sheet if watch else None)


def _install_google(args: argparse.Namespace, template) -> int:
    from sync.gsheets import GoogleSheetsError
    from sync.gsheets_install import install_into
    if args.upgrade or args.with_samples:
        raise GoogleSheetsError("--upgrade and --with-samples are not there yet for Google "
                                "Sheets; install into a spreadsheet without the template's tabs")
    done = install_into(_google_sheet(args, args.to), template, args.lang)
    print(f"Installed the {template.name} template ({args.lang}) in {args.to}: added "
          + ", ".join(done.added_tabs))
    return EXIT_CLEAN


def _check(args: argparse.Namespace) -> int:
    templates, sheet = _table_options(args)
    plan = check_workbook(args.path, settings(args, args.path), templates, sheet)
    _print_plan(plan, args)
    return EXIT_CLEAN if plan.clean else EXIT_FOUND


def _print_plan(plan, args: argparse.Namespace, batch: str | None = None) -> None:
    if args.report == "json":
        report.write_json(plan, sys.stdout, batch)
    else:
        sys.stdout.write(report.as_text(plan, args.limit, batch))


def _google_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--credentials", type=Path, metavar="KEY.json",
                        help="for a Google Sheet: the service account's JSON key file (share "
                             "the sheet with the account's email first)")
    parser.add_argument("--api-endpoint", metavar="URL",
                        help="for a Google Sheet: a local emulator of Google's APIs instead of "
                             "Google (python -m tests.fakesheets); no credentials needed")


def _is_google(target: str) -> bool:
    return target.startswith(("gsheet:", "https://docs.google.com/"))


def _google_sheet(args: argparse.Namespace, target: str):
    from sync.gsheets import GoogleSheet, GoogleSheetsError, endpoint_client, \
        service_account_client
    if args.api_endpoint:
        return GoogleSheet.open(endpoint_client(args.api_endpoint), target)
    if args.credentials is None:
        raise GoogleSheetsError("a Google Sheet needs --credentials KEY.json: a service "
                                "account's key file (Google Cloud → IAM & Admin → Service "
                                "accounts → Keys), with the sheet shared with its email")
    client, account = service_account_client(args.credentials)
    return GoogleSheet.open(client, target, account)


def _apply_google(args: argparse.Namespace) -> int:
    from sync.gsheets_cycle import apply_google
    if args.dry_run:
        raise SheetkeeperError("--dry-run is not there yet for Google Sheets")
    data = args.data or config_of(args).data
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    templates = [builtin(args.template)] if args.template else None
    result = apply_google(_google_sheet(args, args.path), settings(args, None), data, templates)
    for cell in result.moved:
        print(f"note: {cell} changed while sheetkeeper worked; left for the next cycle")
    print(f"({result.requests} API requests)")
    _print_plan(result.plan, args, result.batch)
    return EXIT_CLEAN if result.plan.clean else EXIT_FOUND


def _apply(args: argparse.Namespace) -> int:
    if _is_google(args.path):
        return _apply_google(args)
    args.path = Path(args.path)
    templates, sheet = _table_options(args)
    result = apply_workbook(args.path, settings(args, args.path), data_folder(args, args.path),
                            args.dry_run, templates, sheet,
                            args.auto_merge or config_of(args).auto_merge)
    for batch in result.merges:
        print(f"Carried out the decisions on the Review tab as batch {batch} "
              f"(`sheetkeeper undo {batch}` reverts it).")
    for note in result.notes:
        print(f"note: {note}")
    _print_plan(result.plan, args, result.batch or ("dry run" if args.dry_run else None))
    return EXIT_CLEAN if result.plan.clean else EXIT_FOUND


def _audit(args: argparse.Namespace) -> int:
    verify = args.target == "verify"
    workbook = None if verify or args.target is None else Path(args.target)
    with AuditLog(data_folder(args, workbook) / "audit.sqlite3") as log:
        if verify:
            bad = log.verify()
            if bad is None:
                print(f"{log.path}: the audit log's hash chain is intact")
                return EXIT_CLEAN
            print(f"{log.path}: the hash chain breaks at row {bad}: that row or one after it was "
                  "altered, removed or inserted after it was written", file=sys.stderr)
            return EXIT_FOUND
        entries = log.entries(workbook=workbook_key(workbook) if workbook else None,
                              since=args.since.isoformat() if args.since else None,
                              row_id=args.id, column=args.column, batch=args.batch)
        report.write_audit(entries, args.format, sys.stdout)
    return EXIT_CLEAN


def _undo(args: argparse.Namespace) -> int:
    result = undo_batch(args.batch, data_folder(args, None))
    print(f"Undid batch {result.undone}: restored {result.restored} cells"
          + (f" (as batch {result.batch})" if result.batch else ""))
    for line in result.skipped:
        print(f"  not restored: {line}")
    return EXIT_CLEAN if not result.skipped else EXIT_FOUND


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
