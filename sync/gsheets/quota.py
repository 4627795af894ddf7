"""Google's per-minute quota, kept on this side: every request of one account is paced through
one budget, whichever sheet or step (start-up, polls, cycles, nightly snapshots) sends it.

Google allows each user 60 Sheets read requests and 60 write requests a minute, refilled each
minute, and answers 429 RESOURCE_EXHAUSTED beyond that, without promising a Retry-After header.
Drive allows 12,000 queries a minute per user. A service watching 50 sheets on one account
would go past the Sheets limits at start-up alone, so no request is sent that would make more
than the limit in any `window` seconds: a sliding window is stricter than any minute Google
counts by, and a second more than a minute allows for the time a request takes to arrive.

A 429 means Google counted more than was sent from here (another program on the same account,
`sheetkeeper apply` run by hand beside the service): the budget is then taken as spent until
the Retry-After Google gave, or without one for a whole window, so nothing more of that kind
goes until Google's minute has surely refilled.

Pure bookkeeping over an injected clock and sleep (tests run minutes in no time); the client
(sync.gsheets.client) asks it before each request.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, Mapping

LIMITS: Mapping[str, int] = {"read": 60, "write": 60, "drive": 12_000}
WINDOW = 61.0      # seconds: Google's minute, and a second for the request to get there


def kind_of(method: str, url: str) -> str:
    """Which of Google's quotas a request counts against: a Sheets API GET is a read, any other
    Sheets request a write, and anything else (Drive: polls, exports, the account's email) is
    Drive's."""
    if "/v4/spreadsheets" in url:
        return "read" if method.upper() == "GET" else "write"
    return "drive"


class QuotaBudget:
    """What one account may still send, kind by kind (`LIMITS`), over the last `window`
    seconds. Shared by every sheet a client opens; safe to share between threads."""

    def __init__(self, limits: Mapping[str, int] = LIMITS, window: float = WINDOW,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] | None = None):
        """`sleep`: how to wait for room (None: the caller's, see `take`)."""
        self.limits, self.window, self.clock, self.sleep = dict(limits), window, clock, sleep
        self.sent: dict[str, deque[float]] = {kind: deque() for kind in self.limits}
        self.lock = threading.Lock()

    def wait(self, kind: str) -> float:
        """Seconds until one more request of `kind` may go (0: now)."""
        with self.lock:
            return self._wait(kind, self.clock())

    def _wait(self, kind: str, now: float) -> float:
        sent = self.sent.setdefault(kind, deque())
        while sent and sent[0] <= now - self.window:
            sent.popleft()
        if len(sent) < self.limits.get(kind, 1 << 30):
            return 0.0
        return sent[0] + self.window - now

    def take(self, kind: str, sleep: Callable[[float], None] = time.sleep) -> float:
        """Wait until a request of `kind` may go, and count it as sent; the seconds waited.
        Waits with the budget's own sleep, else `sleep` (the client's: the service's ends at
        once when it stops)."""
        pause = self.sleep or sleep
        waited = 0.0
        while True:
            with self.lock:
                now = self.clock()
                wait = self._wait(kind, now)
                if wait <= 0:
                    self.sent[kind].append(now)
                    return waited
            pause(wait)
            waited += wait

    def exhausted(self, kind: str, retry_after: float = 0.0) -> None:
        """Google answered 429 to a request of `kind`: its minute is spent, whatever was
        counted here. Nothing more of that kind goes for `retry_after` seconds where Google
        said (Retry-After), else for a whole window from now: by then its minute has surely
        refilled."""
        with self.lock:
            now = self.clock()
            hold = min(retry_after, self.window) if retry_after > 0 else self.window
            sent = self.sent.setdefault(kind, deque())
            sent.clear()
            sent.extend([now + hold - self.window] * self.limits.get(kind, 1))
