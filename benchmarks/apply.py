"""`python -m benchmarks.apply`: apply on a list in use, where people changed ~2% of the cells
since sheetkeeper's last cycle; a no-change apply; the first apply on a list sheetkeeper never
saw; and an openpyxl load + save of the same workbook (the write path a naive tool uses)."""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from sheet_templates import builtin
from sync.xlsx.write import CellWrite, write_cells

from .__main__ import DATA, peak_of, timed_subprocess
from .generate import mostly_clean_rows, write_rows
from .table import print_table

TARGETS = {"apply": 6.0, "noop": 3.0, "memory_mib": 1024, "ratio": 0.15}
# The apply's CPU time over the cores there are: no overlap of its work, however good, makes its
# wall time shorter than that.
CORES = os.cpu_count() or 1


def measure(rows: int, repeats: int, with_openpyxl: bool) -> dict:
    source = DATA / f"in-use-clean-{rows}.xlsx"
    if not source.exists():
        print(f"  generating {source.name} …", file=sys.stderr)
        write_rows(source, mostly_clean_rows(rows, mess=0.0))
    edits = _person_edits(rows)
    firsts, applies, noops, settled, peaks, cpus = [], [], [], [], [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp) / "c.xlsx"
            shutil.copy(source, work)
            cli = [sys.executable, "-m", "service", "apply", str(work), "--report", "json",
                   "--today", "2026-11-23", "--region", "CN"]
            first = timed_subprocess(cli)                 # sheetkeeper's first look
            firsts.append(first.wall)
            peak = first.peak
            write_cells(work, {"Customers": edits},       # people at work: ~2% of the cells
                        hashlib.sha256(work.read_bytes()).hexdigest())
            # apply: people's edits; no-change: the quiet cycle after it (plans, finds nothing);
            # settled: the next one, on bytes a quiet cycle already judged.
            for target in (applies, noops, settled):
                run = timed_subprocess(cli)
                target.append(run.wall)
                peak = max(peak, run.peak)
                if target is applies:
                    cpus.append(run.cpu)
            peaks.append(peak)
    result = {"rows": rows, "first": statistics.median(firsts),
              "apply": statistics.median(applies), "noop": statistics.median(noops),
              "settled": statistics.median(settled),
              "peak": max(peaks), "edits": len(edits), "cpu": statistics.median(cpus)}
    if with_openpyxl:
        # As many runs as of sheetkeeper, median: one run of it varied from 72 s to 86 s.
        walls = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "o.xlsx"
                walls.append(peak_of(f"import openpyxl; openpyxl.load_workbook({str(source)!r})"
                                     f".save({str(out)!r})").wall)
        result["openpyxl"] = statistics.median(walls)
    return result


def _person_edits(rows: int) -> list[CellWrite]:
    """The cells where the messy list differs from the clean one: what people typed."""
    template = builtin("crm")
    keys = [c.key for c in template.columns]
    clean, messy = mostly_clean_rows(rows, mess=0.0), mostly_clean_rows(rows, mess=0.02)
    return [CellWrite(r + 2, keys.index(k), messy_row[k])
            for r, (clean_row, messy_row) in enumerate(zip(clean, messy))
            for k in messy_row if messy_row[k] != clean_row[k]]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.apply", description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-openpyxl", action="store_true")
    args = parser.parse_args()
    results = [measure(int(n), args.repeats, not args.no_openpyxl)
               for n in args.sizes.split(",")]
    print_table([("rows", "rows", ","), ("cells edited", "edits", ","),
                 ("apply s", "apply", ".2f"), ("apply CPU s", "cpu", ".2f"),
                 (f"CPU/{CORES} s", lambda r: r["cpu"] / CORES, ".2f"),
                 ("no-change s", "noop", ".2f"),
                 ("settled s", "settled", ".2f"), ("first apply s", "first", ".2f"),
                 ("peak MiB", "peak", ".0f"),
                 ("openpyxl load+save s", lambda r: r.get("openpyxl", float("nan")), ".2f"),
                 ("apply/openpyxl", lambda r: r["apply"] / r["openpyxl"]
                  if r.get("openpyxl") else float("nan"), ".2f")], results)
    big = results[-1]
    verdict = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    print(f"\ntargets at {big['rows']:,} rows: apply ≤ {TARGETS['apply']} s "
          f"({verdict(big['apply'] <= TARGETS['apply'])}; its {big['cpu']:.1f} s of CPU need "
          f"{big['cpu'] / CORES:.1f} s on {CORES} cores at the least), "
          f"no-change ≤ {TARGETS['noop']} s "
          f"({verdict(big['noop'] <= TARGETS['noop'])}; settled "
          f"{verdict(big['settled'] <= TARGETS['noop'])}), peak ≤ {TARGETS['memory_mib']} MiB "
          f"({verdict(big['peak'] <= TARGETS['memory_mib'])})"
          + (f", ≤ {TARGETS['ratio']}× openpyxl "
             f"({verdict(big['apply'] / big['openpyxl'] <= TARGETS['ratio'])})"
             if big.get("openpyxl") else ""))


if __name__ == "__main__":
    main()
