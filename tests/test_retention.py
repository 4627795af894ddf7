"""Retention as a pure function: years of simulated nightly snapshots, and its invariants."""
import datetime as dt

from hypothesis import given, settings, strategies as st

from audit.retention import PERIODS, Dated, Kept, Retention, prune

UTC = dt.timezone.utc
START = dt.datetime(2024, 1, 1, 2, 0, tzinfo=UTC)


def nightly_for(days: int, policy: Retention) -> list[Dated]:
    """What the store holds after `days` nights of snapshot-then-prune, as the service does."""
    kept: list[Dated] = []
    for day in range(days):
        kept.append(Dated(day, START + dt.timedelta(days=day)))
        decided = prune(kept, policy, UTC)
        kept = [s for s in kept if decided[s.key] is not None]
    return kept


def test_three_years_of_nights_keep_7_daily_4_weekly_12_monthly():
    policy = Retention()
    kept = nightly_for(3 * 365, policy)
    decided = prune(kept, policy, UTC)
    by_rule = {}
    for s in kept:
        by_rule.setdefault(decided[s.key].rule, []).append(s.taken.date())
    assert {r: len(d) for r, d in by_rule.items()} == {"daily": 7, "weekly": 4, "monthly": 12}
    last = START.date() + dt.timedelta(days=3 * 365 - 1)
    assert sorted(by_rule["daily"]) == [last - dt.timedelta(days=n) for n in range(6, -1, -1)]
    # Each weekly one is the last night (Sunday) of an earlier ISO week, each monthly one the
    # last night of an earlier month.
    assert all(d.isoweekday() == 7 for d in by_rule["weekly"])
    assert all((d + dt.timedelta(days=1)).day == 1 for d in by_rule["monthly"])
    assert len({(d.year, d.month) for d in by_rule["monthly"]}) == 12


def test_a_young_store_keeps_its_first_snapshot():
    kept = nightly_for(10, Retention())
    decided = prune(kept, Retention(), UTC)
    assert START in [s.taken for s in kept]
    assert decided[0].rule.endswith("[oldest]")


def test_pinned_snapshots_are_never_pruned():
    snaps = [Dated(n, START + dt.timedelta(hours=n), pinned=(n == 0)) for n in range(48)]
    decided = prune(snaps, Retention(keep_daily=1, keep_weekly=0, keep_monthly=0), UTC)
    assert decided[0] == Kept("pinned", 1)
    assert decided[47] == Kept("daily", 1)
    # daily reached its count with the newest, so it adds no [oldest]: the rest go.
    assert sum(k is not None for k in decided.values()) == 2


times = st.lists(st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1),
                              timezones=st.just(UTC)), min_size=1, max_size=60, unique=True)
policies = st.builds(Retention, st.integers(0, 10), st.integers(0, 6), st.integers(1, 14))


@settings(max_examples=200)
@given(times, policies, st.data())
def test_retention_invariants(stamps, policy, data):
    pins = data.draw(st.sets(st.integers(0, len(stamps) - 1)))
    snaps = [Dated(i, t, i in pins) for i, t in enumerate(stamps)]
    decided = prune(snaps, policy, UTC)
    assert set(decided) == {s.key for s in snaps}
    assert all(decided[i].rule == "pinned" for i in pins)                   # pins always stay
    newest = max(snaps, key=lambda s: s.taken)
    assert decided[newest.key] is not None                                 # the newest stays
    kept = [s for s in snaps if decided[s.key] and decided[s.key].rule != "pinned"]
    assert len(kept) <= policy.keep_daily + policy.keep_weekly + policy.keep_monthly + 3
    for rule in PERIODS:                      # one per period per rule, never two
        periods = [PERIODS[rule](s.taken) for s in kept if decided[s.key].rule == rule]
        assert len(periods) == len(set(periods))
        count = {"daily": policy.keep_daily, "weekly": policy.keep_weekly,
                 "monthly": policy.keep_monthly}[rule]
        assert len(periods) <= count
