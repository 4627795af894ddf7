"""A cheap sign that a workbook open in Excel changed, so that a poll reads it in full only
when it did. Open-source xlwings has no events, and Excel's object model has no change counter,
so the sign is made of what Excel can answer in a few calls, none of which carries the cells:

    saved       the book's `Saved` flag (Workbook.Saved: False from the first change after a
                save until the next save)
    sheets      how many sheets the book has (Sheets.Count)
    each sheet the last read used (the table's, Lists, Review, Merged, the ledger tabs):
      address   its used range's address (grows and shrinks with what is typed)
      probe     a checksum Excel computes over that used range in one Worksheet.Evaluate call
                (PROBE below: for each cell its length, the codes of its first and last
                characters and its number, weighted by where the cell is), so only one number
                crosses COM, not the cells

On Windows, through xlwings, that is about 3 COM calls for the book (Saved; Worksheets, Count)
and 5 a sheet (Worksheets, the item, UsedRange, Address, Evaluate), each answering with one
value, whatever the size of the list: against a read that carries every cell of every tab
across (and converts each in Python).

What it can miss (and so the full read at least every FULL_READ_EVERY polls, whatever the sign
says, and after every write of sheetkeeper's own):
- an edit that keeps a cell's length, its first and last characters and its number, while the
  book was already unsaved (Saved already False) and the used range stays: "Ann Lee" typed over
  "Ann Lxe", "Bob Stone" over "Bob stone"; a date or amount is a number, so it is seen;
- a change between an empty cell and an error (#N/A), or between two errors (both count 0);
- a sheet renamed into a tab the last read did not use (e.g. a new "Purchases"), while the
  count of sheets stays;
- two edits in one interval whose changes to the checksum cancel out exactly;
- a formatting-only change (nothing sheetkeeper reads).

Where the sign cannot be had, it is None and the poll reads in full: on macOS (the AppleScript
dictionary has `evaluate` and `saved`, but what they answer was not checked against an Excel, so
they are not used), where Evaluate answers an error (a formula over 255 characters, an Excel
without one of the functions), or where a sheet the last read used is gone.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..errors import ExcelClosed

# Excel's Evaluate takes a formula of at most 255 characters; every function here is in Excel
# since 2007. IFERROR: an empty cell (CODE("") is #VALUE!) or an error cell counts 0.
PROBE = ("SUMPRODUCT((IFERROR(LEN({r})*97+CODE({r})*7+CODE(RIGHT({r}))*3,0)"
         "+IFERROR(MOD({r}*1,65521),0))*(ROW({r})*31+COLUMN({r})))")
EVALUATE_LIMIT = 255
# Whatever the sign says, a poll reads in full at least this often (with the service's
# excel_poll of 30 seconds: every 5 minutes), so an edit the sign missed waits no longer.
FULL_READ_EVERY = 10

Signal = tuple


def probe_formula(address: str) -> str | None:
    """The checksum formula over a used range's address ("$A$1:$S$40"), or None where it would
    be longer than Evaluate takes."""
    formula = PROBE.format(r=address.replace("$", ""))
    return formula if len(formula) <= EVALUATE_LIMIT else None


def take(book: Any, sheets: Sequence[str], calls: Callable[[Callable[[], Any]], Any]
         ) -> Signal | None:
    """The sign for `sheets` of `book`, or None where it cannot be had. `calls`: the target's
    ExcelCalls (Excel busy: tried again, then WorkbookBusy, which is left to the caller)."""
    def look() -> Signal | None:
        try:
            saved = book.api.Saved
            count = len(book.sheets)
            parts = []
            for name in sheets:
                sheet = book.sheets[name]
                address = sheet.used_range.address
                formula = probe_formula(address)
                if formula is None:
                    return None
                value = sheet.api.Evaluate(formula)
                # An error comes back as a number too (an int, e.g. -2146826259 for #NAME?),
                # never as a float: a float is the checksum.
                if not isinstance(value, float):
                    return None
                parts.append((name, address, value))
        except (AttributeError, KeyError):     # macOS (no .Saved/.Evaluate); a sheet gone
            return None
        if not isinstance(saved, bool):
            return None
        return (saved, count, tuple(parts))
    try:
        return calls(look)
    except ExcelClosed:       # the book gone, a sheet gone, an answer not understood: the
        return None           # read says what is wrong


@dataclass
class Looked:
    """What the last full read of an open book saw: the sheets it used, the sign taken just
    before it (None: none could be had), the digest it gave, and the polls answered since
    from the sign alone."""

    sheets: tuple[str, ...]
    signal: Signal | None
    digest: str
    peeks: int = 0


class Memory:
    """The last read of each open book, by the target's key, for as long as this process runs
    (the service; a CLI run starts without one, and reads). Thread-safe: the service's
    workbook thread and a CLI-like call in another thread may share it."""

    def __init__(self) -> None:
        self._looked: dict[str, Looked] = {}
        self._lock = threading.Lock()

    def sheets(self, key: str) -> tuple[str, ...] | None:
        with self._lock:
            looked = self._looked.get(key)
            return looked.sheets if looked else None

    def read(self, key: str, sheets: Sequence[str], signal: Signal | None, digest: str) -> None:
        """A full read of `sheets` gave `digest`; `signal` was taken just before it, over the
        same sheets (None where not, or where the read used other sheets)."""
        with self._lock:
            self._looked[key] = Looked(tuple(sheets), signal, digest)

    def forget(self, key: str) -> None:
        """sheetkeeper writes into the book: the next poll reads it in full."""
        with self._lock:
            looked = self._looked.get(key)
            if looked is not None:
                looked.signal = None

    def unchanged(self, key: str, signal: Signal | None) -> str | None:
        """The last read's digest where `signal` is the one taken before it, and the polls
        answered from the sign alone are still fewer than FULL_READ_EVERY; else None."""
        with self._lock:
            looked = self._looked.get(key)
            if looked is None or looked.signal is None or signal != looked.signal:
                return None
            looked.peeks += 1
            if looked.peeks >= FULL_READ_EVERY:
                return None
            return looked.digest


MEMORY = Memory()
