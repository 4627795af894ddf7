"""Which family of operating system sheetkeeper runs on, asked in this one place.

sheetkeeper's own code never reads `os.name` or `sys.platform` itself (tests/test_windows_mode.py
holds it to that): it asks `family()` or `is_windows()`. So the Windows-mode test run
(tests/windows_mode/) can make every such question answer "windows" on Linux, where `os.name`
itself cannot be changed without breaking the standard library. It sits in the lowest layer so
every layer may ask it.
"""
from __future__ import annotations

import os
import sys

# tests/windows_mode/windows_like.py sets this to "windows" on Linux; None: ask the platform.
PRETEND: str | None = None


def family() -> str:
    """"windows", "macos", "linux", or "posix" (another Unix)."""
    if PRETEND is not None:
        return PRETEND
    if os.name == "nt":
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    return "linux" if sys.platform.startswith("linux") else "posix"


def is_windows() -> bool:
    return family() == "windows"
