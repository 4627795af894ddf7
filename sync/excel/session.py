"""Excel through xlwings: the one module that imports it, and where its errors (COM's on
Windows, AppleScript's on macOS) become sheetkeeper's own.

- `attach(path)`: the book open in a running Excel whose file is `path`, or None where there is
  none to attach to (Linux, no Excel, xlwings unable to reach it, the workbook open in another
  program such as LibreOffice): the caller then waits for the workbook to be closed, as before.
- `ExcelCalls`: every call into Excel goes through it. Excel refuses automation while a person
  is editing a cell (RPC_E_CALL_REJECTED 0x80010001, VBA_E_IGNORE 0x800AC472) or has a dialog
  up; such a call is tried again a bounded number of times (tenacity), and then the cycle is
  left for later (WorkbookBusy), never blocked. Before a write, Excel is asked whether it is
  ready (`ensure_ready`: Application.Ready, False while a cell is being edited); "not ready" is
  treated as a rejection. A book closed meanwhile, or an Excel that quit,
  is ExcelClosed; macOS's refusal of the Automation permission (-1743) is ExcelNotAllowed,
  with where to grant it.

The errors are told apart by their numbers, wherever the library put them (pywintypes.com_error's
hresult and its excepinfo's scode, appscript's error number): neither pywin32 nor appscript is
importable here, so nothing below depends on their classes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

import tenacity

from i18n import _

from ..errors import ExcelClosed, ExcelNotAllowed, WorkbookBusy

T = TypeVar("T")

# Excel is busy with a person: a cell in edit mode, a dialog, a recalculation.
REJECTED = frozenset({
    0x80010001,    # RPC_E_CALL_REJECTED: "Call was rejected by callee."
    0x8001010A,    # RPC_E_SERVERCALL_RETRYLATER: "The message filter indicated ... busy."
    0x800AC472,    # VBA_E_IGNORE: the object model is suspended (a cell being edited)
})
# The book, or Excel, is gone.
GONE = frozenset({
    0x80010108,    # RPC_E_DISCONNECTED: "The object invoked has disconnected from its clients."
    0x800706BA,    # RPC_S_SERVER_UNAVAILABLE: Excel quit
    0x800706BE,    # RPC_S_CALL_FAILED: Excel crashed during the call
    0x80010012,    # RPC_E_SERVER_DIED_DNE
})
MAC_NOT_ALLOWED = -1743     # errAEEventNotPermitted: the Automation permission not granted
MAC_GONE = frozenset({-600, -609, -1728})   # no such process, connection invalid, no such object



def automation_help(where: object) -> str:
    return _("{where}: macOS has not let sheetkeeper control Microsoft Excel: allow it in System "
             "Settings > Privacy & Security > Automation (the program that runs sheetkeeper, "
             "e.g. Terminal or python, > Microsoft Excel), then it carries on by itself; until "
             "then the workbook is waited for as for any open one", where=where)


def _numbers(exc: BaseException) -> set[int]:
    """Every error number an xlwings error carries: COM's hresult (signed 32-bit) and the
    excepinfo's scode; appscript's errornumber; or a number in the message."""
    found: set[int] = set()
    values: list[Any] = list(getattr(exc, "args", ()))
    for name in ("hresult", "errornumber", "number", "scode"):
        if hasattr(exc, name):
            values.append(getattr(exc, name))
    for v in values:
        if isinstance(v, tuple):                  # excepinfo: (wcode, source, text, help,
            values.extend(v)                      #   helpcontext, scode)
        elif isinstance(v, int) and not isinstance(v, bool):
            found.add(v & 0xFFFFFFFF if v < 0 and v < -0xFFFF else v)
        elif isinstance(v, str):
            found.update(int(m) for m in re.findall(r"-\d{3,4}\b", v))
    return found


class NotReady(Exception):
    """Excel answered, but says it is not ready (Application.Ready is False: a cell is being
    edited): treated as a rejected call, tried again, then left for later."""


def ensure_ready(app: Any) -> None:
    """Raise NotReady where Excel says it is not ready for a write. Windows: the COM
    Application's `Ready` (learn.microsoft.com/office/vba/api/excel.application.ready). macOS:
    Excel's AppleScript dictionary has no `ready` (xlwings' mac_dict.py lists none); appscript
    then raises AttributeError, and only the refusals themselves tell (errors, as for any call)."""
    try:
        ready = app.api.Ready
    except AttributeError:
        return
    if ready is False:
        raise NotReady("Application.Ready is False")


def is_rejected(exc: BaseException) -> bool:
    return isinstance(exc, NotReady) or bool(_numbers(exc) & REJECTED)


def translated(exc: BaseException, where: str) -> Exception:
    """An error of xlwings (or of COM or AppleScript beneath it) as sheetkeeper's own."""
    numbers = _numbers(exc)
    if MAC_NOT_ALLOWED in numbers:
        return ExcelNotAllowed(automation_help(where))
    if isinstance(exc, NotReady) or numbers & REJECTED:
        return WorkbookBusy(_("{where}: Excel is busy (a cell is being edited, or a dialog is "
                              "open); nothing was written, and sheetkeeper tries again later",
                              where=where))
    if numbers & GONE or numbers & MAC_GONE:
        return ExcelClosed(_("{where}: the workbook was closed in Excel, or Excel quit, while "
                             "sheetkeeper worked on it; the next cycle looks at it again",
                             where=where))
    return ExcelClosed(_("{where}: Excel did not answer as expected ({error}); the next cycle "
                         "looks at the workbook again", where=where,
                         error=f"{type(exc).__name__}: {exc}"))


