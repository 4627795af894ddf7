"""What a workbook held after the last cycle, so the next one can tell what people changed.

Kept per workbook in the data folder as JSON (0600: it is personal data): the headers once, and
each row by ID as its values in header order, as read. Diffing the new read against it gives the
person edits the audit log records (see `sync.since`).

Rows are kept as the reader gives them, not as one dict per row: a cycle on a 100k-row list
compares every row with the last one, and a row that did not change is then settled by one
comparison of two tuples, in C, with no per-cell work to build, store or load it.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import orjson

from audit.log import AuditEntry, ChangeRecord, dump_values, tagged, untagged
from i18n import _

from .cells import plain
from .errors import SheetkeeperError
from audit.private_file import write_private
from .table import Layout, SheetTable

Rows = dict[str, tuple[Any, ...]]   # row ID -> its values, in the order of the headers


class _Absent:
    """A cell of a column the last cycle did not have: unequal to any value."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()


@dataclass(frozen=True)
class Seen:
    """The last cycle's end state: rows, the cells it left flagged, and what it judged them by
    (a settings fingerprint: a row is only 'already judged' under the same rules).

    As loaded, only the head is parsed (what a quiet cycle needs to tell it has nothing to do);
    `rows`, `flagged` and `problems` stay in `body` until `SeenStore.complete`, which a cycle
    calls while the workbook is being read (the reader does not hold the GIL)."""

    rows: Rows | None
    # Row ID -> headers of cells to judge again though unchanged: a change that was not
    # written. (Stored as "flagged": a seen state from before `problems` lists its flagged
    # cells here, so that they are judged again.)
    flagged: dict[str, list[str]]
    judged_by: str
    digest: str = ""                   # the workbook's bytes as the cycle left them
    day: str = ""                      # the day it judged (statuses move with the date)
    findings: list = field(default_factory=list)     # the plan's findings and duplicates, to
    duplicates: list = field(default_factory=list)   # report again while nothing changes
    # Row ID -> header -> [kind, why] of each cell a cell rule left as typed: stated again
    # while the cell holds the same value, rather than judged again.
    problems: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # What judged_by took from the table (template, headers, lists), and what a report says of
    # it (TableFacts fields and the phone region): enough to report on bytes a quiet cycle left
    # without reading them again.
    read_as: str = ""
    facts: dict = field(default_factory=dict)
    headers: tuple[str, ...] = ()      # what each position of a row is ("" for no header)
    body: bytes = field(default=b"", repr=False)     # rows, flagged, problems: not parsed yet
    # How far into the audit log the rows take in (AuditLog.head: seq and hash): what was
    # logged for the workbook after that is folded in before the next diff (see `folded`).
    # None: a state from before it said.
    logged: tuple[int, str] | None = None

    def aligned(self, layout: Layout) -> "Seen":
        """This state with its rows in the order of `layout`'s headers (a table's, now),
        column by column: by header, or by template column where a person renamed a header
        to another of its names (Phone -> Mobile). A column the last cycle did not have is
        ABSENT; one it had and the table has lost is dropped."""
        headers = tuple(layout.headers)
        if headers == self.headers:
            return self
        where: dict[int, int] = {}
        for k, h in enumerate(self.headers):
            if h and (j := layout.position(h)) is not None:
                where.setdefault(j, k)
        take = [where.get(j) if h else None for j, h in enumerate(headers)]
        rows = {rid: tuple(ABSENT if k is None else row[k] for k in take)
                for rid, row in self.rows.items()}
        return dataclasses.replace(self, rows=rows, headers=headers)


def state_name(workbook: Path | str) -> str:
    """What files the data folder keeps for a workbook or Google Sheet are named after."""
    if str(workbook).startswith("gsheet:"):        # a Google Sheet, by its key
        return f"gsheet-{hashlib.sha256(str(workbook).encode()).hexdigest()[:16]}"
    workbook = Path(workbook)
    return f"{workbook.stem}-{hashlib.sha256(str(workbook.resolve()).encode()).hexdigest()[:16]}"


