"""Writing a file of personal data whole or not at all: a private (0600) temporary file beside
the target, synced, then renamed over it. Readers see the old file or the new, never a part."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_private(target: Path, data: bytes) -> None:
    """Raises OSError (nothing replaced, no temporary file left) if it cannot."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as f:   # mkstemp creates it 0600
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
