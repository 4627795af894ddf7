"""`sheetkeeper snapshot`, `snapshots` (list, prune, diff, pin, unpin) and `restore`."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from audit.snapshots import Snapshot, SnapshotStore, Source
# The workbook readers and writers are imported by the commands that use them: every command
# pays for what is imported here (issue 17: start-up).
from sync.errors import EXPLAINED, SheetkeeperError
from i18n import _, error_text, say

from .options import (DATA_HELP, config_of, config_option, data_folder, google_options,
                      google_sheet, google_source)
from sync.opening import is_google

ACTIONS = ("list", "prune", "diff", "pin", "unpin")


def add_commands(commands: argparse._SubParsersAction) -> None:
    snap = commands.add_parser(
        "snapshot", help=say(_("take a snapshot of a workbook now")),
        description=say(_("Copy the workbook, read consistently (never mid-save), into the data "
                          "folder's snapshots, with a manifest entry (SHA-256, size, rows, the "
                          "audit batch it follows). Without PATH: every workbook the config "
                          "watches.")))
    snap.add_argument("path", nargs="?", metavar="PATH|gsheet:KEY",
                      help=say(_("the workbook or Google Sheet (default: all watched)")))
    _common(snap)
    google_options(snap)
    snap.set_defaults(run=_snapshot)

    snaps = commands.add_parser(
        "snapshots", help=say(_("list, prune, diff or pin snapshots")),
        description=say(_("`snapshots [PATH]` lists them; `snapshots prune [PATH] [--dry-run]` "
                          "applies the retention rules (keep_daily, keep_weekly, keep_monthly; "
                          "pinned ones are never pruned) and says which rule keeps each; "
                          "`snapshots diff A B` shows rows added, removed and changed between "
                          "two snapshots, by Customer ID; `snapshots pin ID` / `unpin ID`.")))
    snaps.add_argument("words", nargs="*", metavar="[ACTION] ARG",
                       help=say(_("list [PATH] | prune [PATH] | diff A B | pin ID | unpin ID")))
    snaps.add_argument("--dry-run", action="store_true", help=say(_("prune: only say what would "
                                                                    "go")))
    snaps.add_argument("--format", choices=("text", "json"), default="text")
    _common(snaps)
    snaps.set_defaults(run=_snapshots)

    rest = commands.add_parser(
        "restore", help=say(_("put a snapshot back (first snapshotting what is there)")),
        description=say(_("Verify the snapshot's checksum, then write it over its workbook "
                          "(after taking a snapshot of the workbook as it is, so the restore can "
                          "be undone by restoring that one), or to a new file with --to.")))
    rest.add_argument("snapshot", help=say(_("the snapshot's id, or its file (see `sheetkeeper "
                                             "snapshots`)")))
    rest.add_argument("--to", type=Path, metavar="NEW_PATH",
                      help=say(_("write to this new file instead of over the workbook")))
    _common(rest)
    google_options(rest)
    rest.set_defaults(run=_restore)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, help=DATA_HELP)
    config_option(parser)


def _snapshot(args: argparse.Namespace) -> int:
    from sync.xlsx.backup import take_snapshot
    config = config_of(args)
    if args.path is not None:
        paths = [args.path if is_google(args.path) else Path(args.path)]
    else:
        paths = [p for w in config.watches for p in w.workbooks()] + \
            [w.key for w in config.sheets]
        if not paths:
            raise SheetkeeperError(_("no workbooks to snapshot: name one, or put some where the "
                                     "config watches"))
    failed = 0
    for path in paths:
        try:
            if isinstance(path, str):
                from sync.gsheets.backup import export_missing, take_google_snapshot
                snap = take_google_snapshot(google_sheet(args, path), data_folder(args, None),
                                            "manual")
                missing = export_missing(snap)
                if missing and not missing.too_big:
                    # The values are kept, but what stopped the export needs putting right.
                    print(say(_("sheetkeeper snapshot: {path}: snapshot {id} holds the values, "
                                "which restore uses; {why}",
                                path=path, id=snap.id, why=missing.why)), file=sys.stderr)
                    failed += 1
                elif missing:
                    print(say(_("note: {path}: {why}; the values, which restore uses, are all "
                                "kept", path=path, why=missing.why)))
            else:
                snap = take_snapshot(path, data_folder(args, path), "manual")
        except EXPLAINED as e:
            print(f"sheetkeeper snapshot: {error_text(e)}", file=sys.stderr)
            failed += 1
            continue
        print(say(_("Took snapshot {id} of {path}: {rows} rows, {size} bytes, sha256 {sha}…",
                    id=snap.id, path=path, rows=snap.rows, size=snap.size,
                    sha=snap.sha256[:12])))
    return 2 if failed else 0


def _snapshots(args: argparse.Namespace) -> int:
    words = list(args.words)
    action = words.pop(0) if words and words[0] in ACTIONS else "list"
    expected = {"list": (0, 1), "prune": (0, 1), "diff": (2, 2), "pin": (1, 1), "unpin": (1, 1)}
    low, high = expected[action]
    if not low <= len(words) <= high:
        raise SheetkeeperError(f"`snapshots {action}` takes "
                               + {"list": "an optional workbook", "prune": "an optional workbook",
                                  "diff": "two snapshot ids", "pin": "one snapshot id",
                                  "unpin": "one snapshot id"}[action])
    workbook = _source(words[0]) if action in ("list", "prune") and words else None
    folder = data_folder(args, workbook if isinstance(workbook, Path) else None)
    with SnapshotStore(folder, create=False) as store:
        if action == "list":
            return _list(store, workbook, args.format)
        if action == "prune":
            return _prune(store, workbook, args)
        if action == "diff":
            return _diff(store, *words, args.format)
        snap = store.get(words[0])
        store.pin(snap, action == "pin")
        print(say(_("Pinned snapshot {id}", id=snap.id) if action == "pin"
                  else _("Unpinned snapshot {id}", id=snap.id)))
        return 0


def _list(store: SnapshotStore, workbook: Source | None, fmt: str) -> int:
    from sync.xlsx.backup import describe
    snaps = store.list(workbook)
    if fmt == "json":
        json.dump([describe(s) for s in snaps], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    if not snaps:
        print(say(_("no snapshots yet; `sheetkeeper snapshot PATH` takes one")))
        return 0
    head = [say(w) for w in (_("id"), _("taken (UTC)"), _("rows"), _("size"), _("reason"))]
    print(f"{head[0]:42} {head[1]:20} {head[2]:>7} {head[3]:>10}  {head[4]}")
    pinned = "  " + say(_("(pinned)"))
    for s in snaps:
        print(f"{s.id:42} {s.taken:%Y-%m-%d %H:%M:%S} {s.rows if s.rows is not None else '?':>7} "
              f"{s.size:>10}  {s.reason}{pinned if s.pinned else ''}")
    return 0


def _prune(store: SnapshotStore, workbook: Source | None, args: argparse.Namespace) -> int:
    policy = config_of(args).retention
    books = [workbook] if workbook else store.workbooks()
    gone = 0
    for book in books:
        print(book)
        for snap, kept in store.prune(book, policy, dry_run=args.dry_run):
            if kept is None:
                gone += 1
                said = say(_("Would prune") if args.dry_run else _("Pruned"))
                print(f"  {said:12} {snap.id}")
            else:
                said = say(_("Keeping"))
                print(f"  {said:12} {snap.id}  ({kept.rule} #{kept.index})")
    kept_by = dict(gone=gone, keep_daily=policy.keep_daily, keep_weekly=policy.keep_weekly,
                   keep_monthly=policy.keep_monthly)
    print(say(_("{gone} snapshot(s) would be pruned (keep_daily {keep_daily}, keep_weekly "
                "{keep_weekly}, keep_monthly {keep_monthly}; pinned ones are always kept)",
                **kept_by) if args.dry_run else
              _("{gone} snapshot(s) were pruned (keep_daily {keep_daily}, keep_weekly "
                "{keep_weekly}, keep_monthly {keep_monthly}; pinned ones are always kept)",
                **kept_by)))
    return 0


def _diff(store: SnapshotStore, first: str, second: str, fmt: str) -> int:
    from sync.diff import diff_tables
    a, b = store.get(first), store.get(second)
    if b.taken < a.taken:
        a, b = b, a
    d = diff_tables(_table(store, a), _table(store, b))
    if fmt == "json":
        json.dump({"from": a.id, "to": b.id, "added": d.added, "removed": d.removed,
                   "changed": [{"id": r, "column": c, "before": x, "after": y}
                               for r, c, x, y in d.changed]},
                  sys.stdout, ensure_ascii=False, indent=1, default=str)
        sys.stdout.write("\n")
        return 0 if d.empty else 1
    print(say(_("from {first} to {second}: {added} rows added, {removed} removed, {changed} "
                "cells changed", first=a.id, second=b.id, added=len(d.added),
                removed=len(d.removed), changed=len(d.changed))))
    for rid in d.added:
        print(f"  + {rid}")
    for rid in d.removed:
        print(f"  - {rid}")
    for rid, column, before, after in d.changed:
        print(f"  ~ {rid}  {column}: {before!r} → {after!r}")
    return 0 if d.empty else 1


def _table(store: SnapshotStore, snap: Snapshot):
    """A snapshot's customer table: a workbook's copy, or a Google Sheet's values."""
    from sync.xlsx.read import read_table
    data = store.verified(snap)
    if isinstance(snap.workbook, str):
        from sync.gsheets.backup import load, snapshot_table
        table = snapshot_table(snap.workbook, load(snap, data))
        if table is None:
            raise SheetkeeperError(_("snapshot {id} holds no customer table to compare",
                                     id=snap.id))
        return table
    return read_table(snap.path, data=data)


