"""Snapshots of a Google Sheet, and restoring one.

A snapshot is two files in the snapshot store:
- `<time>.json`: every tab's values as the Sheets API gives them (unformatted; dates as serial
  numbers; formulas as their "=…" text), what restore writes back. The manifest vouches for it
  by its SHA-256.
- `<time>.xlsx`: Drive's own export of the spreadsheet, for opening in any spreadsheet program
  without sheetkeeper (the JSON names its SHA-256). Best-effort: Drive exports at most 10 MB,
  and the values never depend on it; the JSON says why where there is none.

Three requests: the tab list, one values:batchGet of every tab, the export. The values are read
in one request, so they are one consistent moment of the sheet.

Restore first snapshots the sheet as it is (so a restore can itself be undone by restoring
that), then writes each tab's values back in two values:batchUpdate requests: RAW for values
(text stays text, "+86…" is no number) with a formula cell left out, then USER_ENTERED for the
formula cells alone (so they are formulas again) — two for each band of rows that fits in a
body Google takes (bodies.py: at most 2 MB; one body over 10 MiB is refused), each band
audited as a batch of its own. Cells beyond what the snapshot held are
cleared; a tab someone deleted is added back. Then the template's dropdowns, colour rules and
protections are laid down again over whole columns (`install --upgrade`, the same code). The
changed cells go to the audit log as one batch.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from audit.log import AuditLog, ChangeRecord
from audit.snapshots import Snapshot, SnapshotError, SnapshotStore
from sheet_templates import Template, templates_or_builtin
from i18n import _

from ..diff import table_changes
from ..cycle_lock import one_at_a_time
from ..errors import GoogleSheetsError, SheetkeeperError
from .spills import spilled
from .bodies import MAX_BODY, grid_bands
from .install import tab_playing
from .client import GoogleSheet
from .target import sheet_key, table_from_values
from .upgrade import upgrade_google
from ..seen import SeenStore
from ..cells import CellWrite
from ..targets import Step
from ..writing import record_and_commit

FORMAT = "sheetkeeper-gsheet-snapshot/1"
TOO_BIG = "exportSizeLimitExceeded"       # Drive's reason for an export over 10 MB
AUDIT = "audit.sqlite3"


def take_google_snapshot(sheet: GoogleSheet, data: Path, reason: str = "manual",
                         templates: Sequence[Template] | None = None,
                         now: dt.datetime | None = None) -> Snapshot:
    """The values of every grid tab (what restore writes back), and Drive's .xlsx export
    beside them where Drive gives one. The values never depend on the export: Drive exports at
    most 10 MB (403 exportSizeLimitExceeded), and a restore begins with a snapshot, so a big
    sheet could otherwise never be restored. The JSON, vouched for by the manifest, says which:
    its `export` holds the copy's SHA-256 and size, or why there is none (`missing`)."""
    tabs = sheet.tabs()
    values = sheet.read(tabs, formulas=True)
    export, about = _export(sheet)
    payload = {"format": FORMAT, "spreadsheet": sheet.key, "title": sheet.spreadsheet.title,
               "tabs": [{"title": t, "values": _json_values(values[t])} for t in tabs],
               "export": about}
    key = sheet_key(sheet)
    with AuditLog(data / AUDIT) as audit, SnapshotStore(data) as store:
        return store.add(key, json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                         _rows(key, payload, templates), audit.last_batch(key), reason, now,
                         suffix=".json", beside={".xlsx": export} if export else {})


def _export(sheet: GoogleSheet) -> tuple[bytes | None, dict[str, Any]]:
    """Drive's .xlsx export and what the snapshot says of it; best-effort: whatever stops it
    (over Drive's 10 MB, the Drive API switched off, Google not answering) is said, and the
    values are kept all the same."""
    try:
        export = sheet.export_xlsx()
    except GoogleSheetsError as e:
        too_big = getattr(e, "reason", "") == TOO_BIG
        why = "Drive exports at most 10 MB, and this spreadsheet is bigger" if too_big else str(e)
        return None, {"suffix": None, "missing": f"no .xlsx copy: {why}",
                      "reason": getattr(e, "reason", "") or type(e).__name__}
    return export, {"suffix": ".xlsx", "sha256": hashlib.sha256(export).hexdigest(),
                    "size": len(export)}


@dataclass(frozen=True)
class NoExport:
    """Why a Google snapshot has no .xlsx copy beside its values."""
    why: str
    too_big: bool          # Drive's 10 MB cap: the sheet's size, nothing to put right


def export_missing(snap: Snapshot) -> NoExport | None:
    """Why a Google snapshot has no .xlsx copy (None: it has one)."""
    if snap.path.with_suffix(".xlsx").exists():
        return None
    try:
        about = json.loads(snap.path.read_bytes()).get("export") or {}
    except (OSError, ValueError, AttributeError):
        about = {}
    return NoExport(about.get("missing") or "no .xlsx copy", about.get("reason") == TOO_BIG)


