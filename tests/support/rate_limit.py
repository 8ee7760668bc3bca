"""A configurable rate limit for the platform stand-ins: at most `limit` requests in any
`period` seconds per key (each stand-in says what its key is: Slack a token and method,
Discord a route, Telegram a chat). A refused request does not count."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RateLimit:
    limit: int
    period: float = 1.0
    now: Callable[[], float] = time.monotonic
    _seen: dict[str, deque[float]] = field(default_factory=dict)

    def retry_after(self, key: str) -> float | None:
        """None: the request is allowed (and counted); else the seconds until one fits."""
        at = self.now()
        seen = self._seen.setdefault(key, deque())
        while seen and seen[0] <= at - self.period:
            seen.popleft()
        if len(seen) >= self.limit:
            return max(seen[0] + self.period - at, 0.001)
        seen.append(at)
        return None


def whole_seconds(seconds: float) -> int:
    """Retry-After as Slack and Telegram send it: whole seconds, rounded up."""
    return max(1, math.ceil(seconds))
