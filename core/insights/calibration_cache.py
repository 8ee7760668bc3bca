"""The student's calibration, kept in Redis between views. Replaying a year of reviews
through fsrs is most of the cost of /forecast and the insights page, yet the result
changes only with the review history and the scheduler: the entry is stamped with both
(`inputs.review_mark` and the scheduler's settings) and recomputed when either moved."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from typing import Any, Protocol, runtime_checkable

from fsrs import Scheduler
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import User
from core.insights import inputs
from core.insights.calibration import Calibration, CalibrationBin, calibrate, predictions

log = logging.getLogger(__name__)

# Bumped when the calibration is computed differently, so older entries are not read.
VERSION = 1
KEEP_SECONDS = 7 * 24 * 3600


@runtime_checkable
class CalibrationCache(Protocol):
    """The two commands the cache needs (redis.asyncio.Redis has them)."""

    def get(self, name: str) -> Awaitable[Any]: ...
    def set(self, name: str, value: str, ex: int) -> Awaitable[Any]: ...


def cache_key(user_id: int) -> str:
    return f"teddy:insights:calibration:v{VERSION}:{user_id}"


def encode(stamp: str, calibration: Calibration) -> str:
    bins = [[b.low, b.high, b.count, b.predicted, b.actual] for b in calibration.bins]
    return json.dumps(
        {
            "stamp": stamp,
            "bins": bins,
            "predictions": calibration.predictions,
            "predicted": calibration.predicted,
            "actual": calibration.actual,
        }
    )


def decode(raw: str | bytes, stamp: str) -> Calibration | None:
    """The cached calibration when it was computed for `stamp`, else None."""
    found = json.loads(raw)
    if found.get("stamp") != stamp:
        return None
    return Calibration(
        tuple(CalibrationBin(lo, hi, int(n), p, a) for lo, hi, n, p, a in found["bins"]),
        int(found["predictions"]),
        float(found["predicted"]),
        float(found["actual"]),
    )


async def user_calibration(
    session: AsyncSession, user: User, scheduler: Scheduler, cache: CalibrationCache | None
) -> Calibration:
    """The calibration over the user's own reviews: from the cache when their reviews
    and scheduler are those it was computed for, else replayed (and cached)."""
    # Read before the reviews: a review committed in between leaves a stamp that is
    # already out of date, never a current stamp next to an older result.
    mark = await inputs.review_mark(session, user)
    stamp = json.dumps([user.id, *mark, scheduler.to_dict()], sort_keys=True)
    key = cache_key(user.id)
    raw = await _read(cache, key)
    if raw is not None and (kept := decode(raw, stamp)) is not None:
        return kept
    events = await inputs.review_events(session, user)
    calibration = calibrate(await asyncio.to_thread(predictions, events, scheduler))
    await _write(cache, key, encode(stamp, calibration))
    return calibration


# The cache only saves time: a Redis that is down or refuses means computing it again,
# never a failed page or command. (Core knows no Redis client, hence the broad catch.)
async def _read(cache: CalibrationCache | None, key: str) -> Any:
    if cache is None:
        return None
    try:
        return await cache.get(key)
    except Exception:
        log.warning("calibration cache unreadable; computing it", exc_info=True)
        return None


async def _write(cache: CalibrationCache | None, key: str, value: str) -> None:
    if cache is None:
        return
    try:
        await cache.set(key, value, ex=KEEP_SECONDS)
    except Exception:
        log.warning("calibration cache not written", exc_info=True)
