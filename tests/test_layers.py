"""The layers the architecture draws (ARCHITECTURE.md), read from the imports themselves: the
generic sync core knows no backend, the audit layer knows nothing above it, and each outside
library is imported behind its one seam."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

BACKENDS = ("sync.xlsx", "sync.gsheets", "gspread", "google", "openpyxl", "python_calamine",
            "xlwings", "requests")


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, absolute (relative imports resolved), at any depth of
    the file (an import inside a function is an import too)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
                names = [f"{module}.{a.name}" for a in node.names] if not node.module else []
                out.update([module, *names])
            else:
                out.add(node.module)
    return out


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).glob("*.py"))


def offending(path: Path, prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in imports_of(path)
                  if any(m == p or m.startswith(p + ".") for p in prefixes))


@pytest.mark.parametrize("path", modules("sync"), ids=lambda p: p.name)
def test_the_generic_core_imports_no_backend(path):
    if path.name == "opening.py":
        pytest.skip("the one place that tells a workbook from a Google Sheet")
    assert offending(path, BACKENDS) == []


@pytest.mark.parametrize("path", modules("audit"), ids=lambda p: p.name)
def test_the_audit_layer_imports_nothing_above_it(path):
    assert offending(path, ("sync", "service")) == []


@pytest.mark.parametrize("path", modules("sync/export"), ids=lambda p: p.name)
def test_the_export_imports_no_backend(path):
    """An export reads its target through the seam like the cycle; openpyxl writes the xlsx
    file format in one module of its own, as gspread is imported by one."""
    allowed = ("openpyxl",) if path.name == "xlsx_file.py" else ()
    assert [m for m in offending(path, BACKENDS) if m.split(".")[0] not in allowed] == []


BACKEND_FOLDERS = {"sync/xlsx": ("sync.gsheets", "sync.excel"),
                   "sync/gsheets": ("sync.xlsx", "sync.excel"),
                   "sync/excel": ("sync.xlsx", "sync.gsheets")}


@pytest.mark.parametrize("path", [p for folder in BACKEND_FOLDERS for p in modules(folder)],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_a_backend_imports_not_the_other(path):
    """What both need lives below the seam (sync, sheet_templates), not in either backend."""
    others = BACKEND_FOLDERS[path.parent.relative_to(ROOT).as_posix()]
    assert offending(path, others) == []


def test_gspread_is_imported_by_one_module_only():
    users = [p.relative_to(ROOT).as_posix() for folder in ("sync", "service", "audit")
             for p in (ROOT / folder).rglob("*.py") if offending(p, ("gspread",))]
    assert users == ["sync/gsheets/client.py"]


def test_xlwings_is_imported_by_one_module_only():
    users = [p.relative_to(ROOT).as_posix() for folder in ("sync", "service", "audit")
             for p in (ROOT / folder).rglob("*.py") if offending(p, ("xlwings",))]
    assert users == ["sync/excel/session.py"]


def test_the_check_reads_relative_imports_right():
    """The checks above would pass on a reader that saw no imports at all."""
    found = imports_of(ROOT / "sync" / "xlsx" / "target.py")
    assert {"sync.cycle", "sync.xlsx.read", "sheet_templates"} <= found
