"""`python -m benchmarks.ledgers`: a shop's list with its purchases and follow-ups (#21). Per size
(customers; ten purchases and two and a half follow-ups each): the first cycle (ties every entry,
rolls everything up), then 100 new purchases typed at the end of the Purchases tab and the cycle
that takes them in, and the quiet cycle after. On a workbook (the CLI in a subprocess: its wall
time and peak memory) and on a Google Sheet (the emulator through the real gspread client, in
process: wall time and requests).

The baseline in the same run: a plain group-by of the same purchases in Python (what the
roll-ups are, computed with no sheet at all) — the floor the cycle's roll-up step stands on."""
from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from openpyxl import Workbook

from sheet_templates import builtin
from sync.xlsx.write import CellWrite, write_cells

from .__main__ import timed_subprocess
from .generate import mostly_clean_rows
from .table import print_table

CRM = builtin("crm")
TODAY = dt.date(2026, 11, 23)
NEW = 100


def entries(customers: int, purchases: int, follow_ups: int, seed: int = 11):
    rng = random.Random(seed)
    first = dt.date(2023, 1, 1)
    span = (TODAY - first).days
    bought = [[first + dt.timedelta(days=rng.randrange(span)),
               f"C-{rng.randrange(customers) + 1:06d}", None, rng.choice(["Tea", "Cups", "Pot"]),
               rng.randrange(1, 4), round(rng.uniform(5, 800), 2),
               rng.choice(["Cash", "Card", "WeChat Pay"])] for _ in range(purchases)]
    called = [[first + dt.timedelta(days=rng.randrange(span)),
               f"C-{rng.randrange(customers) + 1:06d}", None, rng.choice(["Phone", "WeChat"]),
               "checked in", None, "Ann"] for _ in range(follow_ups)]
    return bought, called


def write_shop(path: Path, customers: int) -> tuple[list, list]:
    rows = mostly_clean_rows(customers, mess=0.0)
    bought, called = entries(customers, customers * 10, customers * 5 // 2)
    book = Workbook(write_only=True)
    keys = [c.key for c in CRM.columns]
    sheet = book.create_sheet("Customers")
    sheet.append([c.header("en") for c in CRM.columns])
    for row in rows:
        sheet.append([row.get(k) for k in keys])
    for ledger, lines in zip(CRM.ledgers, (bought, called)):
        tab = book.create_sheet(ledger.sheet_names["en"])
        tab.append([c.header("en") for c in ledger.columns])
        for line in lines:
            tab.append(line)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return bought, called


def group_by(bought: list) -> float:
    """The baseline: the roll-ups as a plain group-by, seconds."""
    t = time.perf_counter()
    spend: dict[str, float] = defaultdict(float)
    orders: dict[str, int] = defaultdict(int)
    last: dict[str, dt.date] = {}
    for day, who, _, _, _, amount, _ in bought:
        spend[who] += amount
        orders[who] += 1
        if who not in last or day > last[who]:
            last[who] = day
    return time.perf_counter() - t


def measure_workbook(customers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "shop.xlsx"
        bought, _ = write_shop(work, customers)
        cli = [sys.executable, "-m", "service", "apply", str(work), "--today", TODAY.isoformat(),
               "--region", "CN", "--report", "json"]
        first = timed_subprocess(cli)
        start = len(bought) + 2
        new = [CellWrite(start + k, j, value) for k in range(NEW) for j, value in enumerate(
            [TODAY, f"C-{k + 1:06d}", None, "Tea", 1, 99.5, "Cash"]) if value is not None]
        import hashlib
        write_cells(work, {"Purchases": new}, hashlib.sha256(work.read_bytes()).hexdigest())
        after = timed_subprocess(cli)
        quiet = timed_subprocess(cli)
        return {"where": "xlsx", "customers": customers, "purchases": len(bought),
                "first": first.wall, "new": after.wall, "quiet": quiet.wall,
                "peak": max(first.peak, after.peak, quiet.peak), "requests": "",
                "group_by": group_by(bought)}


def measure_google(customers: int) -> dict:
    from sync.gsheets.client import GoogleSheet
    from sync.gsheets.install import install_into
    from sync.gsheets.target import apply_google
    from sync.plan import RuleSettings
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.fakesheets import FakeSheetsServer, client
    from .gsheets import _cell

    settings = RuleSettings(today=TODAY, phone_region="CN")
    server = FakeSheetsServer().start()
    try:
        gc = client(server)
        sh = gc.create("Shop")
        sheet = GoogleSheet.open(gc, sh.id)
        install_into(sheet, CRM, "en")
        keys = [c.key for c in CRM.columns]
        rows = [[_cell(r.get(k)) for k in keys] for r in mostly_clean_rows(customers, mess=0)]
        bought, called = entries(customers, customers * 10, customers * 5 // 2)
        for title, data in (("Customers", rows), ("Purchases", bought), ("Follow-ups", called)):
            grid = sh.worksheet(title)
            grid.resize(len(data) + NEW + 1, max(len(keys), 9) + 2)
            data = [[_cell(v) for v in line] for line in data]
            for at in range(0, len(data), 20_000):
                grid.update(data[at:at + 20_000], f"A{at + 2}")
        out = {"where": "emulator", "customers": customers, "purchases": len(bought),
               "peak": float("nan"), "group_by": group_by(bought)}
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("first", "new", "quiet"):
                if name == "new":
                    sh.worksheet("Purchases").update(
                        [[_cell(TODAY), f"C-{k + 1:06d}", "", "Tea", 1, 99.5, "Cash"]
                         for k in range(NEW)], f"A{len(bought) + 2}")
                before = len(server.faults.log)
                t = time.perf_counter()
                apply_google(sheet, settings, Path(tmp))
                out[name] = time.perf_counter() - t
                out.setdefault("requests", "")
                out["requests"] += f"{'/' if out['requests'] else ''}" \
                                   f"{len(server.faults.log) - before}"
        return out
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000", help="customers, comma-separated")
    parser.add_argument("--where", default="xlsx,emulator")
    args = parser.parse_args(argv)
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        for where in args.where.split(","):
            print(f"  {where}, {n:,} customers …", file=sys.stderr)
            results.append((measure_workbook if where == "xlsx" else measure_google)(n))
    print(f"A cycle on a shop's list: the first, the one after {NEW} new purchases, the quiet "
          "one after; requests first/new/quiet (a Google Sheet)")
    print_table([("where", "where", ""), ("customers", "customers", ","),
                 ("purchases", "purchases", ","), ("first s", "first", ".2f"),
                 (f"+{NEW} s", "new", ".2f"), ("quiet s", "quiet", ".2f"),
                 ("peak MiB", "peak", ".0f"), ("requests", "requests", ""),
                 ("group-by s", "group_by", ".3f")], results)


if __name__ == "__main__":
    main()
