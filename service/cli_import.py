"""`sheetkeeper import FILE --into PATH.xlsx|gsheet:KEY`: parse, call sync.importing.run, tell
what it did (or, with --dry-run, would do), row by row."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from i18n import _, say
from rules.dates import DATE_ORDERS
from sheet_templates import BUILTIN, builtin
from sync.opening import is_google, open_target, target_key

from .options import (DATA_HELP, config_of, config_option, data_folder, date_arg,
                      google_access, google_options, region_arg, settings)

EXIT_CLEAN = 0
ACTIONS = ("added", "updated", "left", "folded")


def add_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "import", help=say(_("bring a CSV, workbook or vCard file into the list (upsert, one "
                             "batch)")),
        description=say(_("Read a CSV (its delimiter and encoding found: UTF-8, UTF-16, "
                          "GB18030/GBK), a workbook's sheet (xlsx, xls) or vCards (3.0, 4.0); "
                          "map its headers to the template's columns by their English and "
                          "Chinese names; put every value through the rules; then fill the empty "
                          "cells of the customers it matches (by ID, phone, email or a certain "
                          "duplicate match; a differing value goes to Notes, never over what is "
                          "there) and add the rest with new IDs. One audited batch: `sheetkeeper "
                          "undo BATCH` takes it back.")))
    parser.add_argument("file", type=Path, metavar="FILE",
                        help=say(_("the file to import (.csv, .txt, .tsv, .xlsx, .xls, .vcf)")))
    parser.add_argument("--into", required=True, metavar="PATH.xlsx|gsheet:KEY",
                        help=say(_("the workbook, or the Google Sheet (gsheet:KEY or its URL)")))
    parser.add_argument("--dry-run", action="store_true",
                        help=say(_("say what would be added, updated and left; change nothing")))
    parser.add_argument("--map", action="append", default=[], metavar='"THEIRS=COLUMN"',
                        help=say(_("a header of the file and the column it is (\"Mobile=Phone\", "
                                   "\"手机号=电话\"); \"THEIRS=\" leaves that column out; repeat for "
                                   "more")))
    parser.add_argument("--unmapped", choices=("notes", "leave"), default="notes",
                        help=say(_("what no column takes: notes (default) adds it to the row's "
                                   "Notes as 'Header: value'; leave leaves it out (both are "
                                   "listed)")))
    parser.add_argument("--encoding",
                        help=say(_("the file's encoding, where it is not found (gb18030, utf-16, "
                                   "cp1252, …)")))
    parser.add_argument("--sheet", help=say(_("the file's sheet, for a workbook (default: the "
                                              "first)")))
    parser.add_argument("--report", choices=("text", "json"), default="text",
                        help=say(_("text for people (default) or one JSON object for scripts")))
    parser.add_argument("--limit", type=int, default=50,
                        help=say(_("rows of the file listed in text output; 0 for all (default: "
                                   "50)")))
    parser.add_argument("--template", choices=BUILTIN,
                        help=say(_("the template the list follows (default: recognised from "
                                   "headers)")))
    parser.add_argument("--into-sheet", metavar="NAME",
                        help=say(_("the sheet or tab holding the list (default: recognised)")))
    parser.add_argument("--region", type=region_arg,
                        help=say(_("country for phone numbers written without +country code "
                                   "(default: the config's, else CN for Chinese headers)")))
    parser.add_argument("--date-order", choices=DATE_ORDERS,
                        help=say(_("how to read 03/05/2024: dmy, mdy, or auto (default: the "
                                   "config's)")))
    parser.add_argument("--today", type=date_arg, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=DATA_HELP)
    google_options(parser)
    config_option(parser)
    parser.set_defaults(run=_import, new_days=None, paused_days=None, churned_days=None)


def _import(args: argparse.Namespace) -> int:
    from sync.importing.run import ImportChoice, import_file   # the rules: only when run
    key = target_key(args.into)
    google = is_google(args.into)
    config = config_of(args)
    watch = config.sheet_watch(key) if google else config.watch_for(Path(args.into))
    templates = [builtin(args.template)] if args.template else watch and watch.templates
    sheet = args.into_sheet or (watch.sheet if watch else None)
    target = open_target(args.into if google else Path(args.into), templates, sheet,
                         google_access(args) if google else None)
    if google:
        data = args.data or config.data
        if not args.dry_run:
            data.mkdir(parents=True, exist_ok=True, mode=0o700)
    else:
        data = data_folder(args, Path(args.into))
    choice = ImportChoice(args.encoding, args.sheet, tuple(args.map), args.unmapped)
    # Judged as the service judges this list: its [[watch]] or [[sheets]] entry, then [rules].
    result = import_file(args.file, target, settings(args, key if google else Path(args.into)),
                         data, choice, args.dry_run)
    if args.report == "json":
        _json(result, sys.stdout)
    else:
        _text(result, args.limit, sys.stdout)
    return EXIT_CLEAN


def _mapping_lines(result) -> list[tuple[str, str | None, str | None]]:
    """(the file's header, where it goes, why) for each column of the file."""
    mapping, layout = result.mapping, result.table.layout
    notes = layout.template.column_of_type("notes")
    out = []
    for k in range(len(mapping.headers)):
        name = mapping.name(k)
        if k in mapping.columns:
            out.append((name, layout.headers[layout.columns[mapping.columns[k]]], None))
        elif k in mapping.to_notes:
            out.append((name, layout.headers[layout.columns[notes.key]],
                        _("no column takes it: 'Header: value' in Notes")))
        else:
            out.append((name, None, mapping.left_out.get(k, _("left out"))))
    return out


def _text(result, limit: int, out: TextIO) -> None:
    source, plan = result.source, result.plan

    def line(text, indent: int = 0) -> None:
        out.write(" " * indent + say(text) + "\n")

    line(_("{file} ({read_as}) into {target}, sheet {sheet!r}: {n:number} rows",
           file=source.path.name, read_as=source.described, target=result.table.source,
           sheet=result.table.sheet, n=len(plan.outcomes)))
    for header, to, why in _mapping_lines(result):
        if to and why:
            line(_("{header} -> {column}  ({why})", header=header, column=to, why=why), 2)
        elif to:
            line(_("{header} -> {column}", header=header, column=to), 2)
        else:
            line(_("{header} -> left out ({why})", header=header, why=why), 2)
    if source.left_out:
        line(_("not imported from the vCards: {names}",
               names=", ".join(sorted(source.left_out))), 2)
    counts = {a: plan.count(a) for a in ACTIONS}
    said = _("{added:number} added as new rows, {updated:number} updated a customer, "
             "{left:number} matched a customer and brought nothing new, {folded:number} "
             "folded into an earlier row of the file", **counts)
    if result.dry_run:
        line(_("Dry run, nothing written. Would be: {said}.", said=said))
    elif result.batch:
        line(_("Imported: {said}; as batch {batch} (`sheetkeeper undo {batch}` takes it back).",
               said=said, batch=result.batch))
        if len(result.batches) > 1:
            line(_("Written in {n} parts (Google takes at most so much in one request), as "
                   "batches {batches}; each is undone on its own.", n=len(result.batches),
                   batches=", ".join(result.batches)))
        if counts["added"]:
            line(_("The rows it touched have their Status and Findings; the Review tab lists "
                   "new duplicate pairs at the next cycle."))
    else:
        line(_("Nothing to write: {said}.", said=said))
    shown = plan.outcomes if limit <= 0 else plan.outcomes[:limit]
    for o in shown:
        line(_("line {line}: {what}", line=o.line, what=_row_words(o, result.dry_run)), 2)
        for f in o.findings:
            out.write(f"      {say(f)}\n")
    if len(shown) < len(plan.outcomes):
        line(_("… and {n:number} more rows (--limit 0 lists them all; --report json gives "
               "them to a script)", n=len(plan.outcomes) - len(shown)), 2)


def _row_words(o, dry_run: bool):
    where = _("{id} (sheet row {row})", id=o.row_id, row=o.row)
    if o.matched_by == "certain duplicate":
        how = _(", a certain duplicate")
    elif o.matched_by:
        how = _(", same {column}", column=o.matched_by)
    else:
        how = ""
    if o.action == "added":
        text = (_("would be added as {where}", where=where) if dry_run
                else _("added as {where}", where=where))
    elif o.action == "folded":
        text = _("folded into {where}, another row of the file{how}", where=where, how=how)
    elif o.action == "updated":
        text = _("matched {where}{how}", where=where, how=how)
    else:
        text = _("matched {where}{how}: nothing new", where=where, how=how)
    if o.filled and o.action != "added":
        text = _("{text}; fills {columns}", text=text, columns=", ".join(o.filled))
    if o.noted:
        text = _("{text}; to Notes: {values}", text=text, values="; ".join(o.noted))
    return text


def _json(result, out: TextIO) -> None:
    import orjson
    plan = result.plan
    body: dict[str, Any] = {
        "file": str(result.source.path), "read_as": result.source.described,
        "into": result.table.source, "sheet": result.table.sheet,
        "dry_run": result.dry_run, "batch": result.batch, "batches": list(result.batches),
        "columns": [{"header": h, "to": to, "why": why}
                    for h, to, why in _mapping_lines(result)],
        "not_imported": sorted(result.source.left_out),
        "counts": {a: plan.count(a) for a in ACTIONS},
        "rows": [{"line": o.line, "action": o.action, "id": o.row_id, "row": o.row,
                  "matched_by": o.matched_by, "filled": o.filled, "noted": o.noted,
                  "findings": o.findings} for o in plan.outcomes],
    }
    out.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")
