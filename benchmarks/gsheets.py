"""`python -m benchmarks.gsheets`: a sync cycle on a Google Sheet, against the local emulator
(tests/fakesheets) through the real gspread client. Per size: the first cycle on a list in use
(IDs present, ~2% of cells typed messily), the cycle after it (which lists the duplicate pairs
the new IDs allow on the Review tab), the quiet one after that, and the API requests each
used. The emulator answers on loopback, so this is sheetkeeper's own cost plus HTTP and JSON,
without Google's latency.

And Google's quota: `--sheets N` sheets on one account, watched by the service's Google side
for `--minutes` simulated minutes (the emulator's per-minute quota model and the account's
budget on one simulated clock): the most Sheets reads and writes any minute saw against
Google's 60, the 429s, and how long until every sheet had its first cycle."""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from rules.dates import serial_number
from sheet_templates import builtin
from sync.gsheets.client import GoogleSheet
from sync.gsheets.target import apply_google
from sync.gsheets.install import install_into
from sync.plan import RuleSettings

from .generate import mostly_clean_rows
from .table import print_table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fakesheets import FakeSheetsServer, client  # noqa: E402  (test infrastructure)

SETTINGS = RuleSettings(today=dt.date(2026, 11, 23), phone_region="CN")
CYCLES = ("first", "listing", "quiet")


def measure(rows: int) -> dict:
    server = FakeSheetsServer().start()
    try:
        gc = client(server)
        sh = gc.create("Benchmark")
        sheet = GoogleSheet.open(gc, sh.id)
        crm = builtin("crm")
        install_into(sheet, crm, "en")
        keys = [c.key for c in crm.columns]
        grid = sh.worksheet("Customers")
        grid.resize(rows + 1, len(keys) + 2)
        data = [[_cell(r.get(k)) for k in keys] for r in mostly_clean_rows(rows, mess=0.02)]
        for start in range(0, rows, 20_000):
            chunk = data[start:start + 20_000]
            grid.update(chunk, f"A{start + 2}")
        with tempfile.TemporaryDirectory() as tmp:
            out = {"rows": rows}
            # first: normalises and gives out IDs; listing: lists the duplicate pairs the new
            # IDs allow on the Review tab; quiet: nothing left to do.
            for name in CYCLES:
                before = len(server.faults.log)
                t = time.perf_counter()
                result = apply_google(sheet, SETTINGS, Path(tmp))
                out[name] = time.perf_counter() - t
                out[f"{name}_requests"] = len(server.faults.log) - before
                out[f"{name}_written"] = result.written
            before = len(server.faults.log)
            t = time.perf_counter()
            sheet.change_signal()                 # what the service does while nothing moves
            out["poll"] = time.perf_counter() - t
            out["poll_requests"] = len(server.faults.log) - before
        return out
    finally:
        server.stop()


class _Clock:
    """Simulated seconds; a wait moves them on."""

    def __init__(self) -> None:
        self.t = 6000.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def quota(sheets: int, minutes: float) -> dict:
    """`sheets` sheets on one account under the service's Google side for `minutes`."""
    from service.config import GoogleConfig, ServiceConfig, SheetWatch
    from service.google_watch import GoogleWatches
    from sync.gsheets.quota import QuotaBudget
    from tests.fakesheets import installed_sheet
    from tests.fakesheets.quota import PerMinuteQuota
    server = FakeSheetsServer().start()
    try:
        keys = [installed_sheet(server, [["", "ANNA BERG", "", "", "13800138000"]],
                                title=f"Shop {i}").key for i in range(sheets)]
        clock = _Clock()
        server.state.quota = model = PerMinuteQuota(clock)
        with tempfile.TemporaryDirectory() as tmp:
            config = ServiceConfig(None, Path(tmp), (),
                                   sheets=tuple(SheetWatch(k) for k in keys),
                                   google=GoogleConfig(api_endpoint=server.url))
            cycled: dict[str, float] = {}
            start, t = clock.t, time.perf_counter()

            def log(event, **fields):
                if event == "cycle":
                    cycled.setdefault(fields["workbook"], clock.t - start)
            watches = GoogleWatches(config, log, clock, lambda: dt.date(2026, 11, 23),
                                    budget=QuotaBudget(clock=clock, sleep=clock.sleep))
            while clock.t < start + minutes * 60:
                watches.run_due(lambda: False, lambda *a: None)
                clock.t = max(clock.t, watches.next_due())
            return {"sheets": sheets, "minutes": minutes, "reads": model.most("read"),
                    "writes": model.most("write"), "refused": len(model.refused),
                    "all_cycled": max(cycled.values()) if len(cycled) == sheets else None,
                    "real": time.perf_counter() - t}
    finally:
        server.stop()


def _cell(value):
    if isinstance(value, dt.date):
        return serial_number(value)
    return "" if value is None else value


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gsheets", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--sheets", type=int, default=50,
                        help="sheets on one account for the quota line (0: none)")
    parser.add_argument("--minutes", type=float, default=10)
    args = parser.parse_args()
    results = [measure(int(n)) for n in args.sizes.split(",")]
    print_table([("rows", "rows", ","), ("first cycle s", "first", ".2f"),
                 ("requests", "first_requests", ""), ("cells written", "first_written", ","),
                 ("listing s", "listing", ".2f"), ("requests", "listing_requests", ""),
                 ("cells", "listing_written", ","), ("quiet cycle s", "quiet", ".2f"),
                 ("requests", "quiet_requests", ""),
                 ("idle poll ms", lambda r: r["poll"] * 1000, ".1f"),
                 ("requests", "poll_requests", "")], results)
    most = max(r[f"{c}_requests"] for r in results for c in CYCLES)
    idle = all(r["poll_requests"] == 1 for r in results)
    print("\ntargets: ≤ 4 requests per cycle with changes, whatever the number of rows "
          f"({'met' if most <= 4 else 'MISSED'}); 1 request per idle poll "
          f"({'met' if idle else 'MISSED'})")
    if args.sheets:
        q = quota(args.sheets, args.minutes)
        first = (f"{q['all_cycled']:.0f} s" if q["all_cycled"] is not None
                 else "not within the run")
        print(f"\nquota: {q['sheets']} sheets on one account, {q['minutes']:g} simulated "
              f"minutes: at most {q['reads']} reads and {q['writes']} writes in any minute "
              f"(Google: 60 each), {q['refused']} refused (429); every sheet's first cycle "
              f"within {first}; {q['real']:.1f} s of real time "
              f"({'met' if max(q['reads'], q['writes']) <= 60 and not q['refused'] else 'MISSED'})")


if __name__ == "__main__":
    main()
