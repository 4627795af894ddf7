"""Locks that keep two processes apart: one cycle per workbook (cycle_lock), one service per data
folder (service/status.py).

Each is the operating system's own lock on a file — flock on Linux and macOS, LockFileEx on
Windows, through filelock — so it goes with the process that held it, however that process
ends (kill -9 and a crash included): there is never a stale lock file to clean up. The lock file
itself stays in place, empty; whether it is held is asked of the OS, never read from the file.

The holder's pid is written beside it, in `NAME.holder`, so a waiter can say who holds the lock.
It cannot go in the lock file: Windows lets no other process read a locked byte. A `.holder`
left by a process that ended is harmless: it is read only while the lock is held, and the next
holder overwrites it.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import filelock

# filelock is imported where a lock is taken or probed, not with this module: every command
# imports the lock modules, and most (`--help`, `check`) never take one (27 ms of start-up).


class LockHeld(Exception):
    """Another process held the lock for longer than we waited; `pid` is who ("?" if unknown)."""

    def __init__(self, path: Path, pid: str):
        super().__init__(f"{path} is held by pid {pid}")
        self.path = path
        self.pid = pid


def _lock(path: Path) -> filelock.BaseFileLock:
    # preserve_lock_file: the file is never removed, so probing it (is_held) never races a
    # release that unlinks it (Windows does, by default). It also rules out filelock's
    # "soft" fallback: a lock file whose mere presence is the lock, left behind by kill -9.
    import filelock
    return filelock.FileLock(path, mode=0o600, thread_local=False, preserve_lock_file=True)


class HeldLock:
    """A lock this process holds, with its holder file written; `close()` releases it."""

    def __init__(self, lock: filelock.BaseFileLock):
        self._lock = lock

    def close(self) -> None:
        self._lock.release(force=True)

    def __enter__(self) -> "HeldLock":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def hold(path: Path, wait: float) -> HeldLock:
    """Take the lock at `path`, waiting up to `wait` seconds for its holder to let go. Raises
    LockHeld after that, OSError if the lock file cannot be created or opened."""
    from filelock import Timeout
    lock = _lock(path)
    try:
        lock.acquire(timeout=wait, poll_interval=0.05)
    except Timeout:
        raise LockHeld(path, holder(path)) from None
    try:
        _write_holder(path)
    except BaseException:
        lock.release(force=True)
        raise
    return HeldLock(lock)


def is_held(path: Path) -> bool:
    """Whether some process holds the lock at `path`, asked without waiting and without
    creating anything (no lock file: nobody ever held it)."""
    if not path.exists():
        return False
    from filelock import Timeout
    lock = _lock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    except OSError:
        return False      # cannot be opened by us (another user's): not ours to judge
    lock.release(force=True)
    return False


def holder(path: Path) -> str:
    """The pid the lock's last holder wrote, or "?"."""
    try:
        return _holder_file(path).read_text(encoding="ascii").strip() or "?"
    except (OSError, ValueError):
        return "?"


def _holder_file(path: Path) -> Path:
    return path.with_name(f"{path.name}.holder")


def _write_holder(path: Path) -> None:
    # Overwritten in place, not replaced by a rename: Windows refuses a rename over a file
    # another process has open, and a waiter may be reading it.
    fd = os.open(_holder_file(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", encoding="ascii") as f:
        f.write(str(os.getpid()))
