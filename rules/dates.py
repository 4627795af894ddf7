"""Dates from what people type, to real dates.

Unambiguous forms are read whatever the order setting: 2024-03-05, 2024/3/5, 2024年3月5日,
5 Mar 2024, a dotted 5.3.2024 (day first wherever dots are used). A slashed 03/05/2024 needs the
day/month order from config ("dmy" or "mdy"); with "auto" it is read only when one part is over 12,
and otherwise left as typed with a problem. Excel serial numbers become dates. An impossible date
(31 April) is left as typed, with a problem that names it.
"""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from i18n import _

from .outcome import Normalised, Outcome, Problem, shown
from .text import fold_fullwidth

DATE_ORDERS = ("auto", "dmy", "mdy")
EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 after Excel's 1900 leap-year bug
FIRST_SERIAL = (dt.date(1910, 1, 1) - EXCEL_EPOCH).days   # the earliest serial read as a date
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2199, 12, 31)

_MONTHS = {name: i for i, names in enumerate((
    (), ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
    ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
    ("oct", "october"), ("nov", "november"), ("dec", "december"))) for name in names}
_TIME = r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?"
_YMD = re.compile(rf"(\d{{4}})\s*[-/.年]\s*(\d{{1,2}})\s*[-/.月]\s*(\d{{1,2}})\s*[日号]?{_TIME}")
_DOTTED = re.compile(rf"(\d{{1,2}})\.(\d{{1,2}})\.(\d{{4}}|\d{{2}}){_TIME}")
_SLASHED = re.compile(rf"(\d{{1,2}})[/-](\d{{1,2}})[/-](\d{{4}}|\d{{2}}){_TIME}")
_DAY_MONTH_NAME = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[\s\-/.]*([A-Za-z]{3,9})\.?[\s\-/.,]*(\d{4})")
_MONTH_NAME_DAY = re.compile(r"([A-Za-z]{3,9})\.?\s*(\d{1,2})(?:st|nd|rd|th)?,?\s*(\d{4})")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")


_WRITTEN = _("written as a date")


def _build(value: object, y: int, m: int, d: int, reason: str,
           time: tuple[str | None, ...] = (None, None, None)) -> Outcome:
    try:
        day = dt.date(y, m, d)
    except ValueError:
        if 1 <= m <= 12:
            return Problem("invalid_date", _("there is no day {day} in {month:month}", day=d,
                                             month=dt.date(y if 1 <= y <= 9999 else 2000, m, 1)))
        return Problem("invalid_date", _("there is no month {month}", month=m))
    if not EARLIEST <= day <= LATEST:
        return Problem("invalid_date", _("the year {year} is out of range; check the date",
                                         year=y))
    result: dt.date = day
    hh, mm, ss = time
    if hh is not None:
        try:
            result = dt.datetime(y, m, d, int(hh), int(mm), int(ss or 0))
        except ValueError:
            return Problem("invalid_date", _("has a time of day that does not exist"))
        if result.time() == dt.time(0):
            result = day
    return None if result == value else Normalised(result, reason)


def _year(text: str) -> int:
    """Two-digit years: within ten years ahead of now is this century, else the last one."""
    year = int(text)
    if len(text) == 2:
        pivot = (dt.date.today().year + 10) % 100
        year += 2000 if year <= pivot else 1900
    return year