@dataclass(frozen=True)
class GoogleRestore:
    snapshot: Snapshot
    saved_first: Snapshot
    batch: str | None
    changed: int
    requests: int
    batches: tuple[str, ...] = ()     # one for each body Google took (<= 2 MB); `batch` first


def restore_google(ref: str, data: Path, sheet: GoogleSheet,
                   templates: Sequence[Template] | None = None) -> GoogleRestore:
    # One at a time with the service's cycles on it: a cycle in flight would take the restored
    # cells for a person's edits.
    with one_at_a_time(data, sheet_key(sheet)):
        snap, payload = _snapshot_of_this_sheet(ref, data, sheet)
        key = sheet_key(sheet)
        saved = take_google_snapshot(sheet, data, "before-restore", templates)
        with SnapshotStore(data) as store:
            current = load(saved, store.verified(saved))
        requests = 3 + _add_deleted_tabs(sheet, payload)
        raw, formulas = _grids_to_write(payload, current)
        if sheet.grow(_corners(raw)):        # a tab that has shrunk since, or was added anew
            requests += 1
        table = snapshot_table(key, payload, templates)
        before_table = snapshot_table(key, current, templates)
        changes = table_changes(before_table, table) if table and before_table else []
        reason = f"restored from snapshot {snap.id}"
        parts = _parts(raw, formulas)
        records = _records_by_part(changes, parts, table, before_table, reason)
        batches = []
        with AuditLog(data / AUDIT) as audit:
            # As every write: recorded pending, sent, then settled (sync.writing), one batch
            # for each body Google takes (at most 2 MB). Refused, the batch is abandoned; an
            # answer that never came leaves it pending, for the next cycle's read to settle by
            # its cells.
            for n, (bands, band_formulas) in enumerate(parts):
                batches.append(record_and_commit(
                    audit, key, table.sheet if table else "", records[n],
                    _SnapshotValues(sheet, bands, band_formulas), "restore",
                    note=f"{reason}" + (f", part {n + 1} of {len(parts)}" if len(parts) > 1
                                        else "") + f"; the sheet as it was is snapshot "
                    f"{saved.id}"))
                requests += 1 + bool(band_formulas)
        if table is not None:   # dropdowns, colours and protections back over whole columns
            requests += upgrade_google(sheet, table.layout.template).requests
        SeenStore(data).forget(key)
        return GoogleRestore(snap, saved, batches[0] if batches else None, len(changes),
                             requests, tuple(batches))


