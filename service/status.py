"""The service's status file, and `sheetkeeper status`, which reads it from another terminal.

`run` rewrites `<data>/service-status.json` (atomically, 0600) after every cycle: its pid, when it
started, and per workbook the last cycle, its outcome, pending review pairs, open findings and
the last snapshot. `run` also holds the operating system's lock on `<data>/service.lock` (sync/process_lock.py) for
as long as it runs, which is how `status` tells a running service from one that stopped (or was
killed) and how a second `run` on the same data folder is refused.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from audit.snapshots import SnapshotStore
from sync import process_lock
from sync.errors import SheetkeeperError
from audit.private_file import write_private
from i18n import _, say

STATUS = "service-status.json"
LOCK = "service.lock"


class AlreadyRunning(SheetkeeperError):
    pass


# A `status` probing the lock holds it for an instant; a service starting at that instant waits
# this long rather than take the probe for another service.
PROBE_GRACE = 2.0


def hold_lock(data: Path) -> process_lock.HeldLock:
    """Take the service lock on `data`; `close()` the returned lock when the service ends."""
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        return process_lock.hold(data / LOCK, PROBE_GRACE)
    except process_lock.LockHeld as e:
        raise AlreadyRunning(f"another `sheetkeeper run` (pid {e.pid}) is already looking after "
                             f"{data}; stop it first, or give this one another data folder"
                             ) from None


def is_running(data: Path) -> bool:
    """Asking must not create anything: no lock file, no service ever ran here."""
    return process_lock.is_held(data / LOCK)


def write_status(data: Path, status: dict[str, Any]) -> None:
    write_private(data / STATUS, json.dumps(status, ensure_ascii=False, indent=1,
                                            default=str).encode())


def read_status(data: Path) -> dict[str, Any]:
    """What the service last wrote, with `running` and each workbook's last snapshot from the
    manifest (which `snapshot` from the CLI may have added since)."""
    try:
        status = json.loads((data / STATUS).read_text(encoding="utf-8"))
    except FileNotFoundError:
        status = {"workbooks": {}}
    except (OSError, ValueError) as e:
        raise SheetkeeperError(_("{value} cannot be read ({e}); it is rewritten on the service's "
                                 "next cycle", value=data / STATUS, e=e)) from None
    status["running"] = is_running(data)
    with SnapshotStore(data, create=False) as store:
        for workbook in store.workbooks():
            last = store.last(workbook)
            entry = status["workbooks"].setdefault(str(workbook), {})
            entry["last_snapshot"] = {"id": last.id, "taken": last.taken.isoformat(),
                                      "reason": last.reason}
    return status


def render(status: dict[str, Any], data: Path) -> str:
    lines = []
    if status["running"]:
        lines.append(say(_("sheetkeeper is running (pid {value}, since {value2}), data in {data}",
                           value=status.get('pid'), value2=status.get('started'), data=data)))
    elif status.get("pid"):
        lines.append(say(_("sheetkeeper is NOT running (it last wrote its status at {value}); "
                           "start it with `sheetkeeper run`", value=status.get('updated'))))
    else:
        lines.append(say(_("no sheetkeeper service has run with the data folder {data}; start "
                           "one with `sheetkeeper run`", data=data)))
    if status.get("next_nightly"):
        lines.append(say(_("next nightly run: {value}", value=status['next_nightly'])))
    for path, w in sorted(status["workbooks"].items()):
        lines.append("")
        lines.append(path)
        if "last_cycle" in w:
            outcome = w.get("outcome", "?")
            lines.append(say(_("  last cycle     {at}  {outcome}", at=w["last_cycle"],
                               outcome=outcome))
                         + (f" ({w['error']})" if w.get("error") else ""))
            if "findings" in w:
                lines.append(say(_("  open findings  {value}", value=w['findings'])))
                lines.append(say(_("  review pairs   {value} pending",
                                   value=w.get('review_pairs', 0))))
        snap = w.get("last_snapshot")
        lines.append(say(_("  last snapshot  {taken} ({reason}, {id})", taken=snap["taken"],
                           reason=snap["reason"], id=snap["id"])
                         if snap else _("  last snapshot  none yet")))
    return "\n".join(lines) + "\n"


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