@lru_cache(maxsize=262_144, typed=True)
def normalise_date(value: object, order: str = "auto") -> Outcome:
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return Normalised(value.date(), _("a date without a time of day"))
        return None
    if isinstance(value, dt.date):
        return None
    if isinstance(value, bool):
        return Problem("invalid_date", _("{value} is not a date", value=shown(value)))
    if isinstance(value, (int, float)):
        return _from_number(value)
    if not isinstance(value, str):
        return Problem("invalid_date", _("{value} is not a date", value=shown(value)))
    text = fold_fullwidth(value).strip()
    reason = _WRITTEN
    if m := _YMD.fullmatch(text):
        if _ISO.fullmatch(value):
            reason = _("date typed as text, stored as a real date")
        return _build(value, int(m[1]), int(m[2]), int(m[3]), reason, m.groups()[3:])
    if m := _DOTTED.fullmatch(text):
        return _build(value, _year(m[3]), int(m[2]), int(m[1]),
                      _("day.month.year written as a date"), m.groups()[3:])
    if m := _SLASHED.fullmatch(text):
        a, b, y = int(m[1]), int(m[2]), _year(m[3])
        if order == "dmy" or (order == "auto" and a > 12 >= b):
            return _build(value, y, b, a, _("day/month/year written as a date"), m.groups()[3:])
        if order == "mdy" or (order == "auto" and b > 12 >= a):
            return _build(value, y, a, b, _("month/day/year written as a date"), m.groups()[3:])
        if a == b:
            return _build(value, y, a, b, reason, m.groups()[3:])
        readings = []
        for month, day in ((b, a), (a, b)):
            try:
                readings.append(dt.date(y, month, day))
            except ValueError:
                pass
        if len(readings) == 1:
            r = readings[0]
            return _build(value, r.year, r.month, r.day, reason, m.groups()[3:])
        if not readings:
            return Problem("invalid_date", _("neither reading of {text} is a date that exists",
                                             text=repr(text)))
        first, second = readings
        return Problem("ambiguous_date",
                       _("could be {first:date} or {second:date}; type it as {first_iso} or "
                         "{second_iso}, or pass --date-order dmy or mdy", first=first,
                         second=second, first_iso=first.isoformat(),
                         second_iso=second.isoformat()))
    if (m := _DAY_MONTH_NAME.fullmatch(text)) and m[2].lower() in _MONTHS:
        return _build(value, int(m[3]), _MONTHS[m[2].lower()], int(m[1]), reason)
    if (m := _MONTH_NAME_DAY.fullmatch(text)) and m[1].lower() in _MONTHS:
        return _build(value, int(m[3]), _MONTHS[m[1].lower()], int(m[2]), reason)
    if m := _COMPACT.fullmatch(text):
        return _build(value, int(m[1]), int(m[2]), int(m[3]), _("yyyymmdd written as a date"))
    return Problem("invalid_date", _("is not a date sheetkeeper can read; type it as YYYY-MM-DD"))


def _from_number(value: int | float) -> Outcome:
    if 19000101 <= value <= 21991231 and float(value).is_integer():
        digits = str(int(value))
        return _build(value, int(digits[:4]), int(digits[4:6]), int(digits[6:]),
                      _("yyyymmdd written as a date"))
    if float(value).is_integer() and 1000 <= value <= 2999:
        return Problem("invalid_date", _("{value} looks like a year, not a date; type the "
                                         "whole date as YYYY-MM-DD", value=shown(value)))
    # A serial before 1910 is no date a customer list holds (and before March 1900 Excel's
    # serials are a day off): a small number there is an age, a count or a typo.
    if FIRST_SERIAL <= value < (LATEST - EXCEL_EPOCH).days:
        whole = int(value)
        day = EXCEL_EPOCH + dt.timedelta(days=whole)
        if value != whole:
            return None  # a date-time serial: leave times of day alone
        return Normalised(day, _("Excel date number {number} written as a date", number=whole))
    return Problem("invalid_date", _("the number {value} is not a date", value=shown(value)))


def serial_number(value: dt.date) -> int | float:
    """A date (or date and time) as the spreadsheet serial number that shows it: what Google
    takes in RAW and gives back UNFORMATTED."""
    if isinstance(value, dt.datetime):
        delta = value - dt.datetime.combine(EXCEL_EPOCH, dt.time())
        return delta.days + delta.seconds / 86400
    return (value - EXCEL_EPOCH).days
