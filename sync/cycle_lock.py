"""One sheetkeeper at a time on a workbook.

The service's cycle, and an `apply` or `undo` typed in another terminal meanwhile, each compare
the workbook with the last state seen and record what people changed since. Two at once saw
the same edits and logged each of them twice or three times. So a cycle holds an exclusive lock
on a file in the data folder named after the workbook, and a second one waits for the first
(a cycle takes seconds). The lock is the kernel's (flock): it goes with the process that held
it, however that process ends.
"""
from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import SheetkeeperError
from .seen import state_name
from .errors import WorkbookBusy

WAIT = 300.0          # seconds to wait for another sheetkeeper to finish with the workbook


class CycleBusy(WorkbookBusy):
    """Another sheetkeeper kept working on the workbook for longer than we waited."""


@contextmanager
def one_at_a_time(data: Path, workbook: str, wait: float | None = None) -> Iterator[None]:
    wait = WAIT if wait is None else wait
    try:
        folder = data / "locks"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = open(os.open(folder / f"{state_name(workbook)}.lock",
                              os.O_RDWR | os.O_CREAT, 0o600), "r+")
    except OSError as e:
        raise SheetkeeperError(f"{data}: cannot take the lock that keeps two sheetkeepers off "
                               f"one workbook ({e.strerror or e}); check the data folder's "
                               "permissions and free space, then run again") from None
    with handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    pid = handle.read().strip() or "?"
                    raise CycleBusy(
                        f"{workbook}: another sheetkeeper (pid {pid}) has been working on it "
                        f"for over {wait:.0f} s; nothing was done. Run again once it is done"
                        ) from None
                time.sleep(0.05)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
