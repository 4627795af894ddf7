"""The audit log: every cell change sheetkeeper writes, and every edit a person made, in SQLite.

One row per cell change (UTC time, workbook, sheet, row ID, column, before, after, rule, reason,
batch, actor); one transaction per batch, so a batch is in the log whole or not at all, and can be
undone exactly. Rows are chained: each carries the SHA-256 of its content and of the row before,
so `verify` finds the first row that was altered, removed or inserted afterwards.

The database holds personal data: it is created 0600.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import uuid
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import orjson
from i18n import _

from .errors import AuditError

SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    workbook TEXT NOT NULL,
    sheet TEXT NOT NULL,
    kind TEXT NOT NULL,          -- apply | undo | merge | person | export (no changes: the
                                 -- note says who exported what, where; never the values)
    note TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'written',   -- pending | written | abandoned
    digest_after TEXT NOT NULL DEFAULT ''     -- the workbook's SHA-256 once written
);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    workbook TEXT NOT NULL,
    sheet TEXT NOT NULL,
    row_id TEXT,
    column TEXT NOT NULL,
    before TEXT NOT NULL,        -- JSON, see encode_value
    after TEXT NOT NULL,
    rule TEXT NOT NULL,
    reason TEXT NOT NULL,
    batch TEXT NOT NULL REFERENCES batches(id),
    actor TEXT NOT NULL,         -- sheetkeeper | person
    style_before INTEGER,        -- the cell's style before, where the write changed it
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS changes_by_batch ON changes(batch);
CREATE INDEX IF NOT EXISTS changes_by_row ON changes(workbook, row_id);
CREATE TABLE IF NOT EXISTS chain_head (  -- the last row written: a cut-off tail shows
    one INTEGER PRIMARY KEY CHECK (one = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS holds (   -- values a person restored with undo: not re-normalised
    workbook TEXT NOT NULL,
    row_id TEXT NOT NULL,        -- '' for a row the undo took its ID from: held by value alone
    column TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (workbook, row_id, column, value)
);
CREATE TABLE IF NOT EXISTS kept_pairs (   -- "Keep both": never proposed again
    workbook TEXT NOT NULL,
    first TEXT NOT NULL,
    second TEXT NOT NULL,
    PRIMARY KEY (workbook, first, second)
);
CREATE TABLE IF NOT EXISTS counters (
    workbook TEXT NOT NULL,
    name TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (workbook, name)
);
"""
GENESIS = "0" * 64
ROWS_PER_INSERT = 200
# In a batch's note: written into a workbook open in a spreadsheet program (not saved), and the
# SHA-256 of its file as last saved then, which tells a later read of the file whether the
# person saved it since (awaiting_save).
OPEN_BOOK_MARK = "the file as last saved: sha256 "
FIELDS = ("at", "workbook", "sheet", "row_id", "column", "before", "after", "rule", "reason",
          "batch", "actor", "style_before")


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    workbook: str
    sheet: str
    row_id: str | None
    column: str
    before: Any
    after: Any
    rule: str
    reason: str
    batch: str
    actor: str
    style_before: int | None = None


@dataclass(frozen=True)
class ChangeRecord:
    """One cell change to record: what the sync cycle hands the log."""

    row_id: str | None
    column: str
    before: Any
    after: Any
    rule: str
    reason: str
    style_before: int | None = None
    sheet: str | None = None     # where it is, when not the batch's own sheet (Review, Merged)


def tagged(value: Any) -> Any:
    """A cell value JSON has no type for, as a one-key object that says what it was. Time and
    duration cells are what a spreadsheet makes of "9:30" and "30:00"."""
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"time": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"duration": value.total_seconds()}
    raise TypeError(f"{type(value).__name__} is not a cell value")


def untagged(obj: dict) -> Any:
    if len(obj) == 1:
        if "date" in obj:
            return dt.date.fromisoformat(obj["date"])
        if "datetime" in obj:
            return dt.datetime.fromisoformat(obj["datetime"])
        if "time" in obj:
            return dt.time.fromisoformat(obj["time"])
        if "duration" in obj:
            return dt.timedelta(seconds=obj["duration"])
    return obj


