"""Time on the wall, without Qt, sockets or a decoder: recorded spans, replay clocks,
and the wall's data as it was at a moment.

- ``Span`` / ``parse_spans``: a playback server's ``/list`` answer (protocol.md,
  "Recording and playback"), checked field by field; a malformed answer is an error
  with its reason, never a half-read list.
- ``Clock``: the recorded time a replay is at, running at ``speed`` from a monotonic
  start, paused or seeked. One clock drives one tile (instant replay) or every tile of
  an incident replay, so they cannot drift apart: each tile shows the frame whose
  recorded time the clock has reached.
- ``past_incidents`` / ``past_indicators``: the incident feed and indicator readings
  at a moment, from the cache's history rows.

Times are epoch seconds (floats) inside; RFC 3339 with milliseconds at the edges.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wallclient.protocol import CST, parse_time

SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0)
MIN_SPEED, MAX_SPEED = 0.5, 8.0
INSTANT_BACK_S = 30.0  # 即时回放: how far back one gesture goes (config: [replay] instant_s)
BEFORE_S = 60.0  # 事件回溯: how long before the report an incident replay starts


def rfc3339(t: float) -> str:
    """Epoch seconds as RFC 3339 with milliseconds, in China Standard Time."""
    return datetime.fromtimestamp(t, CST).isoformat(timespec="milliseconds")


def epoch_of(text: str) -> float:
    """RFC 3339 → epoch seconds (ValueError when it is not a time)."""
    if not isinstance(text, str):
        raise ValueError("not a time")
    return parse_time(text).timestamp()


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch the recorder holds without a break."""

    start: float
    duration: float

    @property
    def end(self) -> float:
        return self.start + self.duration


def parse_spans(text: str | bytes) -> list[Span]:
    """A ``/list`` answer → its spans in time order; ValueError names what is wrong."""
    try:
        items = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"the recording list is not JSON ({exc})") from None
    if not isinstance(items, list):
        raise ValueError("the recording list is not a list")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError(f"recording list item {i} is not an object")
        try:
            start = epoch_of(item["start"])
        except (KeyError, ValueError, TypeError):
            raise ValueError(f"recording list item {i}: start is not a time") from None
        duration = item.get("duration")
        if isinstance(duration, bool) or not isinstance(duration, int | float) or duration < 0:
            raise ValueError(f"recording list item {i}: duration is not a number of seconds")
        out.append(Span(start, float(duration)))
    out.sort(key=lambda s: s.start)
    return out


def covering(spans: Iterable[Span], t: float, slack: float = 0.05) -> Span | None:
    """The span that holds ``t`` (``slack``: the join between two segments)."""
    for s in spans:
        if s.start - slack <= t < s.end + slack:
            return s
    return None


def next_start(spans: Iterable[Span], t: float) -> float | None:
    """Where the recording resumes after a gap at ``t`` (None: not within what was listed)."""
    later = [s.start for s in spans if s.start > t]
    return min(later) if later else None


def clamp_speed(speed: float) -> float:
    return min(MAX_SPEED, max(MIN_SPEED, float(speed)))


class Clock:
    """A replay's recorded time: ``position`` runs at ``speed`` while not paused.

    Shared between threads (the GUI sets it, the players read it); ``version`` grows
    with every seek, so a player knows to look for the new moment instead of
    waiting for the next frame of the old one.
    """

    def __init__(
        self, position: float, speed: float = 1.0, paused: bool = False,
        now: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self._now = now
        self._lock = threading.Condition()
        self._base = position  # recorded time at _mono
        self._mono = now()
        self.speed = clamp_speed(speed)
        self.paused = paused
        self.version = 0

    def position(self, at: float | None = None) -> float:
        with self._lock:
            return self._position(self._now() if at is None else at)

    def _position(self, at: float) -> float:
        if self.paused:
            return self._base
        return self._base + (at - self._mono) * self.speed

    def _rebase(self) -> None:
        at = self._now()
        self._base, self._mono = self._position(at), at

    def seek(self, position: float) -> None:
        with self._lock:
            self._base, self._mono = position, self._now()
            self.version += 1
            self._lock.notify_all()

    def set_speed(self, speed: float) -> None:
        with self._lock:
            self._rebase()
            self.speed = clamp_speed(speed)
            self._lock.notify_all()

    def set_paused(self, paused: bool) -> None:
        with self._lock:
            self._rebase()
            self.paused = bool(paused)
            self._lock.notify_all()

    def wait_until(self, t: float, stop: threading.Event, version: int, limit: float = 0.25) -> bool:
        """Sleep (at most ``limit`` s at a time) until the clock reaches ``t``; False when
        the clock was seeked or the player stopped meanwhile."""
        while not stop.is_set():
            with self._lock:
                if self.version != version:
                    return False
                ahead = t - self._position(self._now())
                if ahead <= 0:
                    return True
                wait = limit if self.paused else min(limit, ahead / self.speed)
                self._lock.wait(max(0.001, wait))
        return False

    def wait_running(self, stop: threading.Event, version: int) -> bool:
        """Sleep while paused; False when the clock was seeked or the player stopped."""
        while not stop.is_set():
            with self._lock:
                if self.version != version:
                    return False
                if not self.paused:
                    return True
                self._lock.wait(0.25)
        return False

    def state(self) -> dict[str, Any]:
        return {"position": rfc3339(self.position()), "speed": self.speed, "paused": self.paused}


# --- the wall's data at a moment -----------------------------------------------------------


@dataclass
class Past:
    """What this node's data panels show during an incident replay: the incidents and
    indicator readings as they were at ``at`` (cameras, presets and the wall stay live)."""

    at: datetime
    incidents: dict[str, dict[str, Any]]
    indicators: dict[str, dict[str, Any]]
    jumped: bool = False  # a seek (or the replay's start) brought it, not the clock running
    # each indicator's readings before ``at``, oldest first: its sparkline then
    history: dict[str, tuple[float | None, ...]] = field(default_factory=dict)
    # the units where they were then, and their fixes up to then (wallclient.units.units_at):
    # worked out by ``units_from`` when the map first asks (12–38 ms at 2,000 units: not in
    # the seek's own turn, and not at all on a node with no map)
    units: dict[str, Any] | None = None
    fixes: Any = None
    units_from: Callable[[], tuple[dict[str, Any], Any]] | None = None

    def units_then(self) -> tuple[dict[str, Any], Any] | None:
        """(units, fixes) of then, if the replay knows them."""
        if self.units is None and self.units_from is not None:
            self.units, self.fixes = self.units_from()
            self.units_from = None
        return None if self.units is None else (self.units, self.fixes)


def past_incidents(rows: Iterable[tuple[float, str, str | None]]) -> dict[str, dict[str, Any]]:
    """The live incidents at a moment from history rows ``(t, id, incident JSON or None
    for a removal)`` at or before it, in time order: each id's last row wins."""
    out: dict[str, dict[str, Any]] = {}
    for _t, iid, data in rows:
        if data is None:
            out.pop(iid, None)
        else:
            out[iid] = json.loads(data)
    return out


def past_indicators(
    live: dict[str, dict[str, Any]], readings: dict[str, tuple[float, float | None]]
) -> dict[str, dict[str, Any]]:
    """The indicators as they read at a moment: each one's definition with its value and
    time of then (``readings``: id → (t, value)); one with no reading then has none."""
    out = {}
    for iid, ind in live.items():
        got = readings.get(iid)
        past = dict(ind)
        if got is None:
            past["value"], past["t"] = None, None
        else:
            past["value"], past["t"] = got[1], rfc3339(got[0])
        out[iid] = past
    return out