@dataclass(frozen=True)
class SeenStore:
    folder: Path

    def _file(self, workbook: Path | str) -> Path:
        return self.folder / "seen" / f"{state_name(workbook)}.json"

    def forget(self, workbook: Path) -> None:
        """After a restore: the next cycle starts afresh rather than logging the restored
        cells as a person's edits."""
        _REMEMBERED.pop(self._file(workbook), None)
        self._file(workbook).unlink(missing_ok=True)

    def load(self, workbook: Path) -> Seen | None:
        """The head of the last state seen; `complete` parses the rest. The state this process
        saved last, while the file is still the one it wrote, is taken from memory whole."""
        path = self._file(workbook)
        kept = _REMEMBERED.get(path)
        if kept is not None and kept[0] == _identity(path):
            return kept[1]
        try:
            head, newline, body = path.read_bytes().partition(b"\n")
            data = orjson.loads(head)
            if not newline:       # a state from before the head had a line of its own
                data = _body(data)
            return Seen(data.get("rows"), data.get("flagged", {}), data.get("judged_by", ""),
                        data.get("digest", ""), data.get("day", ""), data.get("findings", []),
                        data.get("duplicates", []), data.get("problems", {}),
                        data.get("read_as", ""), data.get("facts", {}),
                        tuple(data.get("headers", ())), body,
                        tuple(data["logged"]) if data.get("logged") else None)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None   # unreadable memory: the next cycle just starts a new one

    @staticmethod
    def complete(seen: Seen) -> Seen | None:
        """`seen` with its rows, flagged and problems parsed; None if they cannot be."""
        if seen.rows is not None:
            return seen
        try:
            data = _body(orjson.loads(seen.body))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        return dataclasses.replace(seen, rows=data["rows"], flagged=data.get("flagged", {}),
                                   problems=data.get("problems", {}),
                                   headers=tuple(data["headers"]), body=b"")

    def save(self, workbook: Path, seen: Seen) -> None:
        """Saved whole (0600), and kept in this process's memory as it is, so a running
        service's next cycle on the workbook need not parse it back."""
        path = self._file(workbook)
        # The head on a line of its own (JSON never has a raw newline), then the rows: one
        # file, replaced whole, of which a quiet cycle parses only the first line.
        head = _dump({"workbook": str(workbook), "judged_by": seen.judged_by,
                      "digest": seen.digest, "day": seen.day, "findings": seen.findings,
                      "duplicates": seen.duplicates, "read_as": seen.read_as,
                      "facts": seen.facts, "logged": seen.logged})
        body = encode_body(seen)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_private(path, head + b"\n" + body)
            _remember(path, seen)
        except OSError as e:
            raise SeenStateError(
                _("{path}: could not save what this cycle saw ({strerror}); the person edits it "
                  "logged may be logged again by the next cycle. Free some space or fix the data "
                  "folder's permissions", path=path, strerror=e.strerror)) from None


def encode_body(seen: Seen) -> bytes:
    parts = (seen.headers, seen.rows, seen.flagged, seen.problems)
    return _dump(dict(zip(("headers", "rows", "flagged", "problems"), parts)))


class SeenStateError(SheetkeeperError):
    """The seen state could not be saved (full disk, permissions)."""


# The states this process saved, by file, with the file's identity when it was written: a
# running service's next cycle takes the state from here rather than parse it back (a third of
# a second at 20k rows). Another process's save (an `apply` in a terminal) makes a new file,
# which is read. A few workbooks' worth: each is the size of its list.
_REMEMBERED: dict[Path, tuple[tuple[int, int, int] | None, Seen]] = {}
REMEMBERED_AT_MOST = 16


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


def _remember(path: Path, seen: Seen) -> None:
    _REMEMBERED.pop(path, None)
    while len(_REMEMBERED) >= REMEMBERED_AT_MOST:
        _REMEMBERED.pop(next(iter(_REMEMBERED)))
    _REMEMBERED[path] = (_identity(path), seen)


# The seen state of a 100k-row list is tens of MB of JSON, written and read every cycle: orjson
# does it in a tenth of the time json took. The format is the audit log's (dates tagged), so
# either library reads what the other wrote.

