"""Each CRM's import format, as its documentation describes it: the column names its importer
maps by itself, how it reads dates and multi-select values, and how many records one file may
hold. What each was checked against is in README.md ("Exporting"). Pure data, and one pure
function that lays an ExportTable out in a format."""
from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Any, Callable

from nameparser import HumanName
from nameparser.config import CONSTANTS
from i18n import _

from .select import ExportTable

FIRST, LAST = "first name", "last name"     # taken from the template's one Name column


@dataclass(frozen=True)
class CrmFormat:
    name: str
    # (the CRM's column, where its value comes from: a template column key, FIRST or LAST)
    columns: tuple[tuple[str, str], ...]
    max_rows: int | None       # records one file may hold; more are split into parts
    multi_separator: str = ";"  # between the values of a multi-select (our tags)
    date_format: str = "%Y-%m-%d"
    required: tuple[str, ...] = ()   # the CRM's columns a record cannot be imported without
    workbook: bool = False     # its importer takes an Excel file (its template), not a CSV


# Contacts in each CRM. A template column with no CRM field of its own goes under its own
# header as a custom field the importer offers to create or map (Customer ID, Tier, …).
HUBSPOT = CrmFormat("hubspot", (
    (FIRST, "First Name"), (LAST, "Last Name"), ("email", "Email"),
    ("phone", "Phone Number"), ("company", "Company Name"), ("title", "Job Title"),
    ("address", "Street Address"), ("birthday", "Date of birth"),
), max_rows=1_048_575)
SALESFORCE = CrmFormat("salesforce", (
    (FIRST, "First Name"), (LAST, "Last Name"), ("email", "Email"), ("phone", "Phone"),
    ("company", "Account Name"), ("title", "Title"), ("address", "Mailing Street"),
    ("birthday", "Birthdate"), ("source", "Lead Source"), ("notes", "Description"),
), max_rows=50_000, required=("Last Name",))
ZOHO = CrmFormat("zoho", (
    (FIRST, "First Name"), (LAST, "Last Name"), ("email", "Email"), ("phone", "Phone"),
    ("company", "Account Name"), ("title", "Title"), ("address", "Mailing Street"),
    ("birthday", "Date of Birth"), ("source", "Lead Source"), ("notes", "Description"),
    ("tags", "Tag"),
), max_rows=25_000, required=("Last Name",))
# 纷享销客 imports through an Excel template downloaded from the tenant, its first row the
# fields' labels; a Chinese contact has one name field, so Name goes whole. The labels are the
# contact object's usual ones, not checked against a template (README.md says so).
FXIAOKE = CrmFormat("fxiaoke", (
    ("name", "姓名"), ("company", "客户名称"), ("phone", "手机"), ("email", "邮箱"),
    ("title", "职务"), ("birthday", "生日"), ("address", "地址"), ("source", "来源"),
    ("notes", "备注"),
), max_rows=1_048_575, required=("姓名",), workbook=True)
CRM_FORMATS = {f.name: f for f in (HUBSPOT, SALESFORCE, ZOHO, FXIAOKE)}

# The columns (by template key) that follow the CRM's own ones, under the sheet's headers:
# sheetkeeper's ID (the way back to the row), the dropdowns, dates and amounts.
_OWN_FIRST = ("customer_id", "member_no")
_SKIPPED = ("findings",)       # sheetkeeper's own words about a row: not the customer's data


# Han, kana and hangul: a name written in them puts the family name first, and has no safe split.
_CJK = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
                  r"\uf900-\ufaff\U00020000-\U0003134f]")


# The words that make nameparser read a two-word name otherwise than as given + family name.
_SPECIAL = frozenset(w.lower() for group in (CONSTANTS.titles, CONSTANTS.prefixes,
                                             CONSTANTS.suffix_acronyms,
                                             CONSTANTS.suffix_not_acronyms,
                                             CONSTANTS.conjunctions)
                     for w in group)


