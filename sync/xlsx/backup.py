"""Snapshots of live workbooks, restoring them, and what changed between two of them.

A snapshot is taken from bytes read consistently: the file's identity (inode, size, mtime) is the
same before and after the read, and the bytes read as a table. A save in progress (an in-place
writer half-way through, or a rename landing mid-read) fails one of those, and the read is tried
again a few times (tenacity); a workbook that stays unreadable is not snapshotted, because
retention would then let a broken copy push good ones out.

Restoring over the live workbook first snapshots what is there (even if it is unreadable: that
may be why someone is restoring), so a restore can itself be undone by restoring that snapshot.
The cells the restore changes go to the audit log as one batch, like any other write.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import tenacity

from audit.log import AuditLog, ChangeRecord
from audit.snapshots import Snapshot, SnapshotError, SnapshotStore
from sheet_templates import Template
from i18n import _

from .target import workbook_key
from ..errors import WorkbookDamaged, WorkbookError
from ..cycle_lock import one_at_a_time
from ..seen import SeenStore
from ..diff import table_changes
from ..table import SheetTable
from .package import read_bytes
from .read import read_table
from ..errors import WorkbookBusy
from ..writing import record_and_commit
from .replace import StagedFile, lock_files

AUDIT = "audit.sqlite3"


class _Moving(Exception):
    """The file changed while it was read: a save in progress."""


def read_consistently(path: Path, templates: Sequence[Template] | None = None,
                      sleep: Callable[[float], None] = tenacity.nap.sleep
                      ) -> tuple[bytes, SheetTable]:
    """The workbook's bytes and table, from one read that no save overlapped."""
    def once() -> tuple[bytes, SheetTable]:
        before = file_identity(path)
        data = read_bytes(path)
        if file_identity(path) != before:
            raise _Moving()
        return data, read_table(path, templates, data=data)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(6) | tenacity.stop_after_delay(15),
        wait=tenacity.wait_exponential(multiplier=0.1, max=2),
        retry=tenacity.retry_if_exception_type((_Moving, WorkbookDamaged)),
        sleep=sleep, reraise=True)
    try:
        return retrying(once)
    except _Moving:
        raise WorkbookError(_("{path}: kept changing while it was read; no snapshot taken. It "
                              "will be tried again", path=path)) from None


def file_identity(path: Path) -> tuple[int, int, int]:
    """(inode, size, mtime): changes with every save, in place or by rename."""
    info = os.stat(path)
    return info.st_ino, info.st_size, info.st_mtime_ns


def take_snapshot(path: Path, data_folder: Path, reason: str = "manual",
                  templates: Sequence[Template] | None = None,
                  now: dt.datetime | None = None) -> Snapshot:
    path = Path(path)
    payload, table = read_consistently(path, templates)
    with AuditLog(data_folder / AUDIT) as audit, SnapshotStore(data_folder) as store:
        return store.add(path, payload, len(table.rows), audit.last_batch(workbook_key(path)),
                         reason, now)


# -- restore -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RestoreResult:
    snapshot: Snapshot
    target: Path
    saved_first: Snapshot | None    # the live workbook as it was, when restored over it
    batch: str | None               # the audit batch of the cells the restore changed
    changed: int


def restore(ref: str, data_folder: Path, to: Path | None = None,
            templates: Sequence[Template] | None = None) -> RestoreResult:
    with contextlib.ExitStack() as turn:
        with SnapshotStore(data_folder, create=False) as store:
            snap = store.get(ref)
            payload = store.verified(snap)
            target = Path(to) if to is not None else snap.workbook
            if to is not None or not target.exists():
                if to is not None and target.exists():
                    raise SnapshotError(_("{target} already exists; name a new file with --to, "
                                          "or leave --to out to restore over the workbook itself",
                                          target=target))
                _write_new(target, payload)
                return RestoreResult(snap, target, None, None, 0)
            # One at a time with the service's cycles on it: a cycle in flight would take the
            # restored cells for a person's edits.
            turn.enter_context(one_at_a_time(data_folder, workbook_key(target)))
            if lock_files(target):
                raise WorkbookBusy(_("{target} is open in a spreadsheet program; close it there, "
                                     "then restore again (nothing was changed)", target=target))
            current = read_bytes(target)
            try:
                before_table = read_table(target, templates, data=current)
            except WorkbookError:
                before_table = None   # damaged: kept whole in the snapshot below, not diffed
            saved = store.add(target, current,
                              len(before_table.rows) if before_table else None,
                              None, "before-restore")
        restored_table = read_table(target, templates, data=payload)
        changes = table_changes(before_table, restored_table) if before_table else []
        reason = f"restored from snapshot {snap.id}"
        with AuditLog(data_folder / AUDIT) as audit, \
                StagedFile(target, payload, hashlib.sha256(current).hexdigest()) as staged:
            # As every write: recorded pending, committed only over the bytes read, then
            # settled (sync.writing); a crash in between is settled by the next cycle's read.
            batch = record_and_commit(
                audit, workbook_key(target), restored_table.sheet,
                [ChangeRecord(rid, col, b, a, "restore", reason) for rid, col, b, a in changes],
                staged, "restore",
                note=f"{reason}; the workbook as it was is snapshot {saved.id}")
        SeenStore(data_folder).forget(target)
        return RestoreResult(snap, target, saved, batch, len(changes))


def _write_new(target: Path, payload: bytes) -> None:
    """A new file, never over an existing one (link fails if a file appeared meanwhile)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            umask = os.umask(0)
            os.umask(umask)
            # os.chmod, not fchmod: Windows has no fchmod (before Python 3.13); there it only
            # clears the read-only flag, and the folder's ACL decides who reads the file.
            os.chmod(tmp, 0o666 & ~umask)
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, target)
    except FileExistsError:
        raise SnapshotError(_("{target} appeared meanwhile; nothing was written",
                              target=target)) from None
    except OSError as e:
        raise SnapshotError(_("could not write {target} ({strerror}); nothing was written",
                              target=target, strerror=e.strerror)
                            ) from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def describe(snap: Snapshot) -> dict[str, Any]:
    """A snapshot as one JSON-friendly record (for `snapshots --format json` and status)."""
    return {"id": snap.id, "workbook": str(snap.workbook), "file": str(snap.path),
            "taken": snap.taken.isoformat(), "sha256": snap.sha256, "size": snap.size,
            "rows": snap.rows, "after_batch": snap.after_batch, "reason": snap.reason,
            "pinned": snap.pinned}

