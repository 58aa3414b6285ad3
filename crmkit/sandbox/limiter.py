"""The portal's request limits: the leaky bucket, the per-method time budget, forced faults.

All three read time from an injected clock so tests can drive them deterministically.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]

#: the operating budget counts execution time over ten one-minute buckets (BITRIX24.md §2)
_BUCKET_SECONDS = 60
_WINDOW_BUCKETS = 10


class LeakyBucket:
    """Every accepted request adds 1; the level drains ``rate`` per second; a request that would
    lift the level above ``burst`` is refused (and not counted, so a waiting client recovers)."""

    def __init__(self, rate: float | None, burst: int, clock: Clock) -> None:
        self.rate = rate or 0.0
        self.burst = burst
        self.clock = clock
        self.level = 0.0
        self._last = clock()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def admit(self) -> bool:
        if not self.enabled:
            return True
        with self._lock:
            now = self.clock()
            self.level = max(0.0, self.level - (now - self._last) * self.rate)
            self._last = now
            if self.level + 1 > self.burst:
                return False
            self.level += 1
            return True


@dataclass
class OperatingBudget:
    """Per-method execution-time accounting (``time.operating``) with an optional limit.

    ``cost`` fixes the seconds charged per call (tests use it to reach the limit quickly);
    ``None`` charges the measured processing time, as the cloud does.
    """

    clock: Clock
    limit: float | None = None
    cost: float | None = None
    _buckets: dict[str, dict[int, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _live(self, method: str, now: float) -> dict[int, float]:
        current = int(now // _BUCKET_SECONDS)
        buckets = self._buckets.setdefault(method, {})
        for key in [k for k in buckets if k <= current - _WINDOW_BUCKETS]:
            del buckets[key]
        return buckets

    def used(self, method: str) -> float:
        with self._lock:
            return sum(self._live(method, self.clock()).values())

    def reset_at(self, method: str) -> int:
        """Unix time when the oldest live bucket of ``method`` expires."""
        with self._lock:
            now = self.clock()
            buckets = self._live(method, now)
            oldest = min(buckets) if buckets else int(now // _BUCKET_SECONDS)
            return (oldest + _WINDOW_BUCKETS) * _BUCKET_SECONDS

    def exhausted(self, method: str) -> bool:
        # refused once the accumulated time *exceeds* the limit (BITRIX24.md §2)
        return self.limit is not None and self.used(method) > self.limit

    def charge(self, method: str, seconds: float) -> None:
        spent = self.cost if self.cost is not None else seconds
        with self._lock:
            now = self.clock()
            buckets = self._live(method, now)
            key = int(now // _BUCKET_SECONDS)
            buckets[key] = buckets.get(key, 0.0) + spent


@dataclass
class ForcedFault:
    status: int
    code: str
    description: str


#: what a scheduled fault does to the request it falls on
AFTER_FAULTS = ("drop-after", "500-after")
#: statuses a scheduled fault answers with before the call runs (503: Bitrix24's limit, 429:
#: amoCRM's); each sandbox words the body its own way
BEFORE_FAULTS = ("503", "429")


@dataclass(frozen=True)
class Scheduled:
    """A fault bound to the ``at``-th HTTP request (1-based, counting every request):
    ``drop-after`` runs the call and then closes the connection without an answer (a lost
    reply), ``500-after`` runs it and answers 500, ``503`` (or ``429``) refuses ``count``
    requests from there on before running them (as the rate limiter does)."""

    kind: str
    at: int
    count: int = 1


def parse_faults(spec: str) -> list[Scheduled]:
    """``drop-after@5,500-after@9,503x10@3,429x4@7`` → scheduled faults; ValueError if
    malformed."""
    out = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        what, sep, at = part.partition("@")
        if not sep or not at.isdigit() or int(at) < 1:
            raise ValueError(f"{part!r}: expected KIND@N with N ≥ 1")
        if what in AFTER_FAULTS:
            out.append(Scheduled(what, int(at)))
            continue
        status, _x, count = what.partition("x")
        if status in BEFORE_FAULTS and count.isdigit() and int(count) >= 1:
            out.append(Scheduled(status, int(at), int(count)))
            continue
        raise ValueError(f"{part!r}: the kinds are drop-after@N, 500-after@N, 503xK@N and 429xK@N")
    return out


class Faults:
    """Answers forced onto the next HTTP requests (e.g. a burst of 503s for retry tests), and
    faults scheduled for given requests (``schedule``), including ones that run the call first."""

    def __init__(self) -> None:
        self._queue: list[ForcedFault] = []
        self._scheduled: list[Scheduled] = []
        self._lock = threading.Lock()

    def schedule(self, *faults: Scheduled) -> None:
        with self._lock:
            self._scheduled.extend(faults)

    def before(self, number: int) -> ForcedFault | None:
        """A refusal for request ``number`` before it runs (a scheduled 503 or 429), if any."""
        with self._lock:
            for fault in self._scheduled:
                if fault.kind in BEFORE_FAULTS and fault.at <= number < fault.at + fault.count:
                    return ForcedFault(int(fault.kind), "QUERY_LIMIT_EXCEEDED", "Too many requests")
        return None

    def after(self, number: int) -> str | None:
        """What happens to the answer of request ``number`` once it ran, if anything."""
        with self._lock:
            return next(
                (f.kind for f in self._scheduled if f.kind in AFTER_FAULTS and f.at == number),
                None,
            )

    def force(
        self,
        count: int,
        status: int = 503,
        code: str = "QUERY_LIMIT_EXCEEDED",
        description: str = "Too many requests",
    ) -> None:
        with self._lock:
            self._queue.extend(ForcedFault(status, code, description) for _ in range(count))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._scheduled.clear()

    def take(self) -> ForcedFault | None:
        with self._lock:
            return self._queue.pop(0) if self._queue else None

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)
