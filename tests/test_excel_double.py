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


def drift(mine, theirs) -> list[str]:
    """Where the double's class `mine` offers what xlwings' `theirs` does not, or otherwise."""
    out = []
    for member, value in offered(mine).items():
        if not hasattr(theirs, member):
            out.append(f"no {member}")
            continue
        there = inspect.getattr_static(theirs, member)
        if isinstance(value, property):
            if not isinstance(there, property):
                out.append(f"{member} is not a property")
            elif value.fset is not None and there.fset is None:
                out.append(f"{member} cannot be set")
        elif not callable(there):
            out.append(f"{member} is not callable")
        elif shape(inspect.signature(value)) != shape(inspect.signature(there)):
            out.append(f"{member}{inspect.signature(value)} vs {inspect.signature(there)}")
    return out


@pytest.mark.parametrize("name", CLASSES)
def test_every_member_of_the_double_is_in_xlwings_with_a_compatible_signature(name):
    mine, theirs = getattr(double, name), getattr(real, name)
    assert offered(mine), name
    assert drift(mine, theirs) == [], name


def test_the_options_the_target_reads_with_are_xlwings_options():
    """`options(ndim=2, empty=None, err_to_str=True)`: keywords xlwings' converters know
    (a misspelt one would be ignored silently by the double, and by xlwings)."""
    import xlwings.conversion.standard as standard
    from sync.excel.target import READ
    source = inspect.getsource(standard)
    for key in READ:
        assert f'options.get("{key}"' in source or f"options.get('{key}'" in source, key


def test_the_check_would_catch_a_double_that_drifted():
    class Range(double.Range):
        def paste_values(self, where):                  # not an xlwings member
            pass

        def options(self, convert=None, ndim=2):        # a keyword xlwings does not take
            pass

        @property
        def shape(self):
            return (1, 1)

        @shape.setter                                   # xlwings' shape cannot be set
        def shape(self, value):
            pass
    assert sorted(drift(Range, real.Range)) == [
        "no paste_values", "options(self, convert=None, ndim=2) vs (self, convert: 'Any' = "
        "None, **options: 'Any') -> 'Range'", "shape cannot be set"]


def test_on_this_machine_xlwings_cannot_reach_excel():
    """Linux: xlwings imports, but its interactive mode needs Windows or macOS with Excel; the
    target finds nothing to attach to, and the caller waits for the workbook as before."""
    from sync.excel.session import running_apps
    with pytest.raises(Exception):
        list(xlwings.apps)
    assert running_apps() == []


# What the double's `.api` objects offer: not xlwings' classes but Excel's COM objects on
# Windows, so held to Excel's object model instead (learn.microsoft.com/office/vba/api:
# Application.Ready, read-only Boolean; Workbook.Saved, read/write Boolean; Worksheet.Evaluate
# (Name)). xlwings' own `api` properties on App, Book and Sheet are checked above.
EXCEL_OBJECT_MODEL = {
    "_AppApi": {"Ready": ("property", False)},
    "_BookApi": {"Saved": ("property", False)},     # settable in Excel; never set here
    "_SheetApi": {"Evaluate": ("method", ["Name"])},
}


@pytest.mark.parametrize("name", sorted(EXCEL_OBJECT_MODEL))
def test_the_com_members_the_double_models_are_excels(name):
    cls, model = getattr(double, name), EXCEL_OBJECT_MODEL[name]
    members = {n: v for n, v in vars(cls).items() if not n.startswith("_")}
    assert set(members) == set(model)
    for member, value in members.items():
        kind, detail = model[member]
        if kind == "property":
            assert isinstance(value, property) and (value.fset is not None) == detail
        else:
            params = list(inspect.signature(value).parameters)[1:]
            assert callable(value) and params == detail


def test_the_api_properties_the_double_gives_are_xlwings_own():
    for cls, api in ((double.App, double._AppApi), (double.Book, double._BookApi),
                     (double.Sheet, double._SheetApi)):
        assert "api" in offered(cls)
        assert isinstance(inspect.getattr_static(getattr(real, cls.__name__), "api"), property)
        assert vars(cls)["api"].fget.__annotations__["return"] in (api.__name__, api)
