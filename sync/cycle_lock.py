"""One sheetkeeper at a time on a workbook.

The service's cycle, and an `apply` or `undo` typed in another terminal meanwhile, each compare
the workbook with the last state seen and record what people changed since. Two at once saw
the same edits and logged each of them twice or three times. So a cycle holds an exclusive lock
on a file in the data folder named after the workbook, and a second one waits for the first
(a cycle takes seconds). The lock is the operating system's (sync/process_lock.py): it goes with
the process that held it, however that process ends.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from i18n import _

from . import process_lock
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
        held = process_lock.hold(folder / f"{state_name(workbook)}.lock", wait)
    except process_lock.LockHeld as e:
        raise CycleBusy(f"{workbook}: another sheetkeeper (pid {e.pid}) has been working on it "
                        f"for over {wait:.0f} s; nothing was done. Run again once it is done"
                        ) from None
    except OSError as e:
        raise SheetkeeperError(_("{data}: cannot take the lock that keeps two sheetkeepers off "
                                 "one workbook ({value}); check the data folder's permissions "
                                 "and free space, then run again",
                                 data=data, value=e.strerror or e)) from None
    with held:
        yield
