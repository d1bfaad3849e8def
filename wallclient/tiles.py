"""What a video tile shows and does, decided without Qt or a player in sight.

A tile never passes a frozen picture off as live. Each ``step`` looks at the camera,
the player and the clock and says which state the tile is in and what to do
(start a player, stop it, wait for a retry). The panel carries the actions out.

States (control-api.md): idle · connecting · playing · stale · no_signal · offline · error.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Protocol

STALE_S = 3.0  # no new frame for this long: the picture is frozen, say so
LOST_S = 4.5  # … for this long: the signal is gone; stop and reconnect
CONNECT_S = 8.0  # no first frame within this: the camera is not answering
RETRY_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
SUB_MAX_PIXELS = 1.5 * 640 * 360  # a tile larger than this gets the main stream


class PlayerLike(Protocol):
    state: str  # connecting | playing | ended | error
    error: str | None
    native: bool  # draws into a window of its own (nothing for the tile to paint)

    def frames(self) -> int: ...

    def last_frame_at(self) -> float | None: ...

    def fps(self, now: float) -> float: ...

    def set_crop(self, crop: tuple[float, float, float, float] | None) -> None: ...


def streams_of(camera: dict[str, Any]) -> dict[str, Any]:
    """A camera's streams by name; a ``resolve`` camera's URLs come at each open
    (stream.resolve), so only its names count (both, when it names none)."""
    streams = camera.get("streams") or {}
    if camera.get("resolve"):
        return {k: "resolve" for k in (streams or ("main", "sub"))}
    return dict(streams)


def stream_for(width: int, height: int, streams: dict[str, str]) -> str | None:
    """The sub stream for small tiles, the main stream for large ones (either if alone)."""
    want = "main" if width * height > SUB_MAX_PIXELS else "sub"
    if streams.get(want):
        return want
    other = "sub" if want == "main" else "main"
    return other if streams.get(other) else None


def tour_page(server_now_s: float, changed_at_s: float, dwell_s: float, pages: int) -> int:
    """The page every node of a wall shows at this moment, from server time alone."""
    if pages <= 1 or dwell_s <= 0:
        return 0
    return int(math.floor((server_now_s - changed_at_s) / dwell_s)) % pages


def page_cameras(cameras: list[str], tiles: int, page: int) -> list[str | None]:
    """The cameras of one tour page on ``tiles`` tiles (None where the page runs out)."""
    if tiles <= 0:
        return []
    chunk = cameras[page * tiles : (page + 1) * tiles]
    return list(chunk) + [None] * (tiles - len(chunk))


def pages_of(cameras: list[str], tiles: int) -> int:
    return max(1, math.ceil(len(cameras) / tiles)) if tiles > 0 else 1


@dataclass
class Action:
    kind: str  # start | stop
    stream: str | None = None  # start: which of the camera's streams
    player: Any = None  # stop: the player to hand back (the tile has let go of it)


class Tile:
    """One tile's camera, its player's life and its honest state."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.camera: str | None = None
        self.stream: str | None = None
        self.player: PlayerLike | None = None
        self.state = "idle"
        self.error: str | None = None
        self.started_at = 0.0
        self.retry_at: float | None = None
        self._failures = 0
        self.last_failure: str | None = None  # why the last attempt failed (said while retrying)
        self._lost = False  # this camera played, then its signal went: until it plays again
        self.warm: tuple[str, str, Any, float] | None = None  # (camera, stream, player, since)
        self._rng = rng or random.Random()

    def assign(self, camera: str | None, now: float = 0.0) -> list[Any]:
        """Put another camera on the tile; returns the players to hand back. A player
        started ahead for this camera (``prepare``) is adopted: the flip shows its
        picture at once."""
        if camera == self.camera:
            return []
        out: list[Any] = []
        if self.player is not None:
            out.append(self.player)
            self.player = None
        self.camera = camera
        self.retry_at = None
        self._failures = 0
        self.last_failure = None
        self._lost = False
        self.error = None
        self.state = "idle" if camera is None else "connecting"
        if self.warm is not None:
            w_cam, w_stream, w_player, w_at = self.warm
            self.warm = None
            if w_cam == camera:
                self.player, self.stream, self.started_at = w_player, w_stream, w_at
            else:
                out.append(w_player)
        return out

    def prepare(self, camera: str, stream: str, player: Any, now: float) -> None:
        """A player already started for the camera this tile shows next."""
        self.warm = (camera, stream, player, now)

    def let_go(self) -> list[Any]:
        """Every player the tile holds, to hand back (it leaves the wall)."""
        out = [p for p in (self.player, self.warm[2] if self.warm else None) if p is not None]
        self.player, self.warm = None, None
        return out

    def step(
        self, now: float, camera: dict[str, Any] | None, width: int, height: int
    ) -> list[Action]:
        """Decide the state at ``now``; the actions to carry out, in order."""
        actions: list[Action] = []
        if self.camera is None or camera is None:
            self.state, self.error = "idle", None
            return self._stop(actions)
        if camera.get("status") == "offline":
            self.state, self.error = "offline", None
            self.retry_at = None
            return self._stop(actions)
        want = stream_for(width, height, streams_of(camera))
        if want is None:
            self.state, self.error = "error", "camera has no stream URL"
            return self._stop(actions)
        if self.player is not None and want != self.stream:
            self._stop(actions)  # the tile changed size: main ↔ sub
            self.retry_at = None
        player = self.player
        if player is None:
            if self.retry_at is not None and now < self.retry_at:
                return actions  # showing the failure and its countdown
            self.stream = want
            self.started_at = now
            # after a loss, a reconnect attempt is still "no signal" until a frame comes
            self.state = "no_signal" if self._lost else "connecting"
            self.error = "reconnecting" if self._lost else None
            actions.append(Action("start", want))
            return actions
        last = player.last_frame_at()
        if player.state in ("error", "ended"):
            if last is not None:
                return self._fail(actions, now, "no_signal", player.error or "stream ended")
            return self._fail(actions, now, "error", player.error or "stream ended")
        if last is None:
            # a player still asking for its URL (edges.video.resolved) waits for the platform's
            # answer, which says itself why not; the picture's time runs from the URL on
            began = max(self.started_at, getattr(player, "opened_at", None) or 0.0)
            if getattr(player, "resolving", False):
                self.state = "connecting"
                return actions
            if now - began > CONNECT_S:
                return self._fail(actions, now, "error", f"no picture within {CONNECT_S:g} s")
            self.state = "connecting"
            return actions
        age = now - last
        if age >= LOST_S:
            return self._fail(actions, now, "no_signal", f"no frame for {age:.0f} s")
        if age >= STALE_S:
            self.state = "stale"
            return actions
        self.state, self.error = "playing", None
        self._failures = 0
        self.last_failure = None
        self._lost = False
        return actions

    @property
    def failures(self) -> int:
        """Attempts that failed since this camera last played (or was put on the tile):
        a retry after one is still "connecting", and says which attempt it is and why the
        last one failed, so a dead camera is known as one between its attempts too."""
        return self._failures

    def retry_in(self, now: float) -> float | None:
        if self.player is None and self.retry_at is not None:
            return max(0.0, self.retry_at - now)
        return None

    def _fail(self, actions: list[Action], now: float, state: str, reason: str) -> list[Action]:
        self.state, self.error = state, reason
        self.last_failure = reason
        self._lost = self._lost or state == "no_signal"
        delay = RETRY_S[min(self._failures, len(RETRY_S) - 1)]
        self._failures += 1
        self.retry_at = now + delay * self._rng.uniform(0.8, 1.2)
        return self._stop(actions)

    def _stop(self, actions: list[Action]) -> list[Action]:
        if self.player is not None:
            actions.append(Action("stop", player=self.player))
            self.player = None
        return actions
