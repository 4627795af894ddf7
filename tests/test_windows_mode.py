"""sheetkeeper on Windows, as far as it can be held to that on Linux (issue #23).

- The Windows mode (tests/windows_mode/windows_like.py): `fcntl` unimportable, no fork, and
  every os-family question sheetkeeper asks answered "windows". The first test runs the cycle,
  the CLI and the daemon (a representative subset of the suite) in that mode in a subprocess,
  so `make test` catches a POSIX-only call; the tests marked `in_mode` run only there.
- Reading the code: sheetkeeper never reads os.name or sys.platform itself (audit/os_family.py
  does), imports no POSIX-only module, and calls a POSIX-only os function only behind a
  `hasattr(os, …)` guard in the same function. These catch what the mode cannot take away
  (pytest itself needs os.getuid on Linux).

What stays unverified here: the real Windows and macOS (LockFileEx, Ctrl-Break from a console,
NTFS renames); .github/workflows/tests.yml runs the suite there for whoever forks this.
"""
from __future__ import annotations

import ast
import importlib.util
import multiprocessing
import os
import signal
import subprocess
import sys

import pytest

from .conftest import ROOT

AS_WINDOWS = bool(os.environ.get("SHEETKEEPER_AS_WINDOWS"))

# The cycle (apply, undo, the lock), the CLI in subprocesses, the daemon in a subprocess with
# its signals, snapshots and restore, the work a fork would do, and the write's races and kills
# on the set-aside path (Windows has no atomic exchange).
SUBSET = ["tests/test_windows_mode.py", "tests/test_process_lock.py", "tests/test_apply.py",
          "tests/test_daemon.py", "tests/test_snapshots.py", "tests/test_forked.py",
          "tests/test_write_races.py"]

in_mode = pytest.mark.skipif(not AS_WINDOWS, reason="runs in the Windows mode only (started by "
                                                    "test_the_cycle_the_cli_and_the_daemon_…)")

PROJECT = ("audit", "sync", "service", "rules", "sheet_templates")


def _windows_like():
    spec = importlib.util.spec_from_file_location(
        "windows_like_for_reading", ROOT / "tests" / "windows_mode" / "windows_like.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(AS_WINDOWS, reason="this is the run that test starts")
@pytest.mark.skipif(sys.platform == "win32", reason="on Windows the whole suite runs for real")
@pytest.mark.timeout(900)
def test_the_cycle_the_cli_and_the_daemon_pass_in_windows_mode():
    env = dict(os.environ, SHEETKEEPER_AS_WINDOWS="1")
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          *SUBSET], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=880)
    assert out.returncode == 0, out.stdout[-8000:] + out.stderr[-2000:]
    assert " passed" in out.stdout and " failed" not in out.stdout


@in_mode
def test_the_mode_refuses_fcntl_and_fork_and_answers_windows():
    from audit.os_family import is_windows
    with pytest.raises(ImportError):
        import fcntl  # noqa: F401
    assert not hasattr(os, "fork") and not hasattr(os, "fchmod")
    assert multiprocessing.get_all_start_methods() == ["spawn"]
    with pytest.raises(ValueError):
        multiprocessing.get_context("fork")
    assert is_windows()


@in_mode
def test_a_process_the_tests_start_is_in_the_mode_too():
    probe = ("import os; from audit.os_family import is_windows; "
             "print(is_windows(), hasattr(os, 'fork'))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.split() == ["True", "False"], out.stderr


@in_mode
def test_ctrl_break_stops_the_service_after_the_cycle_in_flight(tmp_path):
    """Windows' Ctrl-Break (SIGBREAK; here an alias of SIGUSR1, see windows_like.py) stops the
    service as SIGTERM does elsewhere: it says so, and exits 0."""
    from sheet_templates import builtin, sample_rows
    from sync.xlsx.install import install_new

    from .daemon_harness import Daemon
    from .test_daemon import CONFIG
    (tmp_path / "workbooks").mkdir()
    install_new(builtin("crm"), tmp_path / "workbooks" / "customers.xlsx", "en",
                sample_rows("crm", "en"))
    d = Daemon(tmp_path, CONFIG)
    try:
        d.start()
        d.wait_for(lambda: d.events("cycle"), what="the first cycle")
        d.signal(signal.SIGBREAK)
        assert d.proc.wait(60) == 0
    finally:
        d.kill()
        d.log_handle.close()
    assert d.events("stopping") and d.events("stop")


# -- reading the code ------------------------------------------------------------------------

def project_modules():
    return sorted(p for package in PROJECT for p in (ROOT / package).rglob("*.py"))


def _id(path):
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", project_modules(), ids=_id)
def test_no_posix_only_module_and_no_os_name_outside_os_family(path):
    refused = set(_windows_like().REFUSED) | {"msvcrt", "winreg", "_winapi"}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
                for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree)
                 if isinstance(n, ast.ImportFrom) and n.module and not n.level}
    assert not imported & refused, f"import {imported & refused} (see sync/process_lock.py)"
    if _id(path) != os.path.join("audit", "os_family.py"):
        asked = [f"{n.value.id}.{n.attr}" for n in ast.walk(tree)
                 if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
                 and (n.value.id, n.attr) in {("os", "name"), ("sys", "platform")}]
        assert not asked, f"{asked}: ask audit.os_family instead"