@dataclass
class ExcelCalls:
    """How calls into Excel are made: each tried again while Excel rejects it (a person is
    editing a cell), within bounds; `sleep` is injectable so tests never wait."""

    where: str
    stop: Any = tenacity.stop_after_attempt(8) | tenacity.stop_after_delay(20)
    wait: Any = tenacity.wait_exponential(multiplier=0.25, max=4)
    sleep: Callable[[float], None] = tenacity.nap.sleep

    def __call__(self, call: Callable[[], T]) -> T:
        retrying = tenacity.Retrying(stop=self.stop, wait=self.wait, sleep=self.sleep,
                                     retry=tenacity.retry_if_exception(is_rejected),
                                     reraise=True)
        try:
            return retrying(call)
        except (WorkbookBusy, ExcelClosed):
            raise
        except Exception as e:      # xlwings', COM's, AppleScript's: nothing else escapes
            raise translated(e, self.where) from e


def running_apps() -> Iterable[Any]:
    """xlwings' running Excel instances; none where xlwings cannot reach Excel (Linux: its
    interactive mode needs Windows or macOS with Excel; no Excel running)."""
    try:
        import xlwings
        return list(xlwings.apps)
    except Exception as e:                    # XlwingsError on Linux, COM errors, …
        if MAC_NOT_ALLOWED in _numbers(e):
            raise ExcelNotAllowed(automation_help("Microsoft Excel")) from e
        return []


def attach(path: Path, apps: Iterable[Any] | None = None) -> Any | None:
    """The xlwings Book open in Excel whose file is `path`, or None. `apps`: the running Excel
    instances (xlwings.apps by default; a test passes its double's)."""
    wanted = _same_file_key(path)
    for app in (running_apps() if apps is None else apps):
        try:
            books = list(app.books)
        except Exception as e:
            if MAC_NOT_ALLOWED in _numbers(e):
                raise ExcelNotAllowed(automation_help(path)) from e
            continue        # an instance busy or going away: look at the others
        for book in books:
            try:
                if _same_file_key(book.fullname) == wanted:
                    return book
            except Exception:
                continue
    return None


def _same_file_key(path: Path | str) -> str:
    # A book not yet saved, or one in OneDrive, has no local path as its fullname (a name, a
    # URL): it matches no workbook file.
    try:
        return str(Path(path).resolve()).casefold()
    except (OSError, ValueError):
        return str(path)
