"""A test double of the slice of xlwings that sync/excel/ uses: Apps, App, Books, Book, Sheets,
Sheet and Range, behaving like Excel on Windows for what sheetkeeper relies on. A double, because
nothing real can run here: xlwings imports on Linux but cannot reach an Excel (DESIGN.md). Every
public member these classes offer exists in the installed xlwings with a compatible signature
(tests/test_excel_double.py checks it with inspect), so the double cannot drift from the library.

What it models, as Excel does it (Microsoft's documentation, not checked against Excel here):
- values read as xlwings gives them: every number a float, a date cell a datetime, an empty cell
  None, text as typed; `options(ndim=2)` always a list of rows; `err_to_str` an error as "#N/A";
  `formula` a cell's formula, or its value as text;
- values written as if typed: "+86…" or "0012" become numbers, "=…" a formula, TRUE a bool,
  unless the text starts with an apostrophe (then it is text, the apostrophe not in the value);
  a value written leaves the cell's format as it was (formats are not modelled: nothing here can
  change one);
- a person at the keyboard (`Desk`): typing a value, editing a cell (Excel then rejects every
  automation call with RPC_E_CALL_REJECTED, as pywintypes.com_error), saving, closing without
  saving (the book's objects then raise RPC_E_DISCONNECTED), Excel quitting
  (RPC_S_SERVER_UNAVAILABLE); Excel answering but not ready (Application.Ready False); the lock
  file `~$NAME.xlsx` beside the workbook while it is open;
- the few COM members sync/excel/ reaches through `.api` (Windows): Application.Ready,
  Workbook.Saved (False from any change until a save), Worksheet.Evaluate (for the change
  sign's checksum formula only, computed as Excel computes it).
The book is loaded from and saved to a real .xlsx file with openpyxl.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import openpyxl
from openpyxl.utils import column_index_from_string, get_column_letter

RPC_E_CALL_REJECTED = -2147418111        # 0x80010001
VBA_E_IGNORE = -2146777998               # 0x800AC472
RPC_E_DISCONNECTED = -2147417848         # 0x80010108
RPC_S_SERVER_UNAVAILABLE = -2147023174   # 0x800706BA
NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")
XL_ERR_NAME = -2146826259                # #NAME?, as COM returns an error value
_R = r"(?P<first>[A-Z]{1,3}\d+)(?::(?P<last>[A-Z]{1,3}\d+))?"
# The change sign's checksum (sync/excel/signal.py PROBE), the one formula Evaluate knows here.
PROBE = re.compile(
    r"SUMPRODUCT\(\(IFERROR\(LEN\(" + _R + r"\)\*97\+CODE\((?P=first)(?::(?P=last))?\)\*7"
    r"\+CODE\(RIGHT\((?P=first)(?::(?P=last))?\)\)\*3,0\)\+IFERROR\(MOD\((?P=first)"
    r"(?::(?P=last))?\*1,65521\),0\)\)\*\(ROW\((?P=first)(?::(?P=last))?\)\*31"
    r"\+COLUMN\((?P=first)(?::(?P=last))?\)\)\)")


class com_error(Exception):   # noqa: N801 - pywintypes.com_error's name and shape
    """(hresult, text, excepinfo, argerror), as pywin32 raises it."""


@dataclass(frozen=True)
class ExcelError:
    text: str          # "#N/A": a cell showing an error


@dataclass
class _Model:
    """Excel's state: what the double's objects are views of. Not part of xlwings."""

    path: Path
    cells: dict[str, dict[tuple[int, int], Any]]           # sheet -> (row, col) 1-based -> value
    formulas: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)
    screen_updating: bool = True
    reject: int = 0                   # automation calls Excel rejects from now (edit mode)
    closed: bool = False
    quit: bool = False
    calls: int = 0
    rejected: int = 0
    saved: bool = True                # Workbook.Saved: no change since the last save
    not_ready: int = 0                # Application.Ready reads False this many more times
    evaluated: int = 0                # Worksheet.Evaluate calls answered
    reads: list[str] = field(default_factory=list)        # addresses whose values were read
    writes: list[tuple[str, str, bool]] = field(default_factory=list)  # sheet, address, updating
    on_call: Callable[[], None] | None = None

    def call(self) -> None:
        """Every automation call comes through here, as through COM."""
        self.calls += 1
        if self.on_call is not None:
            hook, self.on_call = self.on_call, None
            hook()
        if self.quit:
            raise com_error(RPC_S_SERVER_UNAVAILABLE, "The RPC server is unavailable.", None, None)
        if self.closed:
            raise com_error(RPC_E_DISCONNECTED, "The object invoked has disconnected from its "
                                                "clients.", None, None)
        if self.reject:
            self.reject -= 1
            self.rejected += 1
            raise com_error(RPC_E_CALL_REJECTED, "Call was rejected by callee.", None, None)


# -- the xlwings classes ------------------------------------------------------------------------

class Apps:
    def __init__(self, apps: list["App"]):
        self._apps = apps

    def __iter__(self) -> Iterator["App"]:
        return iter(self._apps)

    def __len__(self) -> int:
        return len(self._apps)


# -- what `.api` gives on Windows: Excel's COM objects, the members sync/excel/ uses only ------
# (not xlwings' classes: their names and shapes are Excel's object model, held to the table
# EXCEL_OBJECT_MODEL in tests/test_excel_double.py, from learn.microsoft.com/office/vba/api)

class _AppApi:
    """Excel.Application."""

    def __init__(self, model: _Model):
        self._model = model

    @property
    def Ready(self) -> bool:   # noqa: N802 - COM's name
        """False while a person edits a cell (Excel answers, but is not ready)."""
        self._model.call()
        if self._model.not_ready:
            self._model.not_ready -= 1
            return False
        return True


class _BookApi:
    """Excel.Workbook."""

    def __init__(self, model: _Model):
        self._model = model

    @property
    def Saved(self) -> bool:   # noqa: N802 - COM's name
        self._model.call()
        return self._model.saved


class _SheetApi:
    """Excel.Worksheet: Evaluate, for the one formula sheetkeeper evaluates (its change
    sign's checksum, sync/excel/signal.py), computed here as Excel computes it; any other
    formula answers #NAME? (as an int, as COM gives an error value)."""

    def __init__(self, model: _Model, name: str):
        self._model, self._name = model, name

    def Evaluate(self, Name: str) -> Any:   # noqa: N802,N803 - COM's names
        self._model.call()
        self._model.evaluated += 1
        m = PROBE.fullmatch(Name)
        if m is None:
            return XL_ERR_NAME
        (r1, c1), (r2, c2) = _corner(m["first"]), _corner(m["last"] or m["first"])
        cells = self._model.cells[self._name]
        total = 0.0
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                total += _checksum(cells.get((r, c))) * (r * 31 + c)
        return total


class App:
    def __init__(self, model: _Model):
        self._model = model
        self._books = Books([Book(model, self)])

    @property
    def books(self) -> "Books":
        self._model.call()
        return self._books

    @property
    def screen_updating(self) -> bool:
        self._model.call()
        return self._model.screen_updating

    @screen_updating.setter
    def screen_updating(self, value: bool) -> None:
        self._model.call()
        self._model.screen_updating = value

    @property
    def api(self) -> _AppApi:
        return _AppApi(self._model)


class Books:
    def __init__(self, books: list["Book"]):
        self._books = books

    def __getitem__(self, key: int | str) -> "Book":
        if isinstance(key, int):
            return self._books[key]
        return next(b for b in self._books if b.name == key)

    def __iter__(self) -> Iterator["Book"]:
        return iter(self._books)

    def __len__(self) -> int:
        return len(self._books)


class Book:
    def __init__(self, model: _Model, app: App):
        self._model, self._app = model, app

    @property
    def app(self) -> App:
        return self._app

    @property
    def name(self) -> str:
        self._model.call()
        return self._model.path.name

    @property
    def fullname(self) -> str:
        self._model.call()
        return str(self._model.path)

    @property
    def sheets(self) -> "Sheets":
        self._model.call()
        return Sheets([Sheet(self._model, self, name) for name in self._model.cells])

    @property
    def api(self) -> _BookApi:
        return _BookApi(self._model)


class Sheets:
    def __init__(self, sheets: list["Sheet"]):
        self._sheets = sheets

    def __getitem__(self, key: int | str) -> "Sheet":
        if isinstance(key, int):
            return self._sheets[key]
        for s in self._sheets:
            if s._name == key:
                return s
        raise KeyError(key)

    def __iter__(self) -> Iterator["Sheet"]:
        return iter(self._sheets)

    def __len__(self) -> int:
        return len(self._sheets)


class Sheet:
    def __init__(self, model: _Model, book: Book, name: str):
        self._model, self._book, self._name = model, book, name

    @property
    def name(self) -> str:
        self._model.call()
        return self._name

    @property
    def book(self) -> Book:
        return self._book

    @property
    def api(self) -> _SheetApi:
        return _SheetApi(self._model, self._name)

    @property
    def used_range(self) -> "Range":
        self._model.call()
        filled = [*self._model.cells[self._name], *self._model.formulas.get(self._name, {})]
        if not filled:
            return Range(self, (1, 1), (1, 1))
        return Range(self, (min(r for r, _ in filled), min(c for _, c in filled)),
                     (max(r for r, _ in filled), max(c for _, c in filled)))

    def range(self, cell1: str | tuple[int, int] | "Range",
              cell2: str | tuple[int, int] | "Range" | None = None) -> "Range":
        self._model.call()
        first, last = _corner(cell1), _corner(cell2 if cell2 is not None else cell1)
        if isinstance(cell1, str) and ":" in cell1 and cell2 is None:
            a, b = cell1.split(":")
            first, last = _corner(a), _corner(b)
        return Range(self, first, last)


class Range:
    def __init__(self, sheet: Sheet, first: tuple[int, int], last: tuple[int, int],
                 options: dict | None = None):
        self._sheet, self._first, self._last = sheet, first, last
        self._options = options or {}

    @property
    def sheet(self) -> Sheet:
        return self._sheet

    @property
    def row(self) -> int:
        self._sheet._model.call()
        return self._first[0]

    @property
    def column(self) -> int:
        self._sheet._model.call()
        return self._first[1]

    @property
    def shape(self) -> tuple[int, int]:
        return (self._last[0] - self._first[0] + 1, self._last[1] - self._first[1] + 1)

    @property
    def address(self) -> str:
        (r1, c1), (r2, c2) = self._first, self._last
        return f"${get_column_letter(c1)}${r1}:${get_column_letter(c2)}${r2}"

    def options(self, convert: Any = None, **options: Any) -> "Range":
        return Range(self._sheet, self._first, self._last, {**self._options, **options})

    def _grid(self, cell: Callable[[int, int], Any]) -> list[list[Any]]:
        (r1, c1), (r2, c2) = self._first, self._last
        return [[cell(r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]

    @property
    def value(self) -> Any:
        model = self._sheet._model
        model.call()
        model.reads.append(f"{self._sheet._name}!{self.address}")
        cells = model.cells[self._sheet._name]
        errors = self._options.get("err_to_str", False)
        grid = self._grid(lambda r, c: _read(cells.get((r, c)), errors))
        if self._options.get("ndim") == 2:
            return grid
        rows, cols = self.shape
        if rows == cols == 1:
            return grid[0][0]
        if rows == 1:
            return grid[0]
        if cols == 1:
            return [row[0] for row in grid]
        return grid

    @value.setter
    def value(self, data: Any) -> None:
        model = self._sheet._model
        model.call()
        name = self._sheet._name
        if not isinstance(data, (list, tuple)):
            rows = [[data] * self.shape[1] for _ in range(self.shape[0])]
        elif data and not isinstance(data[0], (list, tuple)):
            rows = [list(data)]
        else:
            rows = [list(r) for r in data]
        top, left = self._first
        end = (top + len(rows) - 1, left + max(len(r) for r in rows) - 1)
        model.writes.append((name, Range(self._sheet, self._first, end).address,
                             model.screen_updating))
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                _typed(model, name, (top + i, left + j), v)

    @property
    def formula(self) -> Any:
        model = self._sheet._model
        model.call()
        cells = model.cells[self._sheet._name]
        formulas = model.formulas.get(self._sheet._name, {})
        grid = self._grid(lambda r, c: formulas.get((r, c)) or _as_text(cells.get((r, c))))
        if self.shape == (1, 1):
            return grid[0][0]
        return tuple(tuple(row) for row in grid)


def _corner(cell: Any) -> tuple[int, int]:
    if isinstance(cell, Range):
        return cell._first
    if isinstance(cell, tuple):
        return cell
    m = re.fullmatch(r"\$?([A-Za-z]+)\$?(\d+)", cell)
    assert m, cell
    return int(m.group(2)), column_index_from_string(m.group(1).upper())


def _read(value: Any, errors: bool) -> Any:
    if isinstance(value, ExcelError):
        return value.text if errors else None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    return value


def _serial(value: dt.date) -> float:
    """A date as Excel holds it: days since 1899-12-30."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return (value - dt.datetime(1899, 12, 30)).total_seconds() / 86400


def _checksum(value: Any) -> float:
    """One cell's term of the change sign's checksum, as Excel computes it:
    IFERROR(LEN(v)*97+CODE(v)*7+CODE(RIGHT(v))*3,0)+IFERROR(MOD(v*1,65521),0). LEN and CODE
    read the value as text (a number in General format, a date as its serial number, TRUE);
    CODE of "" is #VALUE!; CODE gives the character's code in the Windows code page (a
    character outside it: 63, "?"); v*1 is a number, a number's text, TRUE as 1, else #VALUE!."""
    if value is None or isinstance(value, ExcelError):
        return 0.0
    if isinstance(value, dt.date):
        number: float | None = _serial(value)
    elif isinstance(value, bool):
        number = float(value)
    elif isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and NUMBER.match(value):
        number = float(value)
    else:
        number = None
    if isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, (int, float, dt.date)):
        text = format(number, ".15g")
    else:
        text = str(value)

    def code(ch: str) -> int:
        return ord(ch) if ord(ch) < 256 else 63
    first = len(text) * 97 + code(text[0]) * 7 + code(text[-1]) * 3 if text else 0
    return first + (number % 65521 if number is not None else 0.0)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _typed(model: _Model, sheet: str, at: tuple[int, int], value: Any) -> None:
    """A value put into a cell the way Excel takes it: text as if typed."""
    model.saved = False
    cells, formulas = model.cells[sheet], model.formulas.setdefault(sheet, {})
    formulas.pop(at, None)
    if value is None or value == "":
        cells.pop(at, None)
        return
    if isinstance(value, str):
        if value.startswith("'"):
            cells[at] = value[1:]
        elif value.startswith("="):
            formulas[at] = value
            cells[at] = None
        elif NUMBER.match(value):
            cells[at] = float(value)
        elif value.upper() in ("TRUE", "FALSE"):
            cells[at] = value.upper() == "TRUE"
        else:
            cells[at] = value
        return
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    cells[at] = value


# -- the person at the keyboard (not part of xlwings) -------------------------------------------

class Desk:
    """A workbook open in the double's Excel, and the person using it."""

    def __init__(self, path: Path):
        path = Path(path).resolve()
        book = openpyxl.load_workbook(path)
        cells: dict[str, dict[tuple[int, int], Any]] = {}
        formulas: dict[str, dict[tuple[int, int], str]] = {}
        for ws in book.worksheets:
            cells[ws.title], formulas[ws.title] = {}, {}
            for row in ws.iter_rows():
                for c in row:
                    if isinstance(c.value, str) and c.value.startswith("="):
                        formulas[ws.title][(c.row, c.column)] = c.value
                        cells[ws.title][(c.row, c.column)] = None
                    elif c.value is not None:
                        cells[ws.title][(c.row, c.column)] = c.value
        self.model = _Model(path, cells, formulas)
        self.app = App(self.model)
        self.apps = Apps([self.app])
        self.lock = path.with_name(f"~${path.name}")
        self.lock.write_bytes(b"person\x00")

    @property
    def book(self) -> Book:
        return self.app._books[0]

    def value(self, sheet: str, address: str) -> Any:
        return self.model.cells[sheet].get(_corner(address))

    def type(self, sheet: str, address: str, value: Any) -> None:
        """A person types `value` into a cell and presses Enter."""
        _typed(self.model, sheet, _corner(address), value)

    def show_error(self, sheet: str, address: str, text: str = "#N/A") -> None:
        self.model.cells[sheet][_corner(address)] = ExcelError(text)
        self.model.saved = False

    def editing(self, calls: int) -> None:
        """A person starts editing a cell: Excel rejects the next `calls` automation calls."""
        self.model.reject = calls

    def not_ready(self, checks: int) -> None:
        """A person is editing a cell and Excel answers calls, but Application.Ready reads
        False the next `checks` times it is asked."""
        self.model.not_ready = checks

    def save(self) -> None:
        """Ctrl+S: the book's cells to the file (values only: what sheetkeeper reads)."""
        book = openpyxl.load_workbook(self.model.path)
        for name, cells in self.model.cells.items():
            ws = book[name] if name in book.sheetnames else book.create_sheet(name)
            for row in ws.iter_rows():
                for c in row:
                    c.value = None
            for (r, col), v in cells.items():
                ws.cell(r, col).value = v.text if isinstance(v, ExcelError) else v
            for (r, col), text in self.model.formulas.get(name, {}).items():
                ws.cell(r, col).value = text
        book.save(self.model.path)
        self.model.saved = True

    def close(self, save: bool) -> None:
        if save:
            self.save()
        self.model.closed = True
        self.lock.unlink(missing_ok=True)

    def quit_excel(self) -> None:
        self.model.quit = True
        self.lock.unlink(missing_ok=True)
