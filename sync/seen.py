"""What a workbook held after the last cycle, so the next one can tell what people changed.

Kept per workbook in the data folder as JSON (0600: it is personal data), rows keyed by ID and
cells by header. Diffing the new read against it gives the person edits the audit log records.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import orjson

from audit.log import ChangeRecord, dump_values, encode_value, tagged, untagged
from rules.dates import serial_number

from .private_file import write_private
from .table import SheetTable

Rows = dict[str, dict[str, Any]]   # row ID -> header -> value


@dataclass(frozen=True)
class Seen:
    """The last cycle's end state: rows, the cells it left flagged, and what it judged them by
    (a settings fingerprint: a row is only 'already judged' under the same rules)."""

    rows: Rows
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


@dataclass(frozen=True)
class SeenStore:
    folder: Path

    def _file(self, workbook: Path | str) -> Path:
        if str(workbook).startswith("gsheet:"):        # a Google Sheet, by its key
            key = hashlib.sha256(str(workbook).encode()).hexdigest()[:16]
            return self.folder / "seen" / f"gsheet-{key}.json"
        workbook = Path(workbook)
        key = hashlib.sha256(str(workbook.resolve()).encode()).hexdigest()[:16]
        return self.folder / "seen" / f"{workbook.stem}-{key}.json"

    def forget(self, workbook: Path) -> None:
        """After a restore: the next cycle starts afresh rather than logging the restored
        cells as a person's edits."""
        self._file(workbook).unlink(missing_ok=True)

    def load(self, workbook: Path) -> Seen | None:
        try:
            data = _load(self._file(workbook).read_bytes())
            return Seen(data["rows"], data.get("flagged", {}), data.get("judged_by", ""),
                        data.get("digest", ""), data.get("day", ""), data.get("findings", []),
                        data.get("duplicates", []), data.get("problems", {}),
                        data.get("read_as", ""), data.get("facts", {}))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None   # unreadable memory: the next cycle just starts a new one

    def save(self, workbook: Path, seen: Seen) -> None:
        path = self._file(workbook)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        payload = _dump({"workbook": str(workbook), "rows": seen.rows,
                               "flagged": seen.flagged, "judged_by": seen.judged_by,
                               "digest": seen.digest, "day": seen.day,
                               "findings": seen.findings, "duplicates": seen.duplicates,
                               "problems": seen.problems, "read_as": seen.read_as,
                               "facts": seen.facts})
        write_private(path, payload)


# The seen state of a 100k-row list is tens of MB of JSON, written and read every cycle: orjson
# does it in a tenth of the time json took. The format is the audit log's (dates tagged), so
# either library reads what the other wrote.

def _dump(payload: dict) -> bytes:
    try:
        return orjson.dumps(payload, default=tagged, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except orjson.JSONEncodeError:     # what orjson refuses (an integer past 64 bits)
        return dump_values(payload).encode("utf-8")


def _load(data: bytes) -> dict:
    payload = orjson.loads(data)
    for cells in payload["rows"].values():       # only cells hold tagged values
        for header, value in cells.items():
            if type(value) is dict:
                cells[header] = untagged(value)
    return payload


def rows_by_id(table: SheetTable, values: list[list[Any]], ids: list[str | None]) -> Rows:
    """Table values by row ID and header, for rows that have an ID."""
    named = _named(table)
    return {rid: _cells(named, row) for rid, row in zip(ids, values) if rid}


def _named(table: SheetTable) -> list[tuple[int, str]]:
    return [(j, h) for j, h in enumerate(table.layout.headers) if h]


def _cells(named: list[tuple[int, str]], row: Sequence[Any]) -> dict[str, Any]:
    # plain() only where it can change something: most cells are text or empty, and this
    # runs over every cell of the table each cycle.
    return {h: v if (v := row[j]) is None or type(v) is str else plain(v) for j, h in named}


def with_changes(table: SheetTable, rows: Rows, changes) -> Rows:
    """`rows` (as read, by ID) with written cell changes in, copying only the rows they touch:
    the state a write leaves, without rebuilding every row. A row the changes gave its ID is
    taken whole from the table."""
    out = dict(rows)
    named = _named(table)
    index = {n: i for i, n in enumerate(table.row_numbers)}
    touched: set[str] = set()
    for c in changes:
        rid = c.row_id
        if rid is None:
            continue
        if rid not in touched:
            if rid in out:
                out[rid] = dict(out[rid])
            else:
                out[rid] = _cells(named, table.rows[index[c.row_number]])
            touched.add(rid)
        out[rid][c.column] = plain(c.after)
    return out


def plain(value: Any) -> Any:
    # calamine reads a date cell as a date, a number cell as float: compare them as such.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def same_value(current: Any, recorded: Any) -> bool:
    """Equal as cell values: calamine reads numbers as floats and dates with a time part;
    Google gives a date outside a date column as its serial number."""
    if _number(current) and _number(recorded):
        return float(current) == float(recorded)
    if isinstance(current, dt.datetime) and type(recorded) is dt.date:
        return current == dt.datetime.combine(recorded, dt.time())
    if _number(current) and isinstance(recorded, dt.date):
        return float(current) == serial_number(recorded)
    if current in ("", None) and recorded in ("", None):
        return True
    return current == recorded


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def person_edits(before: Mapping[str, Mapping[str, Any]] | None, now: Rows,
                 skip_columns: set[str]) -> list[ChangeRecord]:
    """What people changed since the last cycle: cells, rows added (with an ID) and removed."""
    if before is None:
        return []
    edits = []
    for rid, cells in now.items():
        old = before.get(rid)
        if old == cells:
            continue          # the common case, settled by one comparison
        if old is None:
            edits.append(ChangeRecord(rid, "(row)", None, "added", "edit",
                                      "row added in the workbook"))
            continue
        for header, value in cells.items():
            if header in skip_columns:
                continue
            if plain(old.get(header)) != value:
                edits.append(ChangeRecord(rid, header, old.get(header), value, "edit",
                                          "changed in the workbook"))
    for rid in before.keys() - now.keys():
        edits.append(ChangeRecord(rid, "(row)", json.dumps(
            {h: encode_value(v) for h, v in before[rid].items()}, ensure_ascii=False),
            None, "edit", "row removed from the workbook (its last values are in 'before')"))
    return edits