# Cell values as JSON that keeps their type: dates stay dates, numbers stay numbers. Whole
# structures go through one encoder call (C speed), not one call per cell.
dump_values = json.JSONEncoder(ensure_ascii=False, default=tagged).encode
_json_string = json.encoder.encode_basestring     # what that encoder does with a str


def load_values(text: str) -> Any:
    return json.loads(text, object_hook=untagged)


def encode_value(value: Any) -> str:
    # Text, empty and whole numbers are nearly every cell: encoded as json would, without a
    # trip through the encoder object (two a change, tens of thousands a batch).
    kind = type(value)
    if kind is str:
        return _json_string(value)
    if value is None:
        return "null"
    if kind is int:
        return int.__repr__(value)
    return dump_values(value)


def decode_value(text: str) -> Any:
    return load_values(text)


# What a row's hash is taken over: the row as compact JSON, UTF-8. orjson writes exactly the
# bytes json's encoder does for these rows (text, null, integers; a property test holds it to
# that), in a sixth of the time: most of recording a batch of tens of thousands of rows was
# here. json remains for what orjson refuses (an integer past 64 bits).
_chain_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _chain_bytes(row: list[Any]) -> bytes:
    try:
        return orjson.dumps(row)
    except orjson.JSONEncodeError:
        return _chain_json(row).encode("utf-8")


def _row_hash(previous: str, row: Sequence[Any]) -> str:
    return hashlib.sha256(_chain_bytes([previous, *row])).hexdigest()


