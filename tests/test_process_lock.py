"""The OS-level locks under the cycle lock and the service lock (sync/process_lock.py): held by
a real other process, released when that process is killed with SIGKILL, probed without
creating anything, and a waiter told the holder's pid."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from sync import process_lock

from .conftest import ROOT

HOLD = """
import sys, time
from pathlib import Path
from sync import process_lock
held = process_lock.hold(Path(sys.argv[1]), 5)
print("held", flush=True)
time.sleep(120)
"""


@pytest.fixture
def holder(tmp_path):
    lock = tmp_path / "locks" / "book.lock"
    lock.parent.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(lock)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield lock, proc
    proc.kill()
    proc.wait()
    proc.stdout.close()


def test_a_waiter_is_told_who_holds_the_lock_and_gets_it_once_the_holder_is_killed(holder):
    lock, proc = holder
    assert process_lock.is_held(lock)
    started = time.monotonic()
    with pytest.raises(process_lock.LockHeld) as refused:
        process_lock.hold(lock, 0.3)
    assert refused.value.pid == str(proc.pid) and time.monotonic() - started >= 0.3
    proc.kill()                           # SIGKILL on POSIX, TerminateProcess on Windows
    proc.wait()
    assert not process_lock.is_held(lock)   # the OS let go: no stale lock to clean up
    with process_lock.hold(lock, 5):
        assert process_lock.holder(lock) == str(os.getpid())
    assert not process_lock.is_held(lock)


def test_asking_whether_a_lock_is_held_creates_nothing(tmp_path):
    assert not process_lock.is_held(tmp_path / "service.lock")
    assert list(tmp_path.iterdir()) == []


def test_one_process_holding_a_lock_twice_waits_for_itself(tmp_path):
    """Two holds in one process are two holders (each is its own open file), as the cycle
    lock's callers expect: an apply inside a held cycle waits, it does not slip in."""
    lock = tmp_path / "book.lock"
    with process_lock.hold(lock, 1):
        with pytest.raises(process_lock.LockHeld):
            process_lock.hold(lock, 0.1)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX's")
def test_the_lock_and_its_holder_file_are_private(tmp_path):
    lock = tmp_path / "book.lock"
    with process_lock.hold(lock, 1):
        pass
    assert lock.stat().st_mode & 0o777 == 0o600
    assert lock.with_name("book.lock.holder").stat().st_mode & 0o777 == 0o600
