"""Work handed to a forked child gives exactly what it gives here, and nothing is lost when the
child cannot do it."""
import datetime as dt
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor

import pytest

from sync import evaluate, forked
from sync.forked import Beside
from sync.plan import RuleSettings, plan_table
from sync.xlsx.read import read_table
from tests.conftest import CRM_EN, crm_row, write_table

# Windows (and the Windows mode, tests/windows_mode) has no fork: there forked.py does the work
# in this process, which test_without_fork_the_work_is_done_here holds it to.
needs_fork = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                                reason="no fork on this platform: the work is done in-process")


def where(tag):
    return tag, os.getpid()


@needs_fork
def test_work_is_done_by_a_child_when_it_pays(monkeypatch):
    monkeypatch.setattr(forked, "PARALLEL_FROM_ROWS", 10)
    with Beside(where, "big", pays=forked.fork_pays(10)) as big:
        here = where("here")
    assert big.result() == ("big", big.result()[1]) and big.result()[1] != os.getpid()
    with Beside(where, "small", pays=forked.fork_pays(9)) as small:
        pass
    assert small.result() == ("small", os.getpid())        # not worth a fork: done here
    assert here[1] == os.getpid()


def test_no_child_while_other_threads_run(monkeypatch):
    monkeypatch.setattr(forked, "PARALLEL_FROM_ROWS", 10)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not forked.fork_pays(300)
        with Beside(where, "x", pays=forked.fork_pays(300)) as work:
            assert work.result()[1] == os.getpid()
    finally:
        stop.set()
        thread.join()


@needs_fork
def test_an_error_in_the_child_is_raised_here():
    def fails():
        raise ValueError("bad value in row 7")

    with Beside(fails, pays=True) as work:
        with pytest.raises(ValueError, match="row 7"):
            work.result()


@needs_fork
def test_a_child_that_dies_leaves_the_work_to_be_done_here():
    parent = os.getpid()

    def killed_in_child(n):
        if os.getpid() != parent:
            os._exit(9)          # as if the kernel killed it for memory
        return n * 2

    with Beside(killed_in_child, 21, pays=True) as work:
        assert work.result() == 42


MESSY = [crm_row(name=name, phone=phone, email=email, company=company, member_since=since)
         for n in range(40)
         for name, phone, email, company, since in [
             (f"ANN LEE{n}", f"138 0013 {n:04d}", f"ann{n}@Example.com", "Acme", "2024/3/5"),
             (f"Ann Lee{n}", f"+86 138 0013 {n:04d}", None, "ACME", "5.3.2024"),
             (f"bob stone{n}", "123", f"bob{n}@", None, "soon")]]


@needs_fork
def test_a_plan_made_with_a_child_equals_one_made_alone(tmp_path, monkeypatch):
    """Both halves of the cell rules and the duplicate search run in children here."""
    path = write_table(tmp_path / "c.xlsx", CRM_EN, MESSY)
    settings = RuleSettings(today=dt.date(2026, 11, 23), phone_region="CN")
    monkeypatch.setattr(forked, "PARALLEL_FROM_ROWS", 10**9)
    monkeypatch.setattr(evaluate, "PARALLEL_FROM_CELLS", 10**9)
    alone = plan_table(read_table(path), settings)
    monkeypatch.setattr(forked, "PARALLEL_FROM_ROWS", 10)
    monkeypatch.setattr(evaluate, "PARALLEL_FROM_CELLS", 10)
    monkeypatch.setattr(forked, "ProcessPoolExecutor", CountedPool)
    CountedPool.made = 0
    shared = plan_table(read_table(path), settings)
    assert CountedPool.made == 2
    assert (shared.changes, shared.findings, shared.duplicates) == \
        (alone.changes, alone.findings, alone.duplicates)
    assert alone.changes and alone.findings and alone.duplicates


class CountedPool(ProcessPoolExecutor):
    made = 0

    def __init__(self, *args, **kwargs):
        CountedPool.made += 1
        super().__init__(*args, **kwargs)


def test_without_fork_the_work_is_done_here(monkeypatch):
    """Where the platform has no fork (Windows), a big piece of work never asks for a child."""
    monkeypatch.setattr(forked, "PARALLEL_FROM_ROWS", 10)
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert not forked.fork_pays(10**6)
    with Beside(where, "big", pays=forked.fork_pays(10**6)) as big:
        assert big.result() == ("big", os.getpid())


def test_no_child_on_macos(monkeypatch):
    """macOS has fork, but its system libraries' threads make a forked copy unsafe."""
    from audit import os_family
    monkeypatch.setattr(forked, "PARALLEL_FROM_ROWS", 10)
    monkeypatch.setattr(os_family, "PRETEND", "macos")
    assert not forked.fork_pays(10**6)
