"""`python -m benchmarks.tuning`: does each piece of tuning pay? `check` at 10k and 100k rows as
shipped, and with one piece turned off at a time, in one run, by turns:

- second process: a forked child judges half the cells and searches for duplicates
  (sync.forked, from 20,000 rows / 30,000 cells);
- collector paused: Python's cycle collector off during a cycle (sync.collector).

A piece is worth keeping where turning it off costs at least 20 % at 10k or 100k rows
(issue 17). Reading a big sheet in two halves at once did not (0 % at 10k, 9 % at 100k, in the
run of 2026-12-02) and was taken out. Each figure is the median wall time of `--repeats` runs of the real
command in a fresh interpreter, start-up included.
"""
from __future__ import annotations

import argparse
import statistics

from .__main__ import DATA, peak_of
from .generate import write_workbook
from .table import print_table

OFF = {
    "as shipped": "",
    "no 2nd process": "import sync.plan, sync.evaluate\n"
                         "sync.plan.fork_pays = sync.evaluate.fork_pays = "
                         "lambda *a, **k: False\n",
    "collector on": "import contextlib, sync.collector\n"
                    "sync.collector.paused = contextlib.nullcontext\n",
}


def command(path, off: str) -> str:
    return (off + "import sys\nfrom service.cli import main\n"
            f"sys.exit(main(['check', {str(path)!r}, '--report', 'json', '--region', 'CN']))\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results = []
    for rows in map(int, args.sizes.split(",")):
        path = DATA / f"messy-{rows}.xlsx"
        if not path.exists():
            write_workbook(path, rows)
        walls: dict[str, list[float]] = {name: [] for name in OFF}
        for _ in range(args.repeats):          # by turns, so drift hits every variant alike
            for name, off in OFF.items():
                walls[name].append(peak_of(command(path, off)).wall)
        shipped = statistics.median(walls["as shipped"])
        for name in OFF:
            wall = statistics.median(walls[name])
            results.append({"rows": rows, "variant": name, "check_s": wall,
                            "cost_off": wall / shipped - 1})
    print_table([("rows", "rows", ","), ("variant", "variant", ""),
                 ("check s", "check_s", ".2f"), ("turned off costs", lambda r: f"{r['cost_off']:+.0%}", "")],
                results)


if __name__ == "__main__":
    main()
