"""The `sheetkeeper` command. Each subcommand parses its arguments, calls one library function
and turns sheetkeeper's errors into a one-line message and exit status 2. No logic lives here."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable, Sequence

from sheet_templates import BUILTIN, LANGS, builtin, sample_entries, sample_rows
from audit.log import AuditLog
from i18n import _, error_text, say, use_language
from audit.os_family import is_windows
from sync.cycle_lock import one_at_a_time
from sync.errors import EXPLAINED
from sync.opening import apply_to, is_google, open_target, target_key, undo_on

from . import argparse_words, cli_backup, cli_doctor, cli_import, cli_service, report
from .options import (DATA_HELP, config_of, config_option, data_folder, date_arg,
                      google_access, google_options, google_sheet, google_source, report_options,
                      rule_options, settings)

EXIT_CLEAN, EXIT_FOUND, EXIT_ERROR = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sheetkeeper",
        description="Keeps a team's customer or member list clean in the spreadsheet it "
                    "already uses.")
    parser.add_argument("--lang", dest="ui_lang", metavar="LANG",
                        help=say(_("the language sheetkeeper speaks in: en or zh-CN (default: "
                                   "the locale's, from LANGUAGE, LC_ALL, LANG)")))
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    install = commands.add_parser(
        "install", help=say(_("install a template (crm, members) into a new workbook")),
        description=say(_("Write a new workbook laid out for a template: the table tab with "
                          "dropdowns and colour rules, a Lists tab, a Review tab and a Data "
                          "dictionary tab. Never overwrites an existing file.")))
    install.add_argument("template", choices=BUILTIN, help=say(_("which template")))
    install.add_argument("--to", required=True, metavar="PATH.xlsx|gsheet:KEY",
                         help=say(_("the new workbook to write, or an existing Google Sheet "
                                    "(gsheet:KEY or its URL) to add the template's tabs to")))
    google_options(install)
    install.add_argument("--lang", choices=LANGS, default="en",
                         help=say(_("language of headers, dropdown values and help (default: en)")))
    install.add_argument("--with-samples", action="store_true",
                         help=say(_("add a few realistic, messy example rows to try sheetkeeper "
                                    "on")))
    install.add_argument("--upgrade", action="store_true",
                         help=say(_("bring a workbook already in use up to the template: add "
                                    "missing columns and tabs, re-apply dropdowns and colours; "
                                    "never touches user data or columns")))
    install.set_defaults(run=_install)

    check = commands.add_parser(
        "check", help=say(_("show what is wrong with a workbook's list; changes nothing")),
        description=say(_("Read the workbook, run the rules and print the changes, findings and "
                          "duplicate pairs sheetkeeper would act on. The file is not changed. "
                          "Exit status: 0 clean, 1 something to change or look at, 2 error.")))
    check.add_argument("path", metavar="PATH|gsheet:KEY",
                       help=say(_("the .xlsx workbook, or a Google Sheet (gsheet:KEY or its URL)")))
    google_options(check)
    report_options(check)
    rule_options(check)
    check.set_defaults(run=_check)

    apply = commands.add_parser(
        "apply", help=say(_("one sync cycle: normalise, write back, log every change")),
        description=say(_("Read the workbook, log what people changed since the last cycle, run "
                          "the rules and write back only the cells that change, then record "
                          "every change in the audit log. A workbook open in Excel or "
                          "LibreOffice is left alone; one that changes meanwhile is read again. "
                          "Exit status as for check; --dry-run is check.")))
    apply.add_argument("path", metavar="PATH|gsheet:KEY",
                       help=say(_("the .xlsx workbook, or a Google Sheet (gsheet:KEY or its URL)")))
    google_options(apply)
    apply.add_argument("--dry-run", action="store_true", help=say(_("change nothing (same as "
                                                                    "check)")))
    report_options(apply)
    apply.add_argument("--data", type=Path, help=DATA_HELP)
    apply.add_argument("--auto-merge", choices=("none", "certain"),
                       help=say(_("merge certain duplicates without waiting for a decision on "
                                  "the Review tab (default: the config's, else none: every merge "
                                  "is a person's decision)")))
    rule_options(apply)
    apply.set_defaults(run=_apply)

    audit = commands.add_parser(
        "audit", help=say(_("list the audit log, or `audit verify` its hash chain")),
        description=say(_("Every change sheetkeeper wrote and every edit it saw people make. "
                          "`sheetkeeper audit verify` checks the log's hash chain and names the "
                          "first bad row.")))
    audit.add_argument("target", nargs="?", metavar="PATH|gsheet:KEY|verify",
                       help=say(_("a workbook or Google Sheet to show the changes of, or "
                                  "`verify`")))
    audit.add_argument("--since", type=date_arg, help=say(_("only from this date (UTC)")))
    audit.add_argument("--id", help=say(_("only this row ID (C-000012)")))
    audit.add_argument("--column", help=say(_("only this column (as its header says)")))
    audit.add_argument("--batch", help=say(_("only this batch")))
    audit.add_argument("--all", action="store_true",
                       help=say(_("also batches that never reached the workbook (abandoned after "
                                  "a crash or a refused write); left out otherwise")))
    audit.add_argument("--exports", action="store_true",
                       help=say(_("list the exports instead: when, who, which rows and columns, "
                                  "to which file (never the values)")))
    audit.add_argument("--format", choices=("table", "csv", "json"), default="table",
                       help=say(_("table for people (default); csv; json: one object per line")))
    audit.add_argument("--data", type=Path, help=DATA_HELP)
    config_option(audit)
    audit.set_defaults(run=_audit)

    undo = commands.add_parser(
        "undo", help=say(_("restore the before-values of one batch")),
        description=say(_("Restore what a batch changed, in the cells that still hold what it "
                          "wrote; cells a person changed since are reported and left alone. The "
                          "undo is an audited batch itself, and sheetkeeper will not re-apply "
                          "the undone values.")))
    undo.add_argument("batch", help=say(_("the batch id (from apply's output or `sheetkeeper "
                                          "audit`)")))
    undo.add_argument("--data", type=Path, help=DATA_HELP)
    google_options(undo)
    config_option(undo)
    undo.set_defaults(run=_undo)

    export = commands.add_parser(
        "export", help=say(_("write the list, or part of it, to a CSV, xlsx or vCard file, or a "
                             "CRM's import file")),
        description=say(_("Write the list as it stands to a file: csv (UTF-8 with a BOM, for "
                          "people and Excel), xlsx, vCards, or the import file of a CRM "
                          "(hubspot, salesforce, zoho: its own column names and date format, "
                          "UTF-8 without a BOM, split into files of as many records as its "
                          "importer takes; fxiaoke (纷享销客): an xlsx workbook, as its Excel "
                          "template takes). A cell a spreadsheet program would run as a formula "
                          "is escaped. The file is 0600, and the export is recorded in the audit "
                          "log (who, what, where; not the values).")))
    export.add_argument("path", metavar="PATH|gsheet:KEY",
                        help=say(_("the .xlsx workbook, or a Google Sheet (gsheet:KEY or its "
                                   "URL)")))
    export.add_argument("--to", required=True, type=Path, metavar="FILE",
                        help=say(_("the file to write (contacts.csv; a CRM's parts: "
                                   "contacts-1.csv, …)")))
    export.add_argument("--format", required=True, metavar="FORMAT",
                        help=say(_("csv, xlsx, vcf (vCard 3.0: any address book), vcf4 (vCard "
                                   "4.0), hubspot, salesforce, zoho or fxiaoke (纷享销客, an xlsx "
                                   "file)")))
    export.add_argument("--columns", type=_names,
                        help=say(_("only these columns, in this order, by any of their names "
                                   "(\"Name,Phone,Email\" or \"姓名,电话\"); default: all")))
    export.add_argument("--status", type=_names, default=(),
                        help=say(_("only rows of these statuses (active,paused; 活跃)")))
    export.add_argument("--tier", type=_names, default=(),
                        help=say(_("only rows of these tiers (vip; VIP,普通)")))
    export.add_argument("--template", choices=BUILTIN,
                        help=say(_("the template the sheet follows (default: recognised from "
                                   "headers)")))
    export.add_argument("--sheet", help=say(_("the sheet holding the list (default: recognised)")))
    export.add_argument("--data", type=Path, help=DATA_HELP)
    google_options(export)
    config_option(export)
    export.set_defaults(run=_export)

    login = commands.add_parser(
        "google-login", help=say(_("sign in to Google as a person (OAuth), once")),
        description=say(_("Run Google's sign-in for an OAuth client (a Desktop app's client file "
                          "from Google Cloud → APIs & Services → Credentials): it prints an "
                          "address to open in a browser, and keeps the token in --to (0600) for "
                          "[google] authorized_user. A service account needs none of this.")))
    login.add_argument("--client-secret", type=Path, required=True, metavar="CLIENT.json")
    login.add_argument("--to", type=Path, required=True, metavar="TOKEN.json")
    login.add_argument("--port", type=int, default=0,
                       help=say(_("the local port Google's sign-in returns to (default: any free "
                                  "one)")))
    login.set_defaults(run=_google_login)
    cli_service.add_commands(commands)
    cli_backup.add_commands(commands)
    cli_import.add_commands(commands)
    cli_doctor.add_commands(commands)
    return parser


def _install(args: argparse.Namespace) -> int:
    # Imported here: they build workbooks with openpyxl, which takes a quarter of a second to
    # load, and no other command needs it.
    from sync.xlsx.install import install_new
    from sync.xlsx.upgrade import upgrade_workbook

    template = builtin(args.template)
    if is_google(args.to):
        return _install_google(args, template)
    args.to = Path(args.to)
    if args.upgrade:
        # In turns with the service's cycles (and apply, undo, restore) on this workbook: each
        # would refuse the other's changed bytes anyway, but then one of them has to try again.
        with one_at_a_time(data_folder(args, args.to), target_key(args.to)):
            report = upgrade_workbook(args.to, template)
        _print_upgrade(args.to, template, report)
        return EXIT_CLEAN
    rows = sample_rows(args.template, args.lang) if args.with_samples else []
    entries = sample_entries(args.template, args.lang) if args.with_samples else {}
    path = install_new(template, args.to, args.lang, rows, entries)
    print(say(_("Installed the {template} template ({lang}) in {path} with {n} sample rows",
                template=template.name, lang=args.lang, path=str(path), n=len(rows)) if rows
              else _("Installed the {template} template ({lang}) in {path}",
                     template=template.name, lang=args.lang, path=str(path))))
    return EXIT_CLEAN


def _table_options(args: argparse.Namespace, key: str | None = None
                   ) -> tuple[list | None, str | None]:
    """The template and sheet (or tab): named on the command line, else by the config's
    [[watch]] for the workbook, or for the Google Sheet `key`."""
    config = config_of(args)
    watch = config.sheet_watch(key) if key else config.watch_for(args.path)
    templates = [builtin(args.template)] if args.template else watch and watch.templates
    return templates, args.sheet or (watch.sheet if watch else None)


def _install_google(args: argparse.Namespace, template) -> int:
    from sync.gsheets.client import GoogleSheetsError
    from sync.gsheets.install import install_into
    from sync.gsheets.upgrade import upgrade_google
    if args.with_samples:
        raise GoogleSheetsError(_("--with-samples is for a new workbook; a Google Sheet is the "
                                  "team's own, and sheetkeeper adds no made-up rows to it"))
    sheet = google_sheet(args, args.to)
    if args.upgrade:
        done = upgrade_google(sheet, template)
        _print_upgrade(args.to, template, done)
        return EXIT_CLEAN
    added = install_into(sheet, template, args.lang)
    print(say(_("Installed the {template} template ({lang}) in {target}: added {tabs}",
                template=template.name, lang=args.lang, target=args.to,
                tabs=", ".join(added.added_tabs))))
    return EXIT_CLEAN


def _print_upgrade(target, template, done) -> None:
    columns = f" ({', '.join(done.added_columns)})" if done.added_columns else ""
    tabs = f" ({', '.join(done.added_tabs)})" if done.added_tabs else ""
    print(say(_("Upgraded {target} to the {template} template: {columns} columns added{names}, "
                "{tabs} tabs added{tab_names}, {dropdowns} dropdowns and {rules} colour rules "
                "applied to whole columns", target=str(target), template=template.name,
                columns=len(done.added_columns), names=columns, tabs=len(done.added_tabs),
                tab_names=tabs, dropdowns=done.dropdowns, rules=done.colour_rules)))


def _check(args: argparse.Namespace) -> int:
    target, key = _target(args)
    from sync.check import check_target    # the rules: only when they are run
    plan = check_target(target, settings(args, key))
    _print_plan(plan, args)
    return EXIT_CLEAN if plan.clean else EXIT_FOUND


def _target(args: argparse.Namespace):
    """The workbook or Google Sheet `args.path` names, opened, with the key the config and
    the audit log know it by."""
    key = target_key(args.path)
    google = is_google(args.path)
    if not google:
        args.path = Path(args.path)
    templates, sheet = _table_options(args, key if google else None)
    target = open_target(args.path, templates, sheet, google_access(args) if google else None)
    return target, key if google else Path(args.path)


def _print_plan(plan, args: argparse.Namespace, batch: str | None = None) -> None:
    if args.report == "json":
        report.write_json(plan, sys.stdout, batch)
    else:
        sys.stdout.write(report.as_text(plan, args.limit, batch))


def _apply(args: argparse.Namespace) -> int:
    auto_merge = args.auto_merge or config_of(args).auto_merge
    target, key = _target(args)
    if is_google(args.path):
        data = args.data or config_of(args).data
        data.mkdir(parents=True, exist_ok=True, mode=0o700)
    else:
        data = data_folder(args, key)
    result = apply_to(target, settings(args, key), data, args.dry_run, auto_merge)
    for batch in result.merges:
        print(say(_("Carried out the decisions on the Review tab as batch {batch} "
                    "(`sheetkeeper undo {batch}` reverts it).", batch=batch)))
    for note in result.notes:
        print(say(_("note: {note}", note=note)))
    for cell in result.moved:
        print(say(_("note: {cell}: its row changed while sheetkeeper worked; left for the next "
                    "cycle", cell=cell)))
    if result.requests is not None:
        print(say(_("({n} API requests)", n=result.requests)))
    if len(result.batches) > 1:
        print(say(_("Written in {n} parts (Google takes at most so much in one request), as "
                    "batches {batches}; each is undone on its own.", n=len(result.batches),
                    batches=", ".join(result.batches))))
    if result.batch and getattr(target, "writes_unsaved", False):
        print(say(_("Written into the workbook open in Excel, not saved: save it there to keep "
                    "the changes in the file.")))
    _print_plan(result.plan, args, result.batch or ("dry run" if args.dry_run else None))
    return EXIT_CLEAN if result.plan.clean else EXIT_FOUND


def _audit(args: argparse.Namespace) -> int:
    verify = args.target == "verify"
    workbook = None if verify or args.target is None else args.target
    if workbook is not None and is_google(workbook):
        key, folder = google_source(workbook), data_folder(args, None)
    elif workbook is not None:
        key, folder = target_key(workbook), data_folder(args, Path(workbook))
    else:
        key, folder = None, data_folder(args, None)
    with AuditLog(folder / "audit.sqlite3") as log:
        if verify:
            bad = log.verify()
            if bad is None:
                print(say(_("{path}: the audit log's hash chain is intact", path=str(log.path))))
                return EXIT_CLEAN
            print(say(_("{path}: the hash chain breaks at row {row}: that row or one after it "
                        "was altered, removed or inserted after it was written",
                        path=str(log.path), row=bad)), file=sys.stderr)
            return EXIT_FOUND
        if args.exports:
            for batch, at, source, note in log.exports(key):
                print(f"{at[:19]}  {batch}  {source}: {note}")
            return EXIT_CLEAN
        entries = log.entries(workbook=key,
                              since=args.since.isoformat() if args.since else None,
                              row_id=args.id, column=args.column, batch=args.batch,
                              abandoned=args.all)
        report.write_audit(entries, args.format, sys.stdout, log.notes(key))
    return EXIT_CLEAN


def _undo(args: argparse.Namespace) -> int:
    result = undo_on(args.batch, data_folder(args, None), google_access(args))
    print(say(_("Undid batch {batch}: restored {n} cells (as batch {undo})",
                batch=result.undone, n=result.restored, undo=result.batch) if result.batch
              else _("Undid batch {batch}: restored {n} cells", batch=result.undone,
                     n=result.restored)))
    for line in result.skipped:
        print("  " + say(_("not restored: {cell}", cell=line)))
    return EXIT_CLEAN if not result.skipped else EXIT_FOUND


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.replace("，", ",").split(",") if n.strip())


def _export(args: argparse.Namespace) -> int:
    from sync.export.run import export_table
    from sync.export.select import ExportChoice
    target, key = _target(args)
    google = is_google(args.path)
    # Not made here: the audit log makes it (0700) once there is an export to record.
    data = (args.data or config_of(args).data) if google else data_folder(args, key)
    done = export_table(target, args.to, args.format,
                        ExportChoice(args.columns or (), args.status, args.tier), data,
                        source=None if google else Path(args.path))
    print(say(_("Exported {n} rows ({columns}) to {files} (0600; recorded in the audit log as "
                "{batch})", n=done.rows, columns=", ".join(done.columns),
                files=", ".join(str(f) for f in done.files), batch=done.batch)))
    for note in done.notes:
        print(say(_("note: {note}", note=note)))
    return EXIT_CLEAN


def _google_login(args: argparse.Namespace) -> int:
    from sync.gsheets.client import google_login
    path = google_login(args.client_secret, args.to, args.port)
    print(say(_('Signed in; the token is in {path}. Name it in sheetkeeper.toml: [google] '
                'authorized_user = "{path}"', path=str(path))))
    return EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    if is_windows():
        _utf8_when_redirected()
    # Before the parser is built: its help is said in the language asked for.
    use_language(_asked_language(sys.argv[1:] if argv is None else argv))
    argparse_words.speak()
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except EXPLAINED as e:
        print(f"sheetkeeper {args.command}: {error_text(e)}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (`sheetkeeper check … | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_CLEAN
    except KeyboardInterrupt:
        stopped = say(_("interrupted; nothing was changed"))
        print(f"sheetkeeper {args.command}: {stopped}", file=sys.stderr)
        return 130


def _asked_language(argv: Sequence[str]) -> str | None:
    """`--lang` given before the command (`sheetkeeper --lang zh-CN check …`); install's own
    --lang, after the command, is the new sheet's language."""
    for i, arg in enumerate(argv):
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
        if arg == "--lang":
            return argv[i + 1] if i + 1 < len(argv) else None
        if not arg.startswith("-"):
            return None
    return None


def _utf8_when_redirected() -> None:
    """Windows writes a redirected stdout in the ANSI code page (cp1252 in Western Europe), which
    has no 张伟: `sheetkeeper check … > report.txt` stopped half-way with UnicodeEncodeError. So
    a redirected stream is UTF-8 there, as on Linux and macOS. A console is left alone: Python
    writes to it in UTF-16 already."""
    for stream in (sys.stdout, sys.stderr):
        if (stream is not None and hasattr(stream, "reconfigure") and not stream.isatty()
                and stream.encoding.lower().replace("-", "") != "utf8"):
            stream.reconfigure(encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
