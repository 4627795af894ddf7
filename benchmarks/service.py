"""`python -m benchmarks.service`: the running service, measured from outside.

- latency: the real `sheetkeeper run` watching a list in use; a person's save (an atomic
  rename, as LibreOffice saves) puts a phone typed as "0xx xxxx xxxx" in one row; the time until
  the service's log says that cycle wrote it back. Median and p95 over N edits per size.
- idle CPU: the service watching 20 settled workbooks, nobody editing: its CPU time over a
  quiet window, as a share of one core.
- snapshot: `sheetkeeper snapshot` on the largest list, as a command (start-up included).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sheet_templates import builtin
from sync.xlsx.write import CellWrite, write_cells

from .__main__ import DATA, timed_subprocess
from .generate import mostly_clean_rows, write_rows
from .table import print_table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.daemon_harness import Daemon  # noqa: E402  (the tests' harness for the real service)

# Issue 17: edit → written back, median, by list size (what a team feels); idle CPU.
LATENCY_TARGETS = {1_000: 0.5, 20_000: 1.0}
IDLE_CPU_PCT = 1.0
CONFIG = '[rules]\nregion = "GB"\n[[watch]]\npath = "workbooks"\ntemplate = "crm"\n'
LONG = 600   # seconds: a first cycle on 100k rows is slow on a slow machine


def in_use(rows: int) -> Path:
    source = DATA / f"in-use-clean-{rows}.xlsx"
    if not source.exists():
        print(f"  generating {source.name} …", file=sys.stderr)
        write_rows(source, mostly_clean_rows(rows, mess=0.0))
    return source


def latency(rows: int, edits: int) -> dict:
    phone = [c.key for c in builtin("crm").columns].index("phone")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        book = folder / "workbooks" / "customers.xlsx"
        book.parent.mkdir()
        shutil.copy(in_use(rows), book)
        service = Daemon(folder, CONFIG).start()
        try:
            service.wait_for(lambda: service.events("snapshot"), LONG)   # first cycle, catch-up
            waits = []
            for n in range(edits):
                cycles = len(service.events("cycle"))
                row = 2 + (n * 7919) % rows
                write_cells(book, {"Customers": [CellWrite(row, phone, f"020 7946 {n:04d}")]},
                            hashlib.sha256(book.read_bytes()).hexdigest())
                saved = time.monotonic()
                service.wait_for(lambda: len(service.events("cycle")) > cycles, LONG,
                                 poll=0.005)
                waits.append(time.monotonic() - saved)
                assert service.events("cycle")[-1]["changes"] >= 1
        finally:
            service.stop(timeout=120)
    waits.sort()
    return {"rows": rows, "edits": edits, "median": statistics.median(waits),
            "p95": waits[min(len(waits) - 1, int(round(0.95 * len(waits))) - 1)]}


def idle_cpu(workbooks: int, quiet: float) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "workbooks").mkdir()
        for n in range(workbooks):
            shutil.copy(in_use(1000), folder / "workbooks" / f"list-{n:02d}.xlsx")
        service = Daemon(folder, CONFIG).start()
        try:
            service.wait_for(lambda: len(service.events("snapshot")) >= workbooks, LONG)
            time.sleep(2)
            before = _cpu_seconds(service.proc.pid)
            time.sleep(quiet)
            used = _cpu_seconds(service.proc.pid) - before
        finally:
            service.stop(timeout=120)
    return 100 * used / quiet


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def snapshot_time(rows: int) -> tuple[float, float]:
    """(wall seconds, peak MiB) of a snapshot of the list of `rows` rows."""
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "customers.xlsx"
        shutil.copy(in_use(rows), book)
        run = timed_subprocess([sys.executable, "-m", "service", "snapshot", str(book)])
        return run.wall, run.peak


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.service", description=__doc__)
    parser.add_argument("--sizes", default="1000,20000,100000")
    parser.add_argument("--edits", default="50,50",
                        help="edits per size, in the order of --sizes (default 50 each)")
    parser.add_argument("--quiet", type=float, default=30.0,
                        help="seconds of idle to measure CPU over (default 30)")
    parser.add_argument("--no-openpyxl", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    counts = [int(n) for n in args.edits.split(",")]
    counts += counts[-1:] * (len(sizes) - len(counts))
    rows = [latency(n, e) for n, e in zip(sizes, counts)]
    cpu = idle_cpu(20, args.quiet)
    snap_wall, snap_peak = snapshot_time(max(sizes))

    print_table([("rows", "rows", ","), ("edits", "edits", ""),
                 ("edit → written back, median s", "median", ".2f"), ("p95 s", "p95", ".2f")],
                rows)
    print(f"\nidle CPU watching 20 workbooks over {args.quiet:.0f} s: {cpu:.2f}% of a core")
    print(f"snapshot of {max(sizes):,} rows (the command, start-up included): {snap_wall:.2f} s, "
          f"peak {snap_peak:.0f} MiB")
    verdict = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    said = [f"median ≤ {LATENCY_TARGETS[r['rows']]} s at {r['rows']:,} rows "
            f"({verdict(r['median'] <= LATENCY_TARGETS[r['rows']])})"
            for r in rows if r["rows"] in LATENCY_TARGETS]
    said.append(f"idle CPU < {IDLE_CPU_PCT}% ({verdict(cpu < IDLE_CPU_PCT)})")
    print("\ntargets: " + ", ".join(said))


if __name__ == "__main__":
    main()
