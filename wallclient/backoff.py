"""Reconnect policy: exponential back-off with full jitter, as pure functions."""

from __future__ import annotations

import random
from collections.abc import Iterator

INITIAL_S = 0.5
MAXIMUM_S = 30.0


def ceiling(attempt: int, initial: float = INITIAL_S, maximum: float = MAXIMUM_S) -> float:
    """The upper bound of the wait before retry ``attempt`` (0-based)."""
    return float(min(maximum, initial * 2.0 ** min(attempt, 32)))


def delays(
    initial: float = INITIAL_S, maximum: float = MAXIMUM_S, rng: random.Random | None = None
) -> Iterator[float]:
    """Endless waits in [0, ceiling): "full jitter", so many walls never retry in step."""
    rng = rng or random.Random()
    attempt = 0
    while True:
        yield rng.uniform(0, ceiling(attempt, initial, maximum))
        attempt += 1