def _parts(raw: list[tuple[str, list[list[Any]]]], formulas: list[tuple[str, int, int, str]]
           ) -> list[tuple[list[tuple[str, int, list[list[Any]]]],
                           list[tuple[str, int, int, str]]]]:
    """What restore writes, in bodies Google takes: bands of whole rows (bodies.grid_bands,
    sized with the formulas in place, at half the bound so that a band's formulas fit in a
    body too), each with the formula cells in its rows."""
    full = {tab: [list(r) for r in rows] for tab, rows in raw}
    for tab, r, c, text in formulas:
        full.setdefault(tab, [])
        while len(full[tab]) <= r:
            full[tab].append([])
        row = full[tab][r]
        row += [None] * (c + 1 - len(row))
        row[c] = text
    out = []
    for body in grid_bands(list(full.items()), MAX_BODY // 2):
        bands = [(tab, start, [[None if isinstance(v, str) and v.startswith("=") else v
                                for v in row] for row in rows]) for tab, start, rows in body]
        cells = [(tab, start + i, c, v) for tab, start, rows in body
                 for i, row in enumerate(rows) for c, v in enumerate(row)
                 if isinstance(v, str) and v.startswith("=")]
        out.append((bands, cells))
    return out


def _records_by_part(changes, parts, table, before_table, reason: str
                     ) -> list[list[ChangeRecord]]:
    """Each change's audit record with the part that writes its row (the row it has in the
    snapshot, or where it is now for a row the restore takes away)."""
    where = {**_row_numbers(before_table), **_row_numbers(table)}
    tab = table.sheet if table else None
    out: list[list[ChangeRecord]] = [[] for _ in parts]
    for rid, col, b, a in changes:
        row = where.get(rid, 1) - 1
        n = next((n for n, (bands, _) in enumerate(parts) for t, start, rows in bands
                  if t == tab and start <= row < start + len(rows)), 0)
        out[n].append(ChangeRecord(rid, col, b, a, "restore", reason))
    return out


def _row_numbers(table) -> dict[str, int]:
    """Each row's key in sync.diff's changes (its ID as typed, else "(row N)"), and its row."""
    if table is None:
        return {}
    j = table.layout.index(table.layout.template.id.column)
    return {str(row[j]) if j is not None and row[j] not in (None, "") else f"(row {number})":
            number for number, row in zip(table.row_numbers, table.rows)}


@dataclass(frozen=True)
class _SnapshotValues:
    """The values a restore writes, as `record_and_commit` commits them. A Google Sheet has no
    digest to vouch for what was written (""): a batch left pending is settled by its cells."""
    sheet: GoogleSheet
    raw: list[tuple[str, int, list[list[Any]]]]
    formulas: list[tuple[str, int, int, str]]
    digest = ""

    def commit(self, between: Step | None = None) -> None:
        self.sheet.put_grids(self.raw, self.formulas)


def _snapshot_of_this_sheet(ref: str, data: Path, sheet: GoogleSheet) -> tuple[Snapshot, dict]:
    """The snapshot `ref` and its values, vouched for by the manifest; refused if it was taken
    of another spreadsheet (its tabs would overwrite this one's)."""
    with SnapshotStore(data, create=False) as store:
        snap = store.get(ref)
        payload = load(snap, store.verified(snap))
    if payload["spreadsheet"] != sheet.key:
        raise SheetkeeperError(_("snapshot {id} is of {workbook}, not {value}; restore it to its "
                                 "own spreadsheet",
                                 id=snap.id, workbook=snap.workbook, value=sheet_key(sheet)))
    return snap, payload


def _add_deleted_tabs(sheet: GoogleSheet, payload: dict) -> int:
    """Add back the snapshot's tabs someone has deleted since; the requests it took. The tabs
    are known from the snapshot just taken (sheet.grids): no need to ask again."""
    missing = [t["title"] for t in payload["tabs"] if t["title"] not in sheet.grids]
    if not missing:
        return 0
    sheet.add_tabs(missing)
    sheet.tabs()                      # their ids and sizes, for growing them below
    return 2


def _grids_to_write(payload: dict, current: dict
                    ) -> tuple[list[tuple[str, list[list[Any]]]], list[tuple[str, int, int, str]]]:
    """Each tab's values to write RAW from A1, and the formula cells (tab, row, column,
    "=…", 0-based) to write after them as formulas."""
    before = {t["title"]: t["values"] for t in current["tabs"]}
    raw, formulas = [], []
    for tab in payload["tabs"]:
        rows, tab_formulas = _tab_to_write(tab["values"], before.get(tab["title"], []))
        formulas += [(tab["title"], r, c, text) for r, c, text in tab_formulas]
        if rows:
            raw.append((tab["title"], rows))
    return raw, formulas


def _tab_to_write(grid: list[list[Any]], now: list[list[Any]]
                  ) -> tuple[list[list[Any]], list[tuple[int, int, str]]]:
    """One tab's grid as the snapshot held it, over the whole area the tab holds now, so a
    cell beyond what the snapshot held is cleared (""). A formula cell is left out (None: the
    RAW write would make it text) and returned as (row, column, "=…"); a cell an array
    formula's result filled is cleared, for the formula to fill again (its value written there
    would stop the formula from expanding)."""
    height = max(len(grid), len(now))
    width = max([len(r) for r in grid] + [len(r) for r in now] + [1])
    rows = [[None] * width for _ in range(height)]
    formulas = []
    spill = spilled(grid)
    for r in range(height):
        for c in range(width):
            value = grid[r][c] if r < len(grid) and c < len(grid[r]) else None
            if isinstance(value, str) and value.startswith("="):
                formulas.append((r, c, value))
            else:
                rows[r][c] = "" if value is None or (r, c) in spill else value
    return rows, formulas


def _corners(raw: list[tuple[str, list[list[Any]]]]) -> list[tuple[str, CellWrite]]:
    """Each tab's bottom-right cell about to be written: how big its grid must be."""
    return [(tab, CellWrite(len(rows), max(len(r) for r in rows) - 1, None))
            for tab, rows in raw if rows]


def load(snap: Snapshot, data: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(data)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise SnapshotError(_("snapshot {id} is not a Google Sheet snapshot; restore a "
                              "workbook's snapshot with `sheetkeeper restore` onto the workbook",
                              id=snap.id))
    return payload


def _json_values(rows: list[list[Any]]) -> list[list[Any]]:
    out = [[None if v in ("", None) else v for v in row] for row in rows]
    while out and all(v is None for v in out[-1]):
        out.pop()
    return out


def snapshot_table(key: str, payload: dict, templates: Sequence[Template] | None = None):
    """The customer table in a Google snapshot's values (None: no tab holds one)."""
    templates = templates_or_builtin(templates)
    names = {n for t in templates for n in t.sheet_names.values()}
    tabs = {t["title"]: t["values"] for t in payload["tabs"]}
    lists = tab_playing("lists", tabs, templates)
    for title in sorted(tabs, key=lambda t: t not in names):
        try:
            return table_from_values(key, title, tabs[title],
                                     tabs[lists] if lists else [], templates)
        except SheetkeeperError:
            continue
    return None


def _rows(key: str, payload: dict, templates: Sequence[Template] | None) -> int | None:
    table = snapshot_table(key, payload, templates)
    return len(table.rows) if table else None