@functools.lru_cache(maxsize=65_536)
def split_name(name: Any) -> tuple[str, str]:
    """(first, last) for a CRM that wants them apart. A name in hanzi (or kana, hangul) stays
    whole, as the last name (the field a CRM requires): 欧阳 and 张 are both surnames, and no
    split is safe; nameparser, which splits the rest, would read "张 伟" the Western way round.
    Cached: a list repeats its names, and nameparser takes a tenth of a millisecond a name."""
    if not isinstance(name, str) or not name.strip():
        return "", ""
    if _CJK.search(name):
        return "", " ".join(name.split())
    words = name.split()
    if len(words) == 2 and words[0].isalpha() and words[1].isalpha() \
            and not any(w.lower() in _SPECIAL for w in words):
        # "Anna Müller": what nameparser makes of it, in a hundredth of the time (held to that
        # by a test over the benchmark's 100k names)
        return words[0], words[1]
    parsed = HumanName(name.strip())
    first = " ".join(p for p in (parsed.first, parsed.middle) if p)
    last = " ".join(p for p in (parsed.last, parsed.suffix) if p)
    if not last:
        return "", first
    return first, last


def laid_out(table: ExportTable, fmt: CrmFormat) -> tuple[list[str], list[list[Any]],
                                                          list[str | None]]:
    """(headers, rows, column types) of `table` in `fmt`: the CRM's columns first, each filled
    from its template column where the table has it, then the rest under the sheet's own
    headers. Dates written as the CRM reads them, tags with its multi-select separator."""
    at = {k: j for j, k in enumerate(table.keys) if k}
    name_at = at.get("name")
    plan = _columns(table, fmt, at)
    rows = []
    for row in table.rows:
        names = split_name(row[name_at]) if name_at is not None else ("", "")
        rows.append([_crm_value(get(row, names), kind, fmt) for _, get, kind in plan])
    return [h for h, _, _ in plan], rows, [k for _, _, k in plan]


def _columns(table: ExportTable, fmt: CrmFormat, at: dict[str, int]
             ) -> list[tuple[str, Callable[[tuple, tuple[str, str]], Any], str | None]]:
    """(header, how to get the value from a row and its split name, column type) of each
    column: the CRM's own first, then the rest of the table's under its own headers."""
    plan: list[tuple[str, Callable[[tuple, tuple[str, str]], Any], str | None]] = []
    used = set()
    for source, header in fmt.columns:
        if source in (FIRST, LAST) and "name" in at:
            used.add("name")
            part = 0 if source == FIRST else 1
            plan.append((header, lambda row, names, part=part: names[part], "text"))
        elif source in at:
            used.add(source)
            j = at[source]
            plan.append((header, lambda row, names, j=j: row[j], table.types[j]))
    rest = [j for j, k in enumerate(table.keys) if k not in used and k not in _SKIPPED]
    rest.sort(key=lambda j: table.keys[j] not in _OWN_FIRST)
    plan += [(table.headers[j], lambda row, names, j=j: row[j], table.types[j]) for j in rest]
    return plan


def _crm_value(value: Any, kind: str | None, fmt: CrmFormat) -> Any:
    if isinstance(value, dt.datetime) and kind == "date":
        value = value.date()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime(fmt.date_format)
    if kind == "tags" and isinstance(value, str):
        return fmt.multi_separator.join(t.strip() for t in value.split(",") if t.strip())
    return value


def missing_required(headers: list[str], rows: list[list[Any]], fmt: CrmFormat) -> list[str]:
    """What to tell a person about records the CRM will refuse: one line per required column
    that some rows leave empty."""
    notes = []
    for column in fmt.required:
        j = headers.index(column) if column in headers else None
        empty = len(rows) if j is None else sum(1 for r in rows if r[j] in (None, ""))
        if empty:
            notes.append(_("{empty} of {value} rows have no {column} (from Name): {name} will "
                           "refuse them; fill in their names first",
                           empty=empty, value=len(rows), column=column, name=fmt.name))
    return notes
