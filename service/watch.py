"""File events from watchdog, turned into "look at this workbook".

Spreadsheet programs save through temporary files and renames (LibreOffice writes luXXXX.tmp
and renames it over the workbook; Excel writes an extensionless temp file, deletes and renames;
sheetkeeper itself writes `.NAME.xlsx.*.sheetkeeper`). What matters is which workbook ended up
touched: the destination of a move, or the file written. A move onto a workbook is a save
that is over (the program wrote the whole file elsewhere first), so it is told as `saved`: the
workbook's cycle need not wait for more events. Lock files (`.~lock.NAME.xlsx#`,
`~$NAME.xlsx`) say a workbook was opened or closed; their going is the moment to look again.
Only the observer's thread runs here; it hands paths to the daemon through `notify`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def is_workbook_name(name: str) -> bool:
    return (name.lower().endswith(WORKBOOK_SUFFIXES) and not name.startswith(("~$", "."))
            and not name.endswith("#"))


def workbooks_in(folder: Path) -> list[Path]:
    try:
        return sorted(p.resolve() for p in folder.iterdir()
                      if p.is_file() and is_workbook_name(p.name))
    except OSError:
        return []


def locked_workbook(path: Path) -> list[Path]:
    """The workbook(s) a lock file stands for. Excel's `~$` replaces the first two characters
    of a long name, so that one may match several; looking at one too many is harmless."""
    name = path.name
    if name.startswith(".~lock.") and name.endswith("#"):
        return [path.with_name(name[len(".~lock."):-1])]
    if name.startswith("~$"):
        rest = name[2:]
        return [p for p in workbooks_in(path.parent)
                if p.name == rest or (len(p.name) > 2 and p.name[2:] == rest)]
    return []


class WorkbookEvents(FileSystemEventHandler):
    """`notify(workbook, saved)`: `saved` where the event is a finished save (a file moved
    onto the workbook), False for any other event (a write in place may go on)."""

    def __init__(self, wanted: Callable[[Path], bool], notify: Callable[[Path, bool], None]):
        self.wanted, self.notify = wanted, notify

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type in ("opened", "closed_no_write"):
            return
        moved = event.event_type == "moved"
        for raw, saved in ((event.src_path, False), (getattr(event, "dest_path", ""), moved)):
            if not raw:
                continue
            path = Path(raw if isinstance(raw, str) else raw.decode())
            named = is_workbook_name(path.name)
            for workbook in ([path] if named else locked_workbook(path)):
                workbook = workbook.parent.resolve() / workbook.name
                if self.wanted(workbook):
                    self.notify(workbook, saved and named)


def start_observer(folders: Iterable[Path], handler: WorkbookEvents, poll: float) -> BaseObserver:
    """inotify where it works; polling (every `poll` seconds) for network shares, where
    inotify misses other machines' writes."""
    observer: BaseObserver = PollingObserver(timeout=poll) if poll > 0 else Observer()
    for folder in sorted(set(folders)):
        observer.schedule(handler, str(folder), recursive=False)
    observer.daemon = True
    observer.start()
    return observer
