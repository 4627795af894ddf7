"""The xlwings double (tests/excel_double.py) against the installed xlwings: every member the
double offers exists on the real class with a compatible signature, so what sync/excel/ is
tested against cannot drift from what it will call on Windows and macOS. (Nothing here can run
the real classes against Excel: on Linux xlwings imports but cannot reach one.)"""
from __future__ import annotations

import inspect

import pytest
import xlwings
import xlwings.main as real

from tests import excel_double as double

CLASSES = ["Apps", "App", "Books", "Book", "Sheets", "Sheet", "Range"]
DUNDERS = ("__iter__", "__len__", "__getitem__", "__call__")


def offered(cls) -> dict:
    return {n: v for n, v in vars(cls).items() if not n.startswith("_") or n in DUNDERS}


def shape(sig: inspect.Signature) -> list[tuple[str, object, bool]]:
    """What a call binds against: names, kinds and which have defaults (not annotations)."""
    return [(p.name, p.kind, p.default is not inspect.Parameter.empty)
            for p in sig.parameters.values()]


@pytest.mark.parametrize("name", CLASSES)
def test_every_member_of_the_double_is_in_xlwings_with_a_compatible_signature(name):
    mine, theirs = getattr(double, name), getattr(real, name)
    assert offered(mine), name
    for member, value in offered(mine).items():
        assert hasattr(theirs, member), f"xlwings.{name} has no {member}"
        there = inspect.getattr_static(theirs, member)
        if isinstance(value, property):
            assert isinstance(there, property), f"xlwings.{name}.{member} is not a property"
            if value.fset is not None:
                assert there.fset is not None, f"xlwings.{name}.{member} cannot be set"
        else:
            assert callable(there), f"xlwings.{name}.{member}"
            assert shape(inspect.signature(value)) == shape(inspect.signature(there)), \
                f"{name}.{member}: {inspect.signature(value)} vs {inspect.signature(there)}"


def test_the_options_the_target_reads_with_are_xlwings_options():
    """`options(ndim=2, empty=None, err_to_str=True)`: keywords xlwings' converters know
    (a misspelt one would be ignored silently by the double, and by xlwings)."""
    import xlwings.conversion.standard as standard
    from sync.excel.target import READ
    source = inspect.getsource(standard)
    for key in READ:
        assert f'options.get("{key}"' in source or f"options.get('{key}'" in source, key


def test_the_check_would_catch_a_member_xlwings_lacks():
    class Range(double.Range):
        def paste_values(self, where):      # not an xlwings member
            pass
    assert not hasattr(real.Range, "paste_values")


def test_on_this_machine_xlwings_cannot_reach_excel():
    """Linux: xlwings imports, but its interactive mode needs Windows or macOS with Excel; the
    target finds nothing to attach to, and the caller waits for the workbook as before."""
    from sync.excel.session import running_apps
    with pytest.raises(Exception):
        list(xlwings.apps)
    assert running_apps() == []
