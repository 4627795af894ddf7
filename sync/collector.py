"""Python's cycle collector, paused while a cycle does its bulk work.

The collector walks every live container each time enough new ones have been made, and a cycle
on a 100k-row list makes millions (rows, cells, changes, audit rows), none of them garbage:
those walks took 1.6 s of a 13 s `apply`, and as long again of a `check`. Paused, reference
counting still frees everything as usual; only garbage in reference cycles waits, and the
cycles' own objects make little of that (peak memory of the 100k `apply` rose by 13 MB).

Turned back on as it was, the collector would find every container made during the pause in
its youngest generation, and walk all of them (a third of a second at 100k rows) at the first
allocation after: while the cycle's results are still alive, to free nothing. So what is alive
when a pause ends is frozen first: moved out of the collector's sight, in constant time. A
command then just ends; a service calls `tidy` when it is idle, by which time a cycle's bulk is
gone, to give the rest back to the collector and collect the garbage among it.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused() -> Iterator[None]:
    """The cycle collector off inside, and back as it was after (a pause within a pause
    leaves it to the outer one)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.freeze()
            gc.enable()


def tidy() -> None:
    """What past pauses froze, given back to the collector, and its garbage collected: for a
    long-running process, between cycles."""
    if gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()
