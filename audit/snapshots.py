"""The snapshot store: copies of workbooks on disk, and a manifest that can vouch for them.

    <data>/snapshots/<workbook>-<key>/<UTC time>.xlsx     the copy, 0600 (personal data)
    <data>/snapshots/gsheet-<key>/<UTC time>.json         a Google Sheet's values (and beside
    <data>/snapshots/gsheet-<key>/<UTC time>.xlsx         it Drive's export, which the JSON
                                                          vouches for by its checksum)
    <data>/snapshots/manifest.sqlite3                     one row per snapshot

The manifest row holds the SHA-256, size and row count of the copy, the audit batch it follows,
why it was taken (nightly, manual, catch-up, before-restore) and whether it is pinned. A copy is
written to a temporary file, synced and renamed, and only then entered in the manifest, so the
manifest never names a file that is not whole. This module stores bytes it is given; taking them
consistently from a live workbook is `sync.xlsx.backup`'s job.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping
from i18n import _

from .errors import SnapshotError
from .private_file import write_private

from .retention import Dated, Kept, Retention, prune

SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (
    id TEXT PRIMARY KEY,          -- <folder>/<UTC time>, what the CLI names
    workbook TEXT NOT NULL,       -- the workbook's resolved path, or gsheet:KEY
    file TEXT NOT NULL,           -- relative to the snapshots folder
    taken TEXT NOT NULL,          -- ISO UTC
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    rows INTEGER,                 -- NULL: the workbook could not be read as a table
    after_batch TEXT,             -- the newest audit batch written before it
    reason TEXT NOT NULL,
    pinned INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS snapshots_by_workbook ON snapshots(workbook, taken);
"""


Source = Path | str     # a workbook, or a Google Sheet as gsheet:KEY


def source_name(workbook: Source) -> str:
    """How the manifest names what a snapshot is of."""
    text = str(workbook)
    return text if text.startswith("gsheet:") else str(Path(workbook).resolve())


def _source(text: str) -> Source:
    return text if text.startswith("gsheet:") else Path(text)


@dataclass(frozen=True)
class Snapshot:
    id: str
    workbook: Source
    path: Path
    taken: dt.datetime
    sha256: str
    size: int
    rows: int | None
    after_batch: str | None
    reason: str
    pinned: bool

    def dated(self) -> Dated:
        return Dated(self.id, self.taken, self.pinned)


def folder_name(workbook: Source) -> str:
    """`customers-1a2b3c`: readable, and distinct for same-named workbooks in other folders;
    `gsheet-1AbCdEfGhIjK-4d5e6f` for a Google Sheet."""
    name = source_name(workbook)
    key = hashlib.sha256(name.encode()).hexdigest()[:6]
    stem = f"gsheet-{name[len('gsheet:'):][:12]}" if name.startswith("gsheet:") \
        else Path(name).stem
    return f"{stem}-{key}"


