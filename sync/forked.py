"""Pure work done by a forked child while this process does the rest: the second core.

Python runs one thread at a time, so planning a big table uses one core unless a second
process takes part of the work. A forked child inherits the work and its inputs from memory
(nothing big is pickled) and sends back only the result. Fork is used only where it is safe
and pays: a big table, more than one core, no other thread in this process (a forked copy
of a threaded process can deadlock), and not on Windows (no fork) or macOS (its libraries'
threads). Otherwise the work is done here, at once.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Generic, TypeVar

from audit.os_family import family

PARALLEL_FROM_ROWS = 20_000

T = TypeVar("T")
_UNSET = object()

# The work handed to a child, by key: the child finds it in the memory it forked with.
_HANDED: dict[int, tuple[Callable[..., Any], tuple, dict]] = {}


def fork_pays(amount: int, enough: int | None = None) -> bool:
    """Whether work of `amount` (rows, or whatever `enough` counts) is worth a child, and a
    fork is safe here."""
    return (amount >= (PARALLEL_FROM_ROWS if enough is None else enough)
            and (os.cpu_count() or 1) > 1
            and threading.active_count() == 1
            and "fork" in multiprocessing.get_all_start_methods()
            # macOS's own libraries may start threads this process cannot see, and a forked
            # copy of them can crash (CPython made spawn macOS's default for that, in 3.8)
            and family() != "macos")


class Beside(Generic[T]):
    """`fn(*args, **kwargs)`, computed by a forked child while the caller goes on where that
    `pays` (the caller asks fork_pays), otherwise computed here and now. `fn` must be pure (a
    child's changes stay in the child), and the caller must leave its inputs as they are until
    `result()` (if the child dies, the work is done again here, from them). Use as a context
    manager, so the child is waited for even if the caller fails first."""

    def __init__(self, fn: Callable[..., T], *args: Any, pays: bool, **kwargs: Any):
        self._pool: ProcessPoolExecutor | None = None
        self._call = (fn, args, kwargs)
        self._value: Any = _UNSET
        if not pays:
            self._value = fn(*args, **kwargs)
            return
        self._key = id(self)
        _HANDED[self._key] = self._call
        # A fork-context pool forks its worker within submit, before it starts its own thread.
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
        self._future = self._pool.submit(_handed, self._key)

    def result(self) -> T:
        if self._value is _UNSET:
            try:
                self._value = self._future.result()
            except BrokenProcessPool:
                # The child died (most likely killed for memory): the work is done here.
                fn, args, kwargs = self._call
                self._value = fn(*args, **kwargs)
            finally:
                self.close()
        return self._value

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
            _HANDED.pop(self._key, None)

    def __enter__(self) -> "Beside[T]":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _handed(key: int) -> Any:
    fn, args, kwargs = _HANDED[key]
    return fn(*args, **kwargs)
