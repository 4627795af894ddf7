"""The audit log against a real SQLite file."""
import os
import sqlite3
import stat

import pytest
from hypothesis import given, settings, strategies as st

from audit.log import (ROWS_PER_INSERT, AuditError, AuditLog, ChangeRecord, decode_value,
                       encode_value)


def change(n, before="a", after="b"):
    return ChangeRecord(f"C-{n:06d}", "Phone", before, after, "phone", "written as E.164")


@pytest.fixture
def log(tmp_path):
    with AuditLog(tmp_path / "data" / "audit.sqlite3") as log:
        yield log


@pytest.mark.parametrize("size", [1, ROWS_PER_INSERT - 1, ROWS_PER_INSERT,
                                  2 * ROWS_PER_INSERT + 7])
def test_a_batch_is_stored_in_the_order_given_however_many_to_a_statement(log, size):
    """Rows go in many to an INSERT: each still takes its seq in the order given, and the
    chain over them holds, across statements and within one."""
    log.record("c.xlsx", "Customers", [change(1)], "apply")
    batch = log.record("c.xlsx", "Customers", [change(n, after=str(n)) for n in range(size)],
                       "apply")
    entries = list(log.entries(batch=batch))
    assert [e.after for e in entries] == [str(n) for n in range(size)]
    assert [e.seq for e in entries] == list(range(2, 2 + size))
    assert log.verify() is None and log.head()[0] == 1 + size


def test_batches_are_recorded_and_queried(log):
    first = log.record("c.xlsx", "Customers", [change(1), change(2)], "apply")
    second = log.record("c.xlsx", "Customers", [change(1, "b", "c")], "apply")
    other = log.record("m.xlsx", "Members", [change(9)], "apply")
    assert len({first, second, other}) == 3
    assert [e.after for e in log.entries(row_id="C-000001")] == ["b", "c"]
    assert [e.row_id for e in log.entries(batch=first)] == ["C-000001", "C-000002"]
    assert [e.workbook for e in log.entries(workbook="m.xlsx")] == ["m.xlsx"]
    assert all(e.actor == "sheetkeeper" for e in log.entries())
    assert log.batch_info(first)[:3] == ("c.xlsx", "Customers", "apply")
    assert log.verify() is None


def test_file_is_private(log):
    assert stat.S_IMODE(os.stat(log.path).st_mode) == 0o600


def test_counters_only_rise(log):
    log.record("c.xlsx", "Customers", [], "apply", counters={"ids_issued": 12})
    log.record("c.xlsx", "Customers", [], "apply", counters={"ids_issued": 7})
    assert log.counter("c.xlsx", "ids_issued") == 12
    assert log.counter("other.xlsx", "ids_issued") == 0


@settings(max_examples=60)
@given(st.one_of(st.none(), st.text(max_size=30), st.integers(), st.floats(allow_nan=False),
                 st.dates(), st.datetimes()))
def test_values_keep_their_type(value):
    assert decode_value(encode_value(value)) == value
    assert type(decode_value(encode_value(value))) is type(value)


def tamper(path, sql, *args):
    db = sqlite3.connect(path)
    db.execute(sql, args)
    db.commit()
    db.close()


def test_verify_names_the_first_altered_row(log):
    for n in range(1, 6):
        log.record("c.xlsx", "Customers", [change(n)], "apply")
    tamper(log.path, "UPDATE changes SET after = '\"x\"' WHERE seq = 3")
    assert log.verify() == 3


def test_verify_finds_a_removed_row(log):
    for n in range(1, 6):
        log.record("c.xlsx", "Customers", [change(n)], "apply")
    tamper(log.path, "DELETE FROM changes WHERE seq = 2")
    assert log.verify() == 2


def test_verify_finds_a_cut_off_tail(log):
    for n in range(1, 6):
        log.record("c.xlsx", "Customers", [change(n)], "apply")
    tamper(log.path, "DELETE FROM changes WHERE seq >= 4")
    assert log.verify() == 4


def test_a_locked_log_says_so_and_writes_nothing(tmp_path):
    path = tmp_path / "audit.sqlite3"
    with AuditLog(path, timeout=0.2) as log:
        log.record("c.xlsx", "Customers", [change(1)], "apply")
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(AuditError, match="locked by another process"):
                log.record("c.xlsx", "Customers", [change(2)], "apply")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert [e.row_id for e in log.entries()] == ["C-000001"]
        assert log.verify() is None


def test_a_corrupt_log_is_refused_clearly(tmp_path):
    path = tmp_path / "audit.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(AuditError, match="damaged"):
        AuditLog(path)
    assert path.read_bytes() == b"this is not a database" * 100


def test_a_failed_batch_leaves_no_rows(log):
    class Boom(Exception):
        pass

    def changes():
        yield change(1)
        raise Boom

    with pytest.raises(Boom):
        log.record("c.xlsx", "Customers", changes(), "apply")
    assert list(log.entries()) == []
    assert log.verify() is None
    log.record("c.xlsx", "Customers", [change(2)], "apply")
    assert log.verify() is None