class SnapshotStore:
    def __init__(self, data: Path, create: bool = True):
        """`create=False` for looking only: where there is no store yet, an empty one in
        memory answers, and nothing is written (a mistyped --data leaves no folder behind)."""
        self.folder = Path(data) / "snapshots"
        manifest = self.folder / "manifest.sqlite3"
        fresh = not manifest.exists()
        if fresh and not create:
            self.db = sqlite3.connect(":memory:", isolation_level=None)
            self.db.executescript(SCHEMA)
            return
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            self.db = sqlite3.connect(manifest, timeout=10, isolation_level=None)
            if fresh:
                os.chmod(manifest, 0o600)
            self.db.executescript(SCHEMA)
        except sqlite3.Error as e:
            raise SnapshotError(_("{manifest}: the snapshot manifest cannot be used ({e}); move "
                                  "it aside and run again (the .xlsx copies stay)",
                                  manifest=manifest, e=e)) from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "SnapshotStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- adding ----------------------------------------------------------------------------

    def add(self, workbook: Source, data: bytes, rows: int | None, after_batch: str | None,
            reason: str, now: dt.datetime | None = None, suffix: str = ".xlsx",
            beside: Mapping[str, bytes] | None = None) -> Snapshot:
        """Store `data` as the snapshot (the file restore reads, checksummed in the manifest)
        and `beside` (suffix -> bytes) as files of the same name next to it."""
        workbook = _source(source_name(workbook))
        taken = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
        folder = self.folder / folder_name(workbook)
        folder.mkdir(exist_ok=True, mode=0o700)
        stamp = taken.strftime("%Y%m%dT%H%M%SZ")
        name, n = stamp, 1
        while any(folder.glob(f"{name}.*")):   # two in one second: keep both
            n += 1
            name = f"{stamp}-{n}"
        target = folder / f"{name}{suffix}"
        for extra, payload in (beside or {}).items():
            _write_private(folder / f"{name}{extra}", payload)
        _write_private(target, data)
        snap = Snapshot(f"{folder.name}/{name}", workbook, target, taken,
                        hashlib.sha256(data).hexdigest(), len(data), rows, after_batch,
                        reason, False)
        try:
            self.db.execute("INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (snap.id, str(workbook), str(target.relative_to(self.folder)),
                             taken.isoformat(timespec="microseconds"), snap.sha256, snap.size, rows,
                             after_batch, reason, 0))
        except sqlite3.Error as e:
            for f in folder.glob(f"{name}.*"):
                f.unlink(missing_ok=True)
            raise SnapshotError(_("could not record the snapshot in the manifest ({e}); nothing "
                                  "was kept", e=e)) from None
        return snap

    # -- finding ---------------------------------------------------------------------------

    def list(self, workbook: Source | None = None) -> list[Snapshot]:
        """Oldest first."""
        if workbook is None:
            rows = self.db.execute("SELECT * FROM snapshots ORDER BY taken, rowid")
        else:
            rows = self.db.execute("SELECT * FROM snapshots WHERE workbook = ? "
                                   "ORDER BY taken, rowid", (source_name(workbook),))
        return [self._snapshot(r) for r in rows.fetchall()]

    def last(self, workbook: Source) -> Snapshot | None:
        found = self.list(workbook)
        return found[-1] if found else None

    def get(self, ref: str) -> Snapshot:
        """By id (`customers-1a2b3c/20261123T020000Z`), by the file's path, or by the time part
        alone when only one workbook has a snapshot then."""
        ref = ref.strip()
        as_path = Path(ref)
        if as_path.suffix in (".xlsx", ".json") and as_path.exists():
            try:
                ref = str(as_path.resolve().relative_to(self.folder.resolve()).with_suffix(""))
            except ValueError:
                raise SnapshotError(_("{as_path} is not in the snapshot store {folder}; "
                                      "`sheetkeeper snapshots` lists what is",
                                      as_path=as_path, folder=self.folder)) from None
        rows = self.db.execute("SELECT * FROM snapshots WHERE id = ? OR id LIKE ?",
                               (ref, f"%/{ref}")).fetchall()
        if len(rows) == 1:
            return self._snapshot(rows[0])
        if not rows:
            raise SnapshotError(_("there is no snapshot {ref} in {folder}; `sheetkeeper "
                                  "snapshots` lists them", ref=repr(ref), folder=self.folder))
        raise SnapshotError(f"{ref!r} names {len(rows)} snapshots ("
                            + ", ".join(r[0] for r in rows) + "); give the whole id")

    def verified(self, snap: Snapshot) -> bytes:
        """The snapshot's bytes, after checking them against the manifest."""
        try:
            data = snap.path.read_bytes()
        except OSError as e:
            raise SnapshotError(_("snapshot {id}: its file {path} cannot be read ({strerror}); "
                                  "pick another with `sheetkeeper snapshots`",
                                  id=snap.id, path=snap.path, strerror=e.strerror)
                                ) from None
        if hashlib.sha256(data).hexdigest() != snap.sha256 or len(data) != snap.size:
            raise SnapshotError(_("snapshot {id}: its file {path} does not match the checksum "
                                  "recorded when it was taken (damaged or altered); it was not "
                                  "used. Pick another with `sheetkeeper snapshots`",
                                  id=snap.id, path=snap.path))
        return data

    # -- pinning and pruning ---------------------------------------------------------------

    def pin(self, snap: Snapshot, pinned: bool = True) -> None:
        self.db.execute("UPDATE snapshots SET pinned = ? WHERE id = ?", (int(pinned), snap.id))

    def retention(self, workbook: Source, policy: Retention,
                  tz: dt.tzinfo | None = None) -> list[tuple[Snapshot, Kept | None]]:
        """Each snapshot of `workbook`, newest first, with why it is kept (None: would go)."""
        snaps = self.list(workbook)
        decided = prune((s.dated() for s in snaps), policy, tz)
        return [(s, decided[s.id]) for s in reversed(snaps)]

    def prune(self, workbook: Source, policy: Retention, dry_run: bool = False,
              tz: dt.tzinfo | None = None) -> list[tuple[Snapshot, Kept | None]]:
        """Apply the retention rules: remove (unless `dry_run`) the snapshots no rule keeps.
        Returns each, newest first, with why it is kept (None: it went, or would)."""
        decided = self.retention(workbook, policy, tz)
        if not dry_run:
            for snap, kept in decided:
                if kept is None:
                    self.remove(snap)
        return decided

    def remove(self, snap: Snapshot) -> None:
        """The manifest row first: a crash between the two leaves a stray file, never a
        manifest entry without its file."""
        if snap.pinned:
            raise SnapshotError(_("snapshot {id} is pinned; unpin it first", id=snap.id))
        self.db.execute("DELETE FROM snapshots WHERE id = ?", (snap.id,))
        for f in snap.path.parent.glob(f"{snap.path.stem}.*"):   # with the files beside it
            f.unlink(missing_ok=True)

    def workbooks(self) -> list[Source]:
        return [_source(w) for (w,) in
                self.db.execute("SELECT DISTINCT workbook FROM snapshots ORDER BY workbook")]

    def _snapshot(self, row: tuple) -> Snapshot:
        sid, workbook, file, taken, sha, size, rows, after, reason, pinned = row
        return Snapshot(sid, _source(workbook), self.folder / file,
                        dt.datetime.fromisoformat(taken), sha, size, rows, after, reason,
                        bool(pinned))

    def __iter__(self) -> Iterator[Snapshot]:
        return iter(self.list())


def _write_private(target: Path, data: bytes) -> None:
    try:
        write_private(target, data)
    except OSError as e:
        raise SnapshotError(_("could not write the snapshot {target} ({strerror}); nothing was "
                              "kept", target=target, strerror=e.strerror)) from None