class AuditLog:
    def __init__(self, path: Path | str, timeout: float = 10.0):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                # Create it private before SQLite opens it: it will hold personal data.
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            self.db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            # A batch of tens of thousands of rows goes into two indexes in row-ID order, not
            # in the order they are stored: with SQLite's default 2 MB of cached pages, each
            # insert soon reads its page again. Up to 64 MiB, used only as the log grows:
            # recording a 38k-row batch in a 10 MB log took 0.9 s, now 0.8.
            self.db.execute("PRAGMA cache_size=-65536")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as e:
            raise AuditError(self._explain(e)) from None
        except OSError as e:
            raise AuditError(_("{path}: cannot open the audit log ({strerror}); check the data "
                               "folder's permissions and free space",
                               path=self.path, strerror=e.strerror)) from None

    def _explain(self, e: sqlite3.Error) -> str:
        text = str(e)
        if "locked" in text or "busy" in text:
            return (_("{path}: the audit log is locked by another process; nothing was written. "
                      "Try again in a moment, or stop the other sheetkeeper", path=self.path))
        if "not a database" in text or "malformed" in text:
            return (_("{path}: the audit log is damaged ({text}); nothing was written. Restore "
                      "it from a backup, or move it aside to start a new one",
                      path=self.path, text=text))
        if "full" in text:
            return _("{path}: the disk is full; nothing was written. Free some space",
                     path=self.path)
        return _("{path}: the audit log failed ({text}); nothing was written",
                 path=self.path, text=text)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "AuditLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------

    def record(self, workbook: str, sheet: str, changes: Iterable[ChangeRecord], kind: str,
               actor: str = "sheetkeeper", note: str = "",
               counters: dict[str, int] | None = None, status: str = "written",
               digest_after: str | Callable[[], str] = "") -> str:
        """Record one batch in one transaction; returns its id. `counters` (e.g. the highest
        ID issued) are raised in the same transaction, so they never run ahead of the log.
        A batch about to be written is recorded `pending` with the digest the workbook will
        have; `settle` marks it written or abandoned. `digest_after` may be a function, called
        last, just before the commit: the new workbook is made while its batch is recorded.
        Whatever it raises rolls the batch back."""
        batch = uuid.uuid4().hex[:12]
        at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                previous = self.head()[1]
                self.db.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                (batch, at, workbook, sheet, kind, note, status,
                                 "" if callable(digest_after) else digest_after))
                rows = []
                for c in changes:
                    row = (at, workbook, c.sheet or sheet, c.row_id, c.column,
                           encode_value(c.before),
                           encode_value(c.after), c.rule, c.reason, batch, actor, c.style_before)
                    previous = _row_hash(previous, row)
                    rows.append((*row, previous))
                self._insert_changes(rows)
                if rows:
                    seq = self.db.execute("SELECT max(seq) FROM changes").fetchone()[0]
                    self.db.execute("INSERT OR REPLACE INTO chain_head VALUES (1, ?, ?)",
                                    (seq, previous))
                for name, value in (counters or {}).items():
                    self.db.execute(
                        "INSERT INTO counters VALUES (?, ?, ?) ON CONFLICT(workbook, name) "
                        "DO UPDATE SET value = max(value, excluded.value)",
                        (workbook, name, value))
                if callable(digest_after):
                    self.db.execute("UPDATE batches SET digest_after = ? WHERE id = ?",
                                    (digest_after(), batch))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise AuditError(self._explain(e)) from None
        return batch

    def _insert_changes(self, rows: list[tuple[Any, ...]]) -> None:
        """`rows` (fields and hash), in order: many to a statement. Executing a statement costs
        as much again as storing its row; a batch of tens of thousands of rows went from 0.46
        to 0.31 s. Within a statement, as across them, rows take their seq in order."""
        one = f"({', '.join('?' * (len(FIELDS) + 1))})"
        sql = f"INSERT INTO changes ({', '.join(FIELDS)}, hash) VALUES "
        limit = self.db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        per = max(1, min(ROWS_PER_INSERT, limit // (len(FIELDS) + 1)))
        whole = len(rows) - len(rows) % per
        if whole:
            self.db.executemany(sql + ", ".join([one] * per),
                                [tuple(chain.from_iterable(rows[k:k + per]))
                                 for k in range(0, whole, per)])
        if whole < len(rows):
            self.db.execute(sql + ", ".join([one] * (len(rows) - whole)),
                            tuple(chain.from_iterable(rows[whole:])))

    def settle(self, batch: str, status: str) -> None:
        try:
            self.db.execute("UPDATE batches SET status = ? WHERE id = ?", (status, batch))
        except sqlite3.Error as e:
            raise AuditError(self._explain(e)) from None

    def settle_pending(self, workbook: str, current_digest: str) -> list[tuple[str, str]]:
        """After a crash between write and settle: a pending batch whose digest the workbook
        now has was written; any other was not. Returns (batch, status) for each settled."""
        settled = []
        for batch, digest in self.db.execute(
                "SELECT id, digest_after FROM batches WHERE workbook = ? AND status = 'pending'",
                (workbook,)).fetchall():
            status = "written" if digest == current_digest else "abandoned"
            self.settle(batch, status)
            settled.append((batch, status))
        return settled

    def pending(self, workbook: str) -> list[str]:
        """Batches of `workbook` recorded as about to be written and never settled."""
        return [b for (b,) in self.db.execute(
            "SELECT id FROM batches WHERE workbook = ? AND status = 'pending' ORDER BY rowid",
            (workbook,))]

    def hold(self, workbook: str, cells: Iterable[tuple[str | None, str, Any]]) -> None:
        """Remember (row ID, column, value) cells an undo restored: the rules leave them be.
        A row ID of None holds the value in that column in any row without an ID."""
        rows = [(workbook, r or "", c, encode_value(v)) for r, c, v in cells]
        try:
            # One transaction: in autocommit each row is a transaction of its own, synced to
            # disk (an undo of 60k cells took a minute here).
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.executemany("INSERT OR REPLACE INTO holds VALUES (?, ?, ?, ?)", rows)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.Error as e:
            raise AuditError(self._explain(e)) from None

    def holds(self, workbook: str) -> set[tuple[str, str, str]]:
        """(row ID or '', column, value as encode_value writes it)."""
        return set(self.db.execute(
            "SELECT row_id, column, value FROM holds WHERE workbook = ?", (workbook,)))

    def keep_pairs(self, workbook: str, pairs: Iterable[tuple[str, str]]) -> None:
        try:
            self.db.executemany("INSERT OR IGNORE INTO kept_pairs VALUES (?, ?, ?)",
                                [(workbook, *sorted(p)) for p in pairs])
        except sqlite3.Error as e:
            raise AuditError(self._explain(e)) from None

    def kept_pairs(self, workbook: str) -> frozenset[frozenset[str]]:
        return frozenset(frozenset(p) for p in self.db.execute(
            "SELECT first, second FROM kept_pairs WHERE workbook = ?", (workbook,)))

    def counter(self, workbook: str, name: str) -> int:
        row = self.db.execute("SELECT value FROM counters WHERE workbook = ? AND name = ?",
                              (workbook, name)).fetchone()
        return row[0] if row else 0

    # -- reading ---------------------------------------------------------------------------

    def entries(self, workbook: str | None = None, since: str | None = None,
                row_id: str | None = None, column: str | None = None,
                batch: str | None = None, abandoned: bool = True,
                newer_than: int | None = None, written: bool = False) -> Iterator[AuditEntry]:
        """The log's rows, oldest first. `abandoned=False` leaves out batches that never
        reached the workbook (a crash or a refused write between recording and replacing);
        `written=True` keeps only batches known to have reached it (not pending either).
        `newer_than`: only rows with a greater seq (see `head`)."""
        where, args = [], []
        if not abandoned:
            where.append("batch NOT IN (SELECT id FROM batches WHERE status = 'abandoned')")
        # After a seq, the rows are the few newest: found by seq, not through an index of a
        # workbook's or a batch's rows ("+" keeps SQLite from choosing one).
        plus = "+" if newer_than is not None else ""
        if written:
            where.append(f"{plus}batch IN (SELECT id FROM batches WHERE status = 'written')")
        for clause, value in (("seq > ?", newer_than), (f"{plus}workbook = ?", workbook),
                              ("at >= ?", since),
                              ("row_id = ?", row_id), ("column = ?", column),
                              ("batch = ?", batch)):
            if value is not None:
                where.append(clause)
                args.append(value)
        sql = f"SELECT seq, {', '.join(FIELDS)} FROM changes"
        if where:
            sql += " WHERE " + " AND ".join(where)
        try:
            for row in self.db.execute(sql + " ORDER BY seq", args):
                seq, at, wb, sheet, rid, col, before, after, rule, reason, b, actor, style = row
                yield AuditEntry(seq, at, wb, sheet, rid, col, decode_value(before),
                                 decode_value(after), rule, reason, b, actor, style)
        except sqlite3.Error as e:
            raise AuditError(self._explain(e)) from None

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the newest row ((0, GENESIS) for an empty log): what a state that has
        taken in everything logged so far remembers, so that `entries(newer_than=seq)` gives
        what came after it, and `has` tells whether this is still the log it was taken from."""
        try:
            row = self.db.execute(
                "SELECT seq, hash FROM changes ORDER BY seq DESC LIMIT 1").fetchone()
        except sqlite3.Error as e:
            raise AuditError(self._explain(e)) from None
        return (row[0], row[1]) if row else (0, GENESIS)

    def has(self, seq: int, hash_: str) -> bool:
        """Whether row `seq` is in the log with that hash (seq 0: the start of any log). Each
        hash is chained to every row before it, so a log set aside and started anew, even one
        grown as long since, does not have it."""
        if seq == 0:
            return True
        try:
            row = self.db.execute("SELECT hash FROM changes WHERE seq = ?", (seq,)).fetchone()
        except sqlite3.Error as e:
            raise AuditError(self._explain(e)) from None
        return row is not None and row[0] == hash_

    def last_batch(self, workbook: str) -> str | None:
        """The newest batch written to `workbook`: what a snapshot of it follows. Not one
        written into the workbook open in a spreadsheet program and not yet saved into its
        file (awaiting_save), which a snapshot of the file does not hold."""
        unsaved = {batch for batch, _ in self.awaiting_save(workbook)}
        rows = self.db.execute("SELECT id FROM batches WHERE workbook = ? AND status = 'written' "
                               "AND kind NOT IN ('export', 'saved') "   # they wrote nothing
                               "ORDER BY at DESC, rowid DESC", (workbook,))
        return next((batch for (batch,) in rows if batch not in unsaved), None)

    def exports(self, workbook: str | None = None) -> list[tuple[str, str, str, str]]:
        """(batch, at, workbook, note) of every export recorded, oldest first."""
        where, args = "kind = 'export'", []
        if workbook is not None:
            where += " AND workbook = ?"
            args.append(workbook)
        try:
            return self.db.execute(f"SELECT id, at, workbook, note FROM batches WHERE {where} "
                                   "ORDER BY at, rowid", args).fetchall()
        except sqlite3.Error as e:
            raise AuditError(self._explain(e)) from None

    def awaiting_save(self, workbook: str) -> list[tuple[str, str]]:
        """(batch, note) of the batches written into `workbook` while it was open in a
        spreadsheet program that nothing has yet said were saved into its file or discarded
        with the open book, oldest first: a batch whose note holds OPEN_BOOK_MARK, for which
        no batch since has a note beginning "saved: <id>" or "not saved: <id>"."""
        try:
            return self.db.execute(
                "SELECT id, note FROM batches AS b WHERE workbook = ? AND status = 'written' "
                "AND instr(note, ?) > 0 AND NOT EXISTS (SELECT 1 FROM batches AS r WHERE "
                "r.workbook = b.workbook AND (r.note LIKE 'saved: ' || b.id || '%' OR "
                "r.note LIKE 'not saved: ' || b.id || '%')) ORDER BY rowid",
                (workbook, OPEN_BOOK_MARK)).fetchall()
        except sqlite3.Error as e:
            raise AuditError(self._explain(e)) from None

    def notes(self, workbook: str | None = None) -> dict[str, str]:
        """Batch -> its note, for every batch with one (of `workbook`, where named)."""
        where, args = "note != ''", []
        if workbook is not None:
            where += " AND workbook = ?"
            args.append(workbook)
        try:
            return dict(self.db.execute(f"SELECT id, note FROM batches WHERE {where}", args))
        except sqlite3.Error as e:
            raise AuditError(self._explain(e)) from None

    def batch_digest(self, batch: str) -> str:
        """The digest the target was to have once `batch` was written ("" where unknown)."""
        row = self.db.execute("SELECT digest_after FROM batches WHERE id = ?",
                              (batch,)).fetchone()
        return row[0] if row else ""

    def batch_info(self, batch: str) -> tuple[str, str, str, str, str] | None:
        """(workbook, sheet, kind, at, status) of a batch, or None."""
        return self.db.execute(
            "SELECT workbook, sheet, kind, at, status FROM batches WHERE id = ?",
            (batch,)).fetchone()

    def verify(self) -> int | None:
        """The seq of the first row whose chain does not hold (for rows cut off the end: the
        first missing seq), or None when all is intact."""
        previous, expected_seq = GENESIS, None
        try:
            head = self.db.execute("SELECT seq, hash FROM chain_head").fetchone()
            rows = self.db.execute(f"SELECT seq, {', '.join(FIELDS)}, hash FROM changes "
                                   "ORDER BY seq")
            for seq, *fields, stored in rows:
                if expected_seq is not None and seq != expected_seq:
                    return expected_seq          # a row was removed
                previous = _row_hash(previous, fields)
                if previous != stored:
                    return seq
                expected_seq = seq + 1
        except sqlite3.Error as e:
            raise AuditError(self._explain(e)) from None
        if head and (expected_seq is None or head[0] != expected_seq - 1 or head[1] != previous):
            return (expected_seq or 1) if (expected_seq or 1) <= head[0] else head[0]
        return None
