"""`python -m benchmarks.gsheets`: a sync cycle on a Google Sheet, against the local emulator
(tests/fakesheets) through the real gspread client. Per size: the first cycle on a list in use
(IDs present, ~2% of cells typed messily), the cycle after it (which lists the duplicate pairs
the new IDs allow on the Review tab), the quiet one after that, and the API requests each
used. The emulator answers on loopback, so this is sheetkeeper's own cost plus HTTP and JSON,
without Google's latency."""
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


def _cell(value):
    if isinstance(value, dt.date):
        return serial_number(value)
    return "" if value is None else value


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gsheets", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
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


if __name__ == "__main__":
    main()