def _source(text: str) -> Source:
    if is_google(text):
        return google_source(text)
    return Path(text).resolve()


def _restore(args: argparse.Namespace) -> int:
    from sync.xlsx.backup import restore
    folder = data_folder(args, None)
    with SnapshotStore(folder, create=False) as store:
        source = store.get(args.snapshot).workbook
    if isinstance(source, str):
        from sync.gsheets.backup import restore_google
        if args.to is not None:
            raise SheetkeeperError(_("--to is for workbooks; a Google Sheet's snapshot is "
                                     "restored onto its own spreadsheet (its .xlsx export beside "
                                     "the snapshot opens anywhere)"))
        done = restore_google(args.snapshot, folder, google_sheet(args, source))
        print(say(_("Restored snapshot {id} over {source} ({changed} cells changed, audit batch "
                    "{batch}, {requests} API requests). The sheet as it was is snapshot {id2}: "
                    "`sheetkeeper restore {id2}` undoes this.",
                    id=done.snapshot.id, source=source, changed=done.changed, batch=done.batch,
                    requests=done.requests, id2=done.saved_first.id)))
        return 0
    result = restore(args.snapshot, folder, args.to)
    if result.saved_first:
        print(say(_("Restored snapshot {id} over {target} ({changed} cells changed, audit batch "
                    "{batch}). The workbook as it was is snapshot {id2}: `sheetkeeper restore "
                    "{id2}` undoes this.",
                    id=result.snapshot.id, target=result.target, changed=result.changed,
                    batch=result.batch, id2=result.saved_first.id)))
    else:
        print(say(_("Restored snapshot {id} to {target}",
                    id=result.snapshot.id, target=result.target)))
    return 0
