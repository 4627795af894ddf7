"""Writing a file of personal data whole or not at all: a private (0600) temporary file beside
the target, synced, then renamed over it. Readers see the old file or the new, never a part."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .os_family import is_windows


def _replace_when_let(source: str, target: Path) -> None:
    """Windows refuses to rename over a file that another process has open at that moment (a
    `sheetkeeper status` reading the status file, a virus scanner, a backup): it is open for
    milliseconds, so the rename is tried again for a moment before the error stands. (tenacity
    is imported here, on Windows only: every command imports this module.)"""
    import tenacity
    tenacity.retry(retry=tenacity.retry_if_exception_type(PermissionError),
                   stop=tenacity.stop_after_delay(2), wait=tenacity.wait_fixed(0.05),
                   reraise=True)(os.replace)(source, target)


def write_private(target: Path, data: bytes) -> None:
    """Raises OSError (nothing replaced, no temporary file left) if it cannot."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as f:   # mkstemp creates it 0600
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if is_windows():
            _replace_when_let(tmp, target)
        else:
            os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
