"""What the service says about a cycle, the same for a workbook and a Google Sheet: the entry
`sheetkeeper status` shows, and the event line."""
from __future__ import annotations

import sys
import traceback
from typing import Callable, Sequence

from sync.cycle import ApplyResult
from sync.errors import EXPLAINED

from .schedule import WorkbookState
from .status import utc_now


def cycled(state: WorkbookState, results: Sequence[ApplyResult], seconds: float,
           log: Callable[..., None]) -> None:
    """One look at a workbook or sheet: its cycles (more than one after merges or new IDs)."""
    last = results[-1]
    plan = last.plan
    written = sum(r.written for r in results)
    batches = [b for r in results for b in (*r.merges, *(r.batches or (r.batch,))) if b]
    requests = [r.requests for r in results if r.requests is not None]
    state.report = {"last_cycle": utc_now(),
                    "outcome": "wrote" if written or last.merges else "clean" if plan.clean
                    else "nothing to write",
                    "changes": written, "findings": len(plan.findings),
                    "review_pairs": len(plan.duplicates), "batches": batches}
    remote = {}
    if requests:           # a Google Sheet: the API requests used, and cells left for later
        state.report["requests"] = sum(requests)
        remote = {"moved": sum(len(r.moved) for r in results) or None,
                  "requests": sum(requests)}
    log("cycle", workbook=state.path, changes=written, findings=len(plan.findings),
        duplicates=len(plan.duplicates),
        person_edits=sum(1 for r in results if r.person_batch) or None,
        batch=",".join(batches) or None, notes="; ".join(last.notes) or None, **remote,
        ms=round(seconds * 1000))


def failed(state: WorkbookState, wait: float, e: Exception, log: Callable[..., None]) -> str:
    """A look that failed and will be tried again in `wait` seconds. sheetkeeper's own errors
    (Google's and the network's among them, translated where they are met) say what to do;
    anything else is a bug, with its traceback on stderr."""
    if isinstance(e, EXPLAINED):
        message = str(e)
    else:
        message = f"{type(e).__name__}: {e}"
        traceback.print_exc(file=sys.stderr)
        message += " (a bug in sheetkeeper; please report it)"
    state.report.update(last_cycle=utc_now(), outcome="error", error=message,
                        failures=state.failures)
    log("error", workbook=state.path, error=message, retry_in_s=round(wait, 1),
        failures=state.failures)
    return message