def _dump(payload: dict) -> bytes:
    try:
        return orjson.dumps(payload, default=tagged, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except orjson.JSONEncodeError:     # what orjson refuses (an integer past 64 bits)
        return dump_values(payload).encode("utf-8")


def _body(payload: dict) -> dict:
    """The parsed rows part (`payload`, changed in place) with rows as tuples of cell values."""
    rows = payload["rows"]
    if "headers" not in payload:       # from before rows were kept by position
        payload["headers"], payload["rows"] = _by_position(rows)
        return payload
    for rid, row in rows.items():
        # Only cells hold tagged values (dates), put back in place: most rows have one, and
        # one loop over the cells beat looking for them first and copying the row.
        for j, v in enumerate(row):
            if type(v) is dict:
                row[j] = untagged(v)
        rows[rid] = tuple(row)
    return payload


def _by_position(rows: dict[str, dict[str, Any]]) -> tuple[list[str], Rows]:
    """A seen state from before rows were kept by position (cells by header), as one."""
    headers = list(dict.fromkeys(h for cells in rows.values() for h in cells))
    return headers, {rid: tuple(untagged(v) if type(v) is dict else v
                                for v in map(cells.get, headers))
                     for rid, cells in rows.items()}


def rows_by_id(table: SheetTable, ids: Sequence[str | None]) -> Rows:
    """The table's rows by ID (in its header order), for rows that have an ID."""
    return {rid: row for rid, row in zip(ids, table.rows) if rid}


def with_changes(table: SheetTable, rows: Rows, changes) -> Rows:
    """`rows` (as read, by ID) with written cell changes in: the state a write leaves. A row
    the changes gave its ID is taken from the table."""
    index = {n: i for i, n in enumerate(table.row_numbers)}
    numbers = {c.row_id: c.row_number for c in changes if c.row_id}
    return with_values(rows, table.layout.headers,
                       ((c.row_id, c.column, c.after) for c in changes if c.row_id),
                       lambda rid: table.rows[index[numbers[rid]]])


def with_values(rows: Rows, headers: Sequence[str], cells: Iterable[tuple[str, str, Any]],
                fresh: Callable[[str], Sequence[Any] | None]) -> Rows:
    """`rows` (in the order of `headers`) with (row ID, header, value) cells written in,
    copying only the rows they touch, not every row. A row not in `rows` is taken from
    `fresh(row ID)` where that gives one, else its cells are left out."""
    out = dict(rows)
    where = {h: j for j, h in enumerate(headers) if h}
    touched: dict[str, list[Any]] = {}
    for rid, header, value in cells:
        row = touched.get(rid)
        if row is None:
            base = out.get(rid)
            if base is None and (base := fresh(rid)) is None:
                continue
            row = touched[rid] = list(base)
        if (j := where.get(header)) is not None:
            row[j] = plain(value)
    out.update((rid, tuple(row)) for rid, row in touched.items())
    return out


def folded(rows: Rows, layout: Layout, id_header: str | None,
           entries: Iterable[AuditEntry | ChangeRecord], fresh: Rows
           ) -> tuple[Rows, dict[str, list[str]]]:
    """`rows` (by ID, in the order of `headers`) with changes to the table's cells (logged, or
    just written), oldest first, made to them as they were made to the workbook: after-values
    written in; a row added, or given its ID, taken as it reads now (`fresh`) where it still
    has that ID; a row removed, or whose ID was taken away (an undo of one given), gone. And
    the cells no cycle judged as they now are (row ID -> headers): each one changed, and every
    cell of a row taken as it reads now."""
    folding = _Folding(dict(rows), layout, fresh)
    for e in entries:
        if not e.row_id:
            continue
        if e.column == "(row)" or (e.column == id_header and e.after != e.row_id):
            folding.row_gone_or_added(e.row_id, added=e.column == "(row)" and e.after is not None)
        else:
            folding.cell(e.row_id, e.column, e.after)
    return folding.result()


class _Folding:
    """The rows of `folded`, changed entry by entry (rows being changed are lists until the
    end), and the cells to judge again."""

    def __init__(self, rows: dict, layout: Layout, fresh: Rows):
        self.out, self.layout, self.fresh = rows, layout, fresh
        self.named = [h for h in layout.headers if h]
        self.touched: dict[str, list[Any]] = {}
        self.again: dict[str, dict[str, None]] = {}

    def row_gone_or_added(self, rid: str, added: bool) -> None:
        # A row removed (or its ID taken away) goes; a row added is taken as it reads now.
        self.touched.pop(rid, None)
        self.out.pop(rid, None)
        if added and rid in self.fresh:
            self._as_it_reads_now(rid)

    def cell(self, rid: str, column: str, after: Any) -> None:
        row = self.touched.get(rid)
        if row is None and rid not in self.out:
            if rid in self.fresh:                # given its ID
                self._as_it_reads_now(rid)
            return
        if row is None:
            row = self.touched[rid] = list(self.out[rid])
        if (j := self.layout.position(column)) is not None:
            row[j] = plain(after)
            self.again.setdefault(rid, {})[self.layout.headers[j]] = None

    def _as_it_reads_now(self, rid: str) -> None:
        self.out[rid] = self.fresh[rid]
        self.again[rid] = dict.fromkeys(self.named)

    def result(self) -> tuple[Rows, dict[str, list[str]]]:
        self.out.update((rid, tuple(row)) for rid, row in self.touched.items())
        return self.out, {rid: list(cells) for rid, cells in self.again.items()
                          if rid in self.out}
