"""Shared fixtures: real .xlsx files written with openpyxl, and the real CLI in-process or as a
subprocess."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

import openpyxl
import pytest
from hypothesis import settings as hypothesis_settings

# CI replays the same examples every run (a red build must mean a change broke something);
# a developer's runs keep exploring new ones.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "default")

# Windows mode (tests/windows_mode/windows_like.py): with SHEETKEEPER_AS_WINDOWS=1 this process,
# and every Python process a test starts (the CLI, the daemon), looks like Windows to
# sheetkeeper's code. Before sheetkeeper is first imported, so it imports into that mode.
if os.environ.get("SHEETKEEPER_AS_WINDOWS"):
    _WINDOWS_MODE = str(Path(__file__).resolve().parent / "windows_mode")
    sys.path.insert(0, _WINDOWS_MODE)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (_WINDOWS_MODE, os.environ.get("PYTHONPATH")) if p)
    import windows_like
    windows_like.install()

# The command line speaks the locale's language (i18n.cli_language): the tests read English,
# whatever the developer's LANG; a test that wants Chinese says so (LANG=zh_CN.UTF-8, --lang).
os.environ["LANGUAGE"] = "en"

from sync.plan import RuleSettings

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 23)
CRM_EN = ["Customer ID", "Name", "Company", "Title", "Phone", "Email", "Address",
          "Customer type", "Tier", "Source", "Status", "Member since", "Last contact",
          "Next follow-up", "Birthday", "Total spend", "Tags", "Notes", "Findings"]


def write_table(path: Path, headers: Sequence[Any], rows: Iterable[Sequence[Any]] = (),
                sheet: str = "Customers", before: Sequence[Sequence[Any]] = ()) -> Path:
    """A workbook with one table: optional rows `before` the header, then header and rows."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in before:
        ws.append(list(row))
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    book.save(path)
    return path


def crm_row(**values: Any) -> list[Any]:
    """A row for the English crm header, by snake_case column name."""
    keys = [h.lower().replace(" ", "_").replace("-", "_") for h in CRM_EN]
    unknown = set(values) - set(keys)
    assert not unknown, unknown
    return [values.get(k) for k in keys]


def fingerprint(path: Path) -> tuple[str, int]:
    """Content hash and modification time: what 'the file was not touched' means."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "service", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=timeout)


@pytest.fixture
def settings() -> RuleSettings:
    return RuleSettings(today=TODAY)


@pytest.fixture
def server():
    """A fresh Google Sheets emulator on 127.0.0.1 (tests/fakesheets)."""
    from .fakesheets import FakeSheetsServer
    s = FakeSheetsServer().start()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def no_thread_left_behind():
    """Every thread a test starts (the service's watchers, a server, a pool) is gone when it
    ends: a leaked thread would run on into the next test, and in the service it is a leak.
    Waited for by joining, not by sleeping: a thread still winding down gets a moment."""
    import threading
    before = set(threading.enumerate())
    yield
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout=5)
    left = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
    assert not left, f"threads left running after the test: {left}"
