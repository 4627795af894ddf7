"""`make bench` (python -m benchmarks): check, dedupe and the read floor at 1k, 10k and 100k rows.

Every figure comes from this run on this machine. `check` is timed as the real command in a
subprocess (start-up included), peak memory is that process's maximum resident set size.
"""
from __future__ import annotations

import argparse
import gc
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import datetime as dt

import python_calamine

from rules.duplicates import find_duplicates
from sync.plan import RuleSettings, plan_table
from sync.xlsx.read import read_table

from .generate import write_workbook
from .table import print_table

DATA = Path(__file__).parent / "data"
TARGETS = {"check": 4.0, "dedupe": 2.0, "memory_mib": 1024}


class Run(NamedTuple):
    wall: float     # seconds
    peak: float     # MiB: the largest resident set of any process this benchmark ran so far
    cpu: float      # seconds of CPU (user and system), the run's own forked children included


def timed_subprocess(args: list[str]) -> Run:
    """One run of `args`, measured."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    code = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
    wall = time.perf_counter() - start
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed with exit status {code}")
    # A child's usage counts once it is waited for, and so does that of the processes it
    # forked and waited for (sheetkeeper's second-core workers).
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Run(wall, max(after.ru_maxrss, before.ru_maxrss) / 1024, cpu)


def peak_of(code: str) -> Run:
    """Run python `code` in a fresh interpreter, measured."""
    return timed_subprocess([sys.executable, "-c", code])


def measure(rows: int, repeats: int, with_openpyxl: bool) -> dict:
    path = DATA / f"messy-{rows}.xlsx"
    if not path.exists():
        print(f"  generating {path.name} …", file=sys.stderr)
        write_workbook(path, rows)
    cli = [sys.executable, "-m", "service", "check", str(path), "--report", "json",
           "--today", "2026-11-23"]
    runs = [timed_subprocess(cli) for _ in range(repeats)]
    result = {
        "rows": rows,
        "check_median": statistics.median(r.wall for r in runs),
        "check_peak_mib": max(r.peak for r in runs),
    }

    reads = []
    for _ in range(repeats):
        start = time.perf_counter()
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        book.get_sheet_by_name("Customers").to_python(skip_empty_area=False)
        reads.append(time.perf_counter() - start)
        book.close()
    result["calamine_read"] = statistics.median(reads)
    reads = []
    for _ in range(repeats):
        start = time.perf_counter()
        table = read_table(path)
        reads.append(time.perf_counter() - start)
    result["read_table"] = statistics.median(reads)
    plan = plan_table(table, RuleSettings(today=dt.date(2026, 11, 23)))
    result["changes"], result["findings"] = len(plan.changes), len(plan.findings)
    result["duplicates"] = len(plan.duplicates)
    from sync.plan import identity_columns
    records = identity_columns(table, list(range(len(table.rows))), plan.values_after(),
                               plan.flagged_cells())
    dedupe = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        find_duplicates(records)
        dedupe.append(time.perf_counter() - start)
    result["dedupe_median"] = statistics.median(dedupe)
    if with_openpyxl:
        run = peak_of(f"import openpyxl; openpyxl.load_workbook({str(path)!r})")
        result["openpyxl_load"], result["openpyxl_peak_mib"] = run.wall, run.peak
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="row counts, comma-separated (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--no-openpyxl", action="store_true",
                        help="skip the slow openpyxl full-load comparison")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = [measure(n, args.repeats, not args.no_openpyxl) for n in sizes]
    print_table([("rows", "rows", ","), ("check s", "check_median", ".2f"),
                 ("peak MiB", "check_peak_mib", ".0f"), ("dedupe s", "dedupe_median", ".2f"),
                 ("calamine s", "calamine_read", ".2f"), ("read s", "read_table", ".2f"),
                 ("openpyxl s", lambda r: r.get("openpyxl_load", float("nan")), ".2f"),
                 ("changes", "changes", ","), ("findings", "findings", ","),
                 ("dup pairs", "duplicates", ",")], results)
    big = results[-1]
    print(f"\ntargets at {big['rows']:,} rows: check ≤ {TARGETS['check']} s "
          f"({'met' if big['check_median'] <= TARGETS['check'] else 'MISSED'}), "
          f"peak ≤ {TARGETS['memory_mib']} MiB "
          f"({'met' if big['check_peak_mib'] <= TARGETS['memory_mib'] else 'MISSED'}), "
          f"dedupe ≤ {TARGETS['dedupe']} s "
          f"({'met' if big['dedupe_median'] <= TARGETS['dedupe'] else 'MISSED'})")


if __name__ == "__main__":
    main()
