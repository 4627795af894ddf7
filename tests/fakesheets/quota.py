"""Google's per-minute quota, as the emulator keeps it when a test gives it one:

    server.state.quota = PerMinuteQuota(clock)     # clock: seconds, the test's own

Each account may send 60 Sheets read requests (GET) and 60 write requests (any other method)
in each minute of `clock` (minute n is [60n, 60n + 60)), refilled each minute; past that
Google answers 429 RESOURCE_EXHAUSTED naming the metric, with no Retry-After header (Google
does not promise one). Refused requests are not counted. Drive's 12,000 queries a minute are
not modelled. `counted` holds, per (account, kind, minute), the requests let through, and
`refused` the (account, kind, minute) of each 429, so a test can show that no minute went over.

Off unless a test sets it: the rest of the suite sends thousands of requests a minute of real
time through clients that do not pace themselves (tests/fakesheets/__init__.py).
"""
from __future__ import annotations

import threading
from collections import Counter
from typing import Callable

from .state import ApiError

LIMITS = {"read": 60, "write": 60}
METRIC = {"read": ("Read requests", "ReadRequestsPerMinutePerUser", "read_requests"),
          "write": ("Write requests", "WriteRequestsPerMinutePerUser", "write_requests")}


class PerMinuteQuota:
    def __init__(self, clock: Callable[[], float], limits: dict[str, int] | None = None):
        self.clock, self.limits = clock, dict(limits or LIMITS)
        self.counted: Counter[tuple[str, str, int]] = Counter()
        self.refused: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()

    def spend(self, account: str, method: str) -> None:
        """Count a Sheets API request of `account`, or refuse it as Google does (ApiError)."""
        kind = "read" if method.upper() == "GET" else "write"
        minute = int(self.clock() // 60)
        with self.lock:
            if self.counted[(account, kind, minute)] >= self.limits[kind]:
                self.refused.append((account, kind, minute))
                raise exhausted(kind)
            self.counted[(account, kind, minute)] += 1

    def most(self, kind: str) -> int:
        """The most requests of `kind` let through in any one minute, for any account."""
        with self.lock:
            return max((n for (_, k, _), n in self.counted.items() if k == kind), default=0)


def exhausted(kind: str) -> ApiError:
    name, limit, metric = METRIC[kind]
    return ApiError(429, "RESOURCE_EXHAUSTED", (
        f"Quota exceeded for quota metric '{name}' and limit '{name} per minute per user' of "
        "service 'sheets.googleapis.com' for consumer 'project_number:000000000000'."),
        details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                  "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com",
                  "metadata": {"service": "sheets.googleapis.com", "quota_limit": limit,
                               "quota_metric": f"sheets.googleapis.com/{metric}",
                               "quota_location": "global", "quota_limit_value": "60",
                               "consumer": "projects/000000000000"}}])
