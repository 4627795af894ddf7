"""Python's cycle collector is paused while a cycle or a check works, and back after."""
import gc

import pytest

from sync import check, collector, cycle
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
        cycle.apply_workbook(path, SETTINGS)
    else:
        check.check_workbook(path, SETTINGS)
    assert seen == [False] and gc.isenabled()


def test_the_collector_is_back_when_a_cycle_fails(tmp_path):
    path = tmp_path / "c.xlsx"
    path.write_bytes(b"PK\x03\x04 not a whole workbook")
    with pytest.raises(SheetkeeperError):
        cycle.apply_workbook(path, SETTINGS)
    assert gc.isenabled()