@pytest.mark.parametrize("path", project_modules(), ids=_id)
def test_posix_only_os_functions_only_behind_a_hasattr_guard(path):
    """A function that calls one asks first (`if hasattr(os, "listxattr")` covers the
    xattr calls after it; `hasattr(os, "geteuid") and os.geteuid() == 0` covers os.chown)."""
    posix_only = set(_windows_like().POSIX_ONLY_OS_ALL)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef,
                                                             ast.AsyncFunctionDef))]
    # ast.walk meets an outer function before an inner one: the innermost is written last.
    inside = {id(n): f for f in functions for n in ast.walk(f)}
    asks = {id(f) for f in functions if any(
        isinstance(n, ast.Call) and getattr(n.func, "id", None) == "hasattr" and len(n.args) == 2
        and isinstance(n.args[1], ast.Constant) and n.args[1].value in posix_only
        for n in ast.walk(f))}
    bare = [n.attr for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
            and n.value.id == "os" and n.attr in posix_only
            and id(inside.get(id(n))) not in asks]
    assert not bare, f"os.{bare[0]} does not exist on Windows: ask hasattr(os, …) first"


def test_the_ci_matrix_runs_the_suite_on_linux_windows_and_macos():
    """.github/workflows/tests.yml cannot run here; it at least names the three systems and runs
    the whole suite (and is well-formed YAML, where PyYAML is installed: not a dependency)."""
    text = (ROOT / ".github" / "workflows" / "tests.yml").read_text()
    assert "os: [ubuntu-latest, windows-latest, macos-latest]" in text
    assert "run: make test" in text and r".venv\Scripts\python -m pytest -q" in text
    try:
        import yaml
    except ImportError:
        return
    job = yaml.safe_load(text)["jobs"]["test"]
    assert len(job["strategy"]["matrix"]["os"]) == 3 and job["runs-on"] == "${{ matrix.os }}"


def test_a_signal_wakes_the_waiting_service_at_once_from_another_thread():
    """On Windows a Ctrl-C does not interrupt the service's idle wait on a lock (CPython
    interrupts lock waits on POSIX only), so the service also wakes itself from a thread the
    signal's C-level handler writes to (cli_service.wake_on_signal). Here: a handler that does
    nothing, and the wake comes from that thread alone."""
    import threading
    from service.cli_service import wake_on_signal
    number = getattr(signal, "SIGBREAK", None) or signal.SIGUSR1
    before = signal.signal(number, lambda *_: None)
    wake = threading.Event()
    stop_waking = wake_on_signal(wake)
    try:
        signal.raise_signal(number)
        assert wake.wait(5)
    finally:
        stop_waking()
        signal.signal(number, before)


@pytest.mark.parametrize("windows", [True, False])
def test_a_private_file_is_replaced_once_windows_lets_go_of_it(tmp_path, monkeypatch, windows):
    """Windows refuses to rename over a file another process has open; Linux never does, so the
    refusal is played by a stand-in for os.replace (the only mock here: nothing real refuses)."""
    from audit import os_family, private_file
    monkeypatch.setattr(os_family, "PRETEND", "windows" if windows else "linux")
    real_replace, refusals = os.replace, []

    def replace(source, target):
        if len(refusals) < 3:
            refusals.append(target)
            raise PermissionError(13, "The process cannot access the file")
        real_replace(source, target)

    monkeypatch.setattr(private_file.os, "replace", replace)
    target = tmp_path / "service-status.json"
    target.write_bytes(b"old")
    if windows:
        private_file.write_private(target, b"new")
        assert target.read_bytes() == b"new" and len(refusals) == 3
    else:                                  # elsewhere a refusal is a real permission problem
        with pytest.raises(PermissionError):
            private_file.write_private(target, b"new")
        assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["service-status.json"]


@in_mode
def test_a_redirected_report_with_chinese_names_is_written_in_utf8():
    """Windows writes a redirected stdout in its ANSI code page; played here with
    PYTHONIOENCODING=cp1252. Before: UnicodeEncodeError half-way through the output."""
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as folder:
        book = Path(folder) / "客户.xlsx"
        env = dict(os.environ, PYTHONIOENCODING="cp1252")
        out = subprocess.run([sys.executable, "-m", "service", "install", "crm", "--to",
                              str(book), "--lang", "zh-CN"], cwd=ROOT, env=env,
                             capture_output=True, timeout=120)
        assert out.returncode == 0, out.stderr.decode("utf-8", "replace")
        assert "客户.xlsx" in out.stdout.decode("utf-8")
