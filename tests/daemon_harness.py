"""The real `sheetkeeper run` in a subprocess, and ways to wait on what it logs."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from .conftest import ROOT

# Windows delivers no SIGTERM from another process (os.kill terminates at once): there a gentle
# stop is Ctrl-Break, sent to the service's own process group. Not run here (no Windows).
REAL_WINDOWS = sys.platform == "win32"


class Daemon:
    def __init__(self, folder: Path, config: str):
        self.folder = folder
        self.config = folder / "sheetkeeper.toml"
        self.config.write_text(config, encoding="utf-8")
        self.log = folder / "run.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Daemon":
        self.log_handle = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service", "run", "--config", str(self.config),
             "--log-format", "json"],
            cwd=ROOT, stdout=self.log_handle, stderr=self.log_handle,
            creationflags=subprocess.CREATE_NEW_PROCESS_GROUP if REAL_WINDOWS else 0)
        self.wait_for(lambda: self.events("start"), what="the service to start")
        return self

    def events(self, kind: str | None = None, **match: object) -> list[dict]:
        out = []
        for line in self.log.read_text(encoding="utf-8").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue     # a traceback line
            if (kind is None or event["event"] == kind) and all(
                    str(event.get(k)) == str(v) for k, v in match.items()):
                out.append(event)
        return out

    def wait_for(self, check: Callable[[], object], timeout: float = 30, what: str = "",
                 poll: float = 0.05):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            if self.proc and self.proc.poll() is not None:
                raise AssertionError(f"the service exited ({self.proc.returncode}) waiting for "
                                     f"{what}:\n{self.log.read_text()}")
            time.sleep(poll)
        raise AssertionError(f"timed out waiting for {what}:\n{self.log.read_text()}")

    def signal(self, number: int = signal.SIGTERM) -> None:
        if REAL_WINDOWS and number in (signal.SIGTERM, signal.SIGINT):
            number = signal.CTRL_BREAK_EVENT
        self.proc.send_signal(number)

    def stop(self, timeout: float = 60) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.log_handle.close()

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def save_like_libreoffice(path: Path, edit: Callable) -> None:
    """Write the new workbook to luXXXX.tmp beside it and rename it over (a new inode)."""
    import openpyxl
    book = openpyxl.load_workbook(path)
    edit(book)
    tmp = path.with_name(f"lu{os.getpid()}.tmp")
    book.save(tmp)
    os.chmod(tmp, os.stat(path).st_mode & 0o7777)
    os.replace(tmp, path)


def save_in_place(path: Path, edit: Callable) -> None:
    import openpyxl
    book = openpyxl.load_workbook(path)
    edit(book)
    book.save(path)


def cell(path: Path, ref: str, sheet: str = "Customers"):
    """A cell as the workbook on disk holds it now. Where there is no atomic exchange (Windows,
    and the Windows mode of the tests) a write by the service sets the workbook aside for a
    moment before the new one takes its name: a look in that moment finds no file, and says
    None ("not there yet"), as a person's program would try again."""
    import openpyxl
    try:
        return openpyxl.load_workbook(path)[sheet][ref].value
    except FileNotFoundError:
        return None
