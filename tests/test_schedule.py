"""The daemon's timing, driven by a clock the test holds: debounce, backoff, nightly."""
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from service.schedule import Schedule, next_nightly, snapshot_overdue

BOOK = Path("/w/customers.xlsx")


def test_each_event_pushes_the_cycle_to_debounce_after_the_last():
    s = Schedule(debounce=0.5, retry_max=60)
    s.add(BOOK, now=10.0)
    assert s.next_due() == 10.5
    s.touched(BOOK, now=10.3)             # the rename after the temp file
    assert s.due(10.6) == [] and s.next_due() == 10.8
    assert [b.path for b in s.due(10.8)] == [BOOK]
    s.succeeded(BOOK)
    assert s.next_due() is None


def test_failures_back_off_exponentially_up_to_the_cap_and_success_clears_them():
    s = Schedule(debounce=0.1, retry_max=30)
    s.add(BOOK, now=0.0)
    waits = [s.failed(BOOK, now=0.0) for _ in range(12)]
    assert all(1 <= w <= 30 for w in waits)     # never a retry at once
    assert max(waits[8:]) > max(waits[:2])   # grows (random jitter, exponential bound)
    s.touched(BOOK, now=1.0)                 # an edit does not cut a failing workbook's wait short
    assert s.books[BOOK].due != 1.1
    s.succeeded(BOOK)
    assert s.books[BOOK].failures == 0 and s.next_due() is None


def test_nightly_is_strictly_after_now_in_local_wall_time():
    london = ZoneInfo("Europe/London")
    at = dt.time(2, 0)
    assert next_nightly(dt.datetime(2026, 11, 23, 1, 59, tzinfo=london), at) == \
        dt.datetime(2026, 11, 23, 2, 0, tzinfo=london)
    assert next_nightly(dt.datetime(2026, 11, 23, 2, 0, tzinfo=london), at) == \
        dt.datetime(2026, 11, 24, 2, 0, tzinfo=london)
    # 2026-03-29 01:00 → 02:00 in London: 02:00 never happens; the run moves on by the gap.
    spring = next_nightly(dt.datetime(2026, 3, 28, 23, 0, tzinfo=london), dt.time(1, 30))
    assert spring.astimezone(dt.timezone.utc) == dt.datetime(2026, 3, 29, 1, 30,
                                                             tzinfo=dt.timezone.utc)


def test_catch_up_when_the_newest_snapshot_is_over_a_day_old():
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
    assert snapshot_overdue(None, now)
    assert snapshot_overdue(now - dt.timedelta(days=1, minutes=1), now)
    assert not snapshot_overdue(now - dt.timedelta(hours=23), now)


def test_a_finished_save_is_due_at_once_and_a_later_event_still_waits_for_quiet():
    s = Schedule(debounce=0.5, retry_max=60)
    s.add(BOOK, now=10.0)
    s.succeeded(BOOK)
    s.touched(BOOK, now=20.0, saved=True)      # a file moved onto the workbook: the save is over
    assert [b.path for b in s.due(20.0)] == [BOOK] and s.books[BOOK].saved
    s.touched(BOOK, now=20.1)                  # then written in place: wait for it to end
    assert s.due(20.1) == [] and s.next_due() == 20.6 and not s.books[BOOK].saved


def test_a_finished_save_does_not_cut_a_failing_workbooks_wait_short():
    s = Schedule(debounce=0.5, retry_max=60)
    s.add(BOOK, now=0.0)
    wait = s.failed(BOOK, now=0.0)
    s.touched(BOOK, now=0.1, saved=True)
    assert s.books[BOOK].due == wait
