"""Per-person token buckets: how many questions (or intake messages) one identity may send in
a burst, and how fast the allowance refills. The core asks before doing the work and, when
refused, tells the person how long to wait; the local CLI is not limited.

Rates are written as `N/<duration>` ("10/60s": a burst of 10, refilled over 60 seconds);
`0` turns a limit off.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

Rate = tuple[float, int]  # (tokens per minute, burst)

_RATE = re.compile(r"(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*(s|sec|m|min|h)")
_UNIT_SECONDS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
RATE_FORMAT = (
    "'N/<duration>' such as '10/60s', '30/5m' or '100/h' (a burst of N per duration), or 0"
)


def parse_rate(text: str) -> Rate | None:
    """'10/60s' → (10.0 per minute, burst 10); '0' → None (no limit); ValueError otherwise."""
    value = text.strip().lower()
    if value in ("0", "off"):
        return None
    match = _RATE.fullmatch(value)
    if match is None:
        raise ValueError(f"expected {RATE_FORMAT}")
    burst = int(match.group(1))
    seconds = float(match.group(2) or 1) * _UNIT_SECONDS[match.group(3)]
    if burst == 0:
        return None
    if seconds <= 0:
        raise ValueError(f"the duration must be longer than zero; expected {RATE_FORMAT}")
    return burst * 60.0 / seconds, burst


class RateLimiter:
    """Token buckets per (kind, key). Thread-safe. A bucket that has refilled completely says
    nothing a fresh one would not, so such buckets are dropped every `sweep_seconds`, and no
    more than `max_keys` are kept (the least recently used go first)."""

    def __init__(
        self,
        rates: Mapping[str, Rate],
        clock: Callable[[], float] = time.monotonic,
        *,
        max_keys: int = 50_000,
        sweep_seconds: float = 60.0,
    ) -> None:
        for kind, (per_minute, burst) in rates.items():
            if per_minute <= 0 or burst < 1:
                raise ValueError(f"rate for {kind!r} needs tokens per minute > 0 and burst >= 1")
        self._rates = {
            kind: (per_minute / 60.0, burst) for kind, (per_minute, burst) in rates.items()
        }
        self._clock = clock
        self._max_keys = max_keys
        self._sweep_seconds = sweep_seconds
        # (kind, key) → [tokens, when they were counted]
        self._buckets: OrderedDict[tuple[str, str], list[float]] = OrderedDict()
        self._lock = threading.Lock()
        self._swept = clock()

    def check(self, key: str, kind: str) -> float:
        """0.0 when allowed (a token is taken), else the seconds until one is available."""
        rate = self._rates.get(kind)
        if rate is None:
            return 0.0
        per_second, burst = rate
        with self._lock:
            now = self._clock()
            if now - self._swept >= self._sweep_seconds:
                self._sweep(now)
            bucket = self._buckets.get((kind, key))
            if bucket is None:
                bucket = [float(burst), now]
                self._buckets[(kind, key)] = bucket
                while len(self._buckets) > self._max_keys:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end((kind, key))
                bucket[0] = min(float(burst), bucket[0] + (now - bucket[1]) * per_second)
                bucket[1] = now
            if bucket[0] >= 1.0:
                bucket[0] -= 1.0
                return 0.0
            return (1.0 - bucket[0]) / per_second

    def __len__(self) -> int:
        return len(self._buckets)

    def _sweep(self, now: float) -> None:
        full = [
            name
            for name, (tokens, counted) in self._buckets.items()
            if tokens + (now - counted) * self._rates[name[0]][0] >= self._rates[name[0]][1]
        ]
        for name in full:
            del self._buckets[name]
        self._swept = now
