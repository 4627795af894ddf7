"""Python's cycle collector is paused while a cycle or a check works, and back after."""
import gc

import pytest

from sync import check, collector, cycle
from sync.xlsx.target import WorkbookTarget, apply_workbook
from sync.errors import SheetkeeperError
from sync.plan import RuleSettings
from tests.conftest import CRM_EN, TODAY, crm_row, write_table

SETTINGS = RuleSettings(today=TODAY)


def test_paused_inside_and_as_it_was_after():
    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()          # the inner pause leaves it to the outer one
    assert gc.isenabled()
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()          # off before: left off
    finally:
        gc.enable()


@pytest.mark.parametrize("run", ["apply", "check"])
def test_a_cycle_plans_with_the_collector_paused_and_leaves_it_on(tmp_path, monkeypatch, run):
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [crm_row(name="ANN LEE")])
    seen = []
    module = cycle if run == "apply" else check
    real = module.plan_table

    def planning(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "plan_table", planning)
    if run == "apply":
        apply_workbook(path, SETTINGS)
    else:
        check.check_target(WorkbookTarget(path), SETTINGS)
    assert seen == [False] and gc.isenabled()


def test_the_collector_is_back_when_a_cycle_fails(tmp_path):
    path = tmp_path / "c.xlsx"
    path.write_bytes(b"PK\x03\x04 not a whole workbook")
    with pytest.raises(SheetkeeperError):
        apply_workbook(path, SETTINGS)
    assert gc.isenabled()


class _Node:
    pass


def test_what_a_pause_leaves_is_not_walked_at_once_yet_its_garbage_is_collected_later():
    import weakref
    with collector.paused():
        survivors = [[k] for k in range(50_000)]      # a cycle's results, alive after it
        garbage = _Node()
        garbage.itself = garbage                      # a reference cycle, dropped inside
        gone = weakref.ref(garbage)
        del garbage
    # The survivors are out of the young generation: the next allocations do not make the
    # collector walk them.
    assert gc.get_count()[0] < 1_000
    assert gc.get_freeze_count() >= len(survivors)
    gc.collect()
    assert gone() is not None           # frozen with the rest, so far
    collector.tidy()
    assert gone() is None               # handed back to the collector, and collected
    assert gc.get_freeze_count() == 0
    del survivors
