"""`sheetkeeper run` (the service in the foreground) and `sheetkeeper status` (from anywhere)."""
from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Callable

from audit.os_family import is_windows
from i18n import _, say

from .options import DATA_HELP, config_of, config_option, data_folder
from .status import read_status, render


class _Abandon(BaseException):
    """A second signal: leave the cycle in flight (the atomic writer leaves nothing half-done)."""


def add_commands(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run", help=say(_("the service: watch workbooks, keep them clean, take nightly snapshots")),
        description=say(_("Watch the workbooks the config names (default: ./workbooks), run a "
                          "sync cycle on each when it is saved, and every night recompute "
                          "statuses and take snapshots. Ctrl-C, SIGTERM or (Windows) Ctrl-Break "
                          "stops it after the cycle in flight; a second signal abandons that "
                          "cycle without a partial write.")))
    config_option(run)
    run.add_argument("--log-format", choices=("text", "json"), default="text",
                     help=say(_("one line per event: `TIME EVENT key=value …` (default) or "
                                "JSON")))
    run.set_defaults(run=_run)

    status = commands.add_parser(
        "status",
        help=say(_("what the service is doing: per workbook its last cycle and snapshot")),
        description=say(_("Reads the running (or last) service's status: whether it runs, and "
                          "per workbook the last cycle and its outcome, open findings, pending "
                          "review pairs and the last snapshot. Works from another terminal while "
                          "`run` runs.")))
    config_option(status)
    status.add_argument("--data", type=Path, help=DATA_HELP)
    status.add_argument("--format", choices=("text", "json"), default="text")
    status.set_defaults(run=_status)


def _run(args: argparse.Namespace) -> int:
    from .daemon import EventLog, Service   # watchdog and the scheduler: `run` alone needs them
    service = Service(config_of(args), EventLog(sys.stderr, args.log_format))
    signals = 0

    def on_signal(number: int, _frame: object) -> None:
        nonlocal signals
        signals += 1
        if signals > 1:
            raise _Abandon()
        service.stop()

    for number in stop_signals():
        signal.signal(number, on_signal)
    stop_waking = wake_on_signal(service.wake) if is_windows() else None
    try:
        service.run()
    except _Abandon:
        service.log("stop", reason="second signal: the cycle in flight was abandoned; "
                                   "nothing was half-written")
    finally:
        if stop_waking:
            stop_waking()
    return 0


def stop_signals() -> list[int]:
    """The signals that stop the service gently: SIGINT (Ctrl-C) and SIGTERM (systemd, launchd,
    kill) everywhere, and on Windows Ctrl-Break (SIGBREAK), which a console can send where
    SIGTERM cannot be: Windows delivers no SIGTERM from another process (os.kill and Task
    Scheduler's End terminate at once; that is a kill -9, which leaves nothing half-written)."""
    names = ("SIGINT", "SIGTERM", "SIGBREAK")
    return [getattr(signal, name) for name in names if hasattr(signal, name)]


def wake_on_signal(wake: threading.Event) -> Callable[[], None]:
    """Set `wake` as soon as a signal arrives; returns what undoes this.

    For Windows. The service waits for its next job on a threading.Event, and CPython interrupts
    a wait on a lock for a signal on POSIX only: on Windows the Ctrl-C or Ctrl-Break handler
    would run when the wait ends, up to an hour later. A signal also writes a byte to a socket
    at once, from the C-level handler (signal.set_wakeup_fd); a thread waiting on that socket
    sets `wake`, the wait ends, and the handler runs."""
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    before = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)

    def watch() -> None:
        while True:
            try:
                if not reader.recv(64):
                    return            # the writer was closed: stop_waking
            except OSError:
                return
            wake.set()

    watcher = threading.Thread(target=watch, name="signal-wakeup", daemon=True)
    watcher.start()

    def stop_waking() -> None:
        signal.set_wakeup_fd(before)
        writer.close()
        watcher.join(timeout=5)
        reader.close()
    return stop_waking


def _status(args: argparse.Namespace) -> int:
    data = data_folder(args, None)
    status = read_status(data)
    if args.format == "json":
        json.dump(status, sys.stdout, ensure_ascii=False, indent=1, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render(status, data))
    return 0
