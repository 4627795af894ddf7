"""What a template is, once loaded: columns, dropdown lists and the roles columns play.

Plain frozen data. The loader (loader.py) builds it from a TOML file and checks it; everything
else reads it. Text that people see comes in every language of LANGS.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

LANGS = ("en", "zh-CN")
COLUMN_TYPES = (
    "id", "name", "text", "phone", "email", "choice", "status",
    "date", "money", "number", "tags", "notes", "findings", "ref",
)
# How a customer-row column is worked out from a ledger's entries (Rollup.measure). `latest` is
# a column people type too (Last contact): the later of what they typed and what was logged;
# every other measure makes a column sheetkeeper owns.
MEASURES = ("sum", "count", "first", "last", "average", "points", "latest", "recent",
            "segment")
STATUS_KEYS = ("new", "active", "paused", "churned")


@dataclass(frozen=True)
class Choice:
    """One dropdown value: its labels in each language and what else people type for it."""

    key: str
    labels: Mapping[str, str]
    aliases: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        return self.labels[lang]


@dataclass(frozen=True)
class ChoiceList:
    key: str
    choices: tuple[Choice, ...]

    def labels(self, lang: str) -> list[str]:
        return [c.label(lang) for c in self.choices]

    def by_key(self, key: str) -> Choice:
        for c in self.choices:
            if c.key == key:
                return c
        raise KeyError(key)


@dataclass(frozen=True)
class Rollup:
    """A customer-row column worked out from one ledger's entries about that customer."""

    ledger: str                  # the ledger's key ("purchases")
    measure: str                 # one of MEASURES
    of: str | None = None        # the ledger column it is over (the amount, a date)

    @property
    def owned(self) -> bool:
        """Written by sheetkeeper alone: a person's edit there is put right, as a Status's."""
        return self.measure != "latest"


@dataclass(frozen=True)
class Column:
    key: str
    type: str
    headers: Mapping[str, str]
    aliases: tuple[str, ...] = ()
    help: Mapping[str, str] = field(default_factory=dict)
    required: bool = False
    width: int = 14
    list: str | None = None
    rollup: Rollup | None = None

    def header(self, lang: str) -> str:
        return self.headers[lang]


class _Named:
    """Columns found by any of their names (header in each language, aliases)."""

    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    def spellings(self) -> Mapping[str, str]:
        """Every name of every column, folded (`fold_label`), -> the column's key. Worked out
        once."""
        known = self.__dict__.get("_spellings")
        if known is None:
            from .loader import fold_label
            known = {}
            for c in self.columns:
                for name in (*c.headers.values(), *c.aliases):
                    known.setdefault(fold_label(name), c.key)
            object.__setattr__(self, "_spellings", known)   # a cache, not part of the value
        return known

    def key_of(self, header: str) -> str | None:
        """The key of the column `header` names, in any of its names."""
        from .loader import fold_label
        return self.spellings().get(fold_label(header))


@dataclass(frozen=True)
class Ledger(_Named):
    """A tab of dated entries about customers (Purchases, Follow-ups, Visits, Payments): each
    entry is tied to one customer by ID, and rolls up into that customer's row."""

    key: str
    sheet_names: Mapping[str, str]
    columns: tuple[Column, ...]
    customer_id: str              # the column holding the customer's ID
    customer: str                 # the column naming them when the ID is not known
    date: str                     # the entry's date


@dataclass(frozen=True)
class IdFormat:
    """How the template's row identifiers look: prefix + zero-padded number (C-000012)."""

    column: str
    prefix: str
    digits: int

    def format(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.digits}d}"


@dataclass(frozen=True)
class StatusSpec:
    column: str
    start: str
    activity: str
    follow_up: str | None = None
    also: tuple[str, ...] = ()   # more activity dates (Last purchase): the latest counts


@dataclass(frozen=True)
class DuplicateSpec:
    certain: tuple[str, ...]
    name: str
    supporting: tuple[str, ...]


@dataclass(frozen=True)
class Template(_Named):
    name: str
    titles: Mapping[str, str]
    sheet_names: Mapping[str, str]
    columns: tuple[Column, ...]
    lists: Mapping[str, ChoiceList]
    id: IdFormat
    status: StatusSpec
    duplicates: DuplicateSpec
    required_any: tuple[tuple[str, ...], ...] = ()
    phone_regions: Mapping[str, str] = field(default_factory=dict)
    words: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)
    ledgers: tuple[Ledger, ...] = ()

    def ledger(self, key: str) -> Ledger:
        return next(g for g in self.ledgers if g.key == key)

    def column_of_type(self, type_: str) -> Column | None:
        return next((c for c in self.columns if c.type == type_), None)

    def word(self, group: str, key: str, lang: str) -> str:
        """A piece of sheetkeeper's own text (tab names, review headers) in `lang`."""
        return self.words[group][key][lang]

    def default_phone_region(self, lang: str) -> str | None:
        return self.phone_regions.get(lang) or None
