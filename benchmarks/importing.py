"""`python -m benchmarks.importing`: `sheetkeeper import` of a CSV of 100k rows into a list in use
of 20k rows (the issue's figure; `--rows 10000` for a quicker run): the real command in a
subprocess, start-up included, its wall time and peak memory (the process's maximum resident
set); a dry run of the same; and the undo of the import.

The file is what a shop's export looks like: a fifth of its rows are customers the list has
(the same phone, typed as people type it; some bring a value for an empty cell, some a
different company), a twentieth repeat an earlier row of the file, the rest are new people;
phones without +86, emails in capitals, dates as 2024/3/5, a column no template column takes.
"""
from __future__ import annotations

import argparse
import csv
import random
import re
import shutil
import sys
import tempfile
from pathlib import Path

from .__main__ import DATA, timed_subprocess
from .generate import FIRST, LAST, mostly_clean_rows, write_rows
from .table import print_table

HEADERS = ["Name", "Mobile", "E-mail", "Company", "Title", "Birthday", "Total spend", "WeChat"]


def import_file(path: Path, rows: int, listed: list[dict], seed: int = 11) -> Path:
    rng = random.Random(seed)
    made: list[list[str]] = []
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\r\n")
        out.writerow(HEADERS)
        for i in range(rows):
            roll = rng.random()
            if roll < 0.20 and listed:
                known = rng.choice(listed)
                digits = known["phone"][3:]
                row = [known["name"], f"{digits[:3]} {digits[3:7]} {digits[7:]}", "",
                       rng.choice(["", "", known["company"], "Other Trading Ltd"]),
                       rng.choice(["", "Buyer", "Owner"]), "", "", ""]
            elif roll < 0.25 and made:
                row = list(rng.choice(made))
                row[4] = rng.choice(["", "Manager"])
            else:
                first, last = rng.choice(FIRST), rng.choice(LAST)
                digits = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
                row = [f"{first} {last}", digits, f"{first}.{last}.{i}@SHOP.example".upper(),
                       f"{rng.choice(LAST)} Ltd", "", f"{rng.randrange(1950, 2005)}/"
                       f"{rng.randrange(1, 13)}/{rng.randrange(1, 29)}",
                       str(rng.randrange(10**4)), f"wx{i}"]
                made.append(row)
            out.writerow(row)
    return path


def measure(rows: int, listed: int) -> dict:
    list_book = DATA / f"import-list-{listed}.xlsx"
    people = mostly_clean_rows(listed, mess=0.0)
    if not list_book.exists():
        print(f"  generating {list_book.name} …", file=sys.stderr)
        write_rows(list_book, people)
    source = DATA / f"import-{rows}.csv"
    if not source.exists():
        print(f"  generating {source.name} …", file=sys.stderr)
        import_file(source, rows, people)
    with tempfile.TemporaryDirectory() as tmp:
        work, data = Path(tmp) / "list.xlsx", Path(tmp) / "data"
        shutil.copy(list_book, work)
        common = [sys.executable, "-m", "service", "import", str(source), "--into", str(work),
                  "--region", "CN", "--today", "2026-11-23", "--data", str(data)]
        dry = timed_subprocess([*common, "--dry-run"])
        report = Path(tmp) / "report.txt"
        real = _timed_with_output([*common], report)
        batch = re.search(r"as batch (\w+)", report.read_text())[1]
        counts = re.search(r"Imported: ([\d,]+) added as new rows, ([\d,]+) updated a "
                           r"customer, ([\d,]+) matched .*?, ([\d,]+) folded",
                           report.read_text())
        undo = timed_subprocess([sys.executable, "-m", "service", "undo", batch,
                                 "--data", str(data)])
        size = source.stat().st_size / 2**20
    return {"rows": rows, "listed": listed, "mib": size, "dry": dry.wall,
            "import": real.wall, "peak": max(dry.peak, real.peak), "undo": undo.wall,
            **{k: int(counts[n].replace(",", "")) for n, k in
               ((1, "added"), (2, "updated"), (4, "folded"))}}


def _timed_with_output(args: list[str], to: Path):
    """timed_subprocess, with the command's output kept (the batch id is in it)."""
    wrapper = [sys.executable, "-c",
               "import subprocess, sys; sys.exit(subprocess.run(sys.argv[2:], "
               "stdout=open(sys.argv[1], 'w')).returncode)", str(to), *args]
    return timed_subprocess(wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.importing", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the file")
    parser.add_argument("--list", type=int, default=20_000, help="rows in the list")
    args = parser.parse_args()
    result = measure(args.rows, args.list)
    print_table([("file rows", "rows", ","), ("file MiB", "mib", ".1f"),
                 ("list rows", "listed", ","), ("added", "added", ","),
                 ("updated", "updated", ","), ("folded", "folded", ","),
                 ("dry run s", "dry", ".1f"), ("import s", "import", ".1f"),
                 ("peak MiB", "peak", ",.0f"), ("undo s", "undo", ".1f")], [result])


if __name__ == "__main__":
    main()
