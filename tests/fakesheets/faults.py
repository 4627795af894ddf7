"""Faults on demand, and a record of what was asked.

    server.faults.next("429", "503")          # the next two requests fail so, in order
    server.faults.rate(0.2, seed=7)           # then one in five fails (429/500/503/drop)
    server.faults.before = person_edits       # called before each request is handled

A 429 carries Google's RESOURCE_EXHAUSTED body and a Retry-After header; "drop" closes the
connection without an answer; "lost" carries the request out and then closes the connection
without an answer (the reply lost on its way back); "slow" answers after `slow_seconds`;
"stall" holds the request without a word until `release()` (or the server stops), then closes
the connection, as a connection stalled somewhere between here and Google does
(`stalled` is set once a stall has begun); "ok"
is no fault (`next("ok", "ok", "lost")` loses the third request's answer). `server.faults.log` lists
(method, path) of every request, so a test can count the API requests a cycle used, and
`server.faults.bodies` the size in bytes of each request's body and `server.faults.targets` its
request target (path and query, as sent), in the same order.
"""
from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Callable

KINDS = ("429", "500", "503", "drop", "lost", "slow", "stall", "ok")

QUOTA = ("Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute "
         "per user' of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'.")


@dataclass
class Faults:
    log: list[tuple[str, str]] = field(default_factory=list)
    bodies: list[int] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    queue: list[str] = field(default_factory=list)
    probability: float = 0.0
    rng: random.Random = field(default_factory=random.Random)
    retry_after: int = 1
    slow_seconds: float = 2.0
    before: Callable[[str, str], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    stalled: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        """Every stalled request, and any stalled from now on, closed without an answer."""
        self.released.set()

    def next(self, *kinds: str) -> None:
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown faults {unknown}; use {KINDS}")
        with self.lock:
            self.queue.extend(kinds)

    def rate(self, probability: float, seed: int = 0,
             kinds: tuple[str, ...] = ("429", "500", "503", "drop")) -> None:
        with self.lock:
            self.probability, self.rng, self.kinds = probability, random.Random(seed), kinds

    def clear(self) -> None:
        with self.lock:
            self.queue.clear()
            self.probability = 0.0

    def take(self, method: str, path: str, size: int = 0, target: str = "") -> str | None:
        """Record the request (its body's size, its target); the fault to answer it with, if
        any."""
        with self.lock:
            self.log.append((method, path))
            self.bodies.append(size)
            self.targets.append(target or path)
            if self.queue:
                kind = self.queue.pop(0)
                return None if kind == "ok" else kind
            if self.probability and self.rng.random() < self.probability:
                return self.rng.choice(self.kinds)
        return None

    def answer(self, kind: str) -> tuple[int, dict, dict]:
        """(status, body, headers) of a fault that gets an answer."""
        if kind == "429":
            return 429, {"error": {"code": 429, "message": QUOTA, "status": "RESOURCE_EXHAUSTED",
                                   "details": [{
                                       "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                       "reason": "RATE_LIMIT_EXCEEDED",
                                       "domain": "googleapis.com",
                                       "metadata": {"service": "sheets.googleapis.com",
                                                    "quota_metric": "sheets.googleapis.com/"
                                                                    "write_requests"}}]}}, \
                {"Retry-After": str(self.retry_after)}
        if kind == "500":
            return 500, {"error": {"code": 500, "message": "Internal error encountered.",
                                   "status": "INTERNAL"}}, {}
        return 503, {"error": {"code": 503, "message": "The service is currently unavailable.",
                               "status": "UNAVAILABLE"}}, {}
