"""Play URLs asked for at every open (取流: ``stream.resolve``, protocol.md "play URLs from
the video platform"): a camera marked ``resolve`` has no URL of its own; its tile's
player asks the backend, which asks the platform (WVP-GB28181, iSecure Center), and
plays what comes back — once.

``ResolvedPlayer`` is what a tile holds for such a camera: it resolves, then plays the URL
in a player from the pool (``inner``), and is that player to the tile from then on. It
never opens a URL twice: a reconnect is a new ``ResolvedPlayer`` (the tile's backoff
between), so a single-use URL is used once, an expired one never, and a URL the media
server refuses (401/403/404) or that stops is replaced by a fresh one. Its end sends
``stream.release`` (best effort) so the platform stops pulling the camera at once.

``Resolver`` bounds the asking: one request per player (so per tile, and per pre-started
tour page), and at most ``cap`` in flight for the whole wall — a 36-tile preset against a
platform that takes 2 s each does not fire 36 requests at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from wallclient.edges.video.frames import FrameCount
from wallclient.edges.video.player import Player
from wallclient.edges.video.routes import libvlc_has_rtsp
from wallclient.errors import CommandError

log = logging.getLogger(__name__)

RESOLVE_CAP = 18  # requests in flight for the whole wall (docs/video.md, "Play URLs")
RESOLVE_TIMEOUT_S = 16.0  # the backend answers within 15 s or fails (protocol.md)
HOLD_POLL_S = 0.05  # a URL held for a decoder looks for one this often

# What a tile says when there is no URL (English source; zh_CN in the translations)
REASONS = {
    "camera_offline": "device offline (platform)",
    "platform_timeout": "platform not answering",
    "timeout": "platform not answering",
    "no_protocol": "no URL form this wall plays",
    "unknown_camera": "camera unknown to the platform",
    "offline": "backend unreachable: no play URL",
}


def preferred_protocols(rtsp_in_vlc: bool | None = None) -> list[str]:
    """The URL forms to ask for, best first on this machine (``doctor``'s routes): those
    libvlc plays and can draw into native windows (HTTP-TS, fMP4; RTSP where it has
    live555), then those FFmpeg starts fastest (HTTP-FLV 0.1 s, RTSP over TCP, HLS, RTMP:
    docs/video.md, "URL forms"). WebSocket-FLV is never asked for: neither decoder reads it."""
    rtsp = libvlc_has_rtsp() if rtsp_in_vlc is None else rtsp_in_vlc
    if rtsp:
        return ["http-ts", "fmp4", "rtsp", "http-flv", "hls", "rtmp"]
    return ["http-ts", "fmp4", "http-flv", "rtsp", "hls", "rtmp"]


Send = Callable[[str, dict[str, Any], float], Awaitable[Any]]


class Resolver:
    """Asks the backend for play URLs, at most ``cap`` at once for the whole wall."""

    def __init__(self, send: Send, cap: int = RESOLVE_CAP, protocols: list[str] | None = None) -> None:
        self._send = send  # (command, data, timeout) → the ack's data; CommandError if refused
        self.cap = cap
        self.protocols = protocols or preferred_protocols()
        self._slots: asyncio.Semaphore | None = None
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests = 0
        self.failures = 0
        self.releases = 0
        self.expired = 0
        self.last_ms: float | None = None

    def _sem(self) -> asyncio.Semaphore:
        if self._slots is None:  # made on the loop that uses it
            self._slots = asyncio.Semaphore(self.cap)
        return self._slots

    async def resolve(self, camera: str, stream: str, kind: str = "live",
                      start: str | None = None, end: str | None = None,
                      wanted: Callable[[], bool] = lambda: True,
                      protocols: list[str] | None = None,
                      times: dict[str, float] | None = None) -> dict[str, Any]:  # fmt: skip
        """The ack's data ``{url, expires_at?, single_use, release?}``; CommandError when
        the backend or the platform says no. A request whose turn comes when it is no
        longer ``wanted`` (its tile moved on while it queued) is never sent. ``times``
        gets when it was ``sent`` and ``answered`` (monotonic)."""
        args: dict[str, Any] = {"camera": camera, "stream": stream, "kind": kind,
                                "protocols": list(protocols or self.protocols)}  # fmt: skip
        if start is not None:
            args["start"] = start
        if end is not None:
            args["end"] = end
        async with self._sem():
            if not wanted():
                raise CommandError("cancelled", "no longer wanted")
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.requests += 1
            t0 = time.monotonic()
            if times is not None:
                times["sent"] = t0
            try:
                data = await self._send("stream.resolve", args, RESOLVE_TIMEOUT_S)
            except CommandError:
                self.failures += 1
                raise
            finally:
                self.in_flight -= 1
            t1 = time.monotonic()
            if times is not None:
                times["answered"] = t1
            self.last_ms = (t1 - t0) * 1000
        if not isinstance(data, dict) or not isinstance(data.get("url"), str) or not data["url"]:
            self.failures += 1
            raise CommandError("platform_error", "the backend answered without a URL")
        return data

    def release(self, token: str) -> None:
        """``stream.release``, best effort: the platform may stop pulling now."""
        self.releases += 1

        async def go() -> None:
            try:
                await self._send("stream.release", {"release": token}, 5.0)
            except CommandError as exc:
                log.debug("stream.release %s: %s", token, exc)

        asyncio.ensure_future(go())

    def view(self) -> dict[str, Any]:
        return {"protocols": self.protocols, "cap": self.cap, "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight, "requests": self.requests,
                "failures": self.failures, "releases": self.releases, "expired": self.expired,
                "last_ms": None if self.last_ms is None else round(self.last_ms, 1)}  # fmt: skip


def expired(expires_at: str | None, now: float | None = None) -> bool:
    """Has a URL's ``expires_at`` (RFC 3339) passed? (A URL that cannot say, has not.)"""
    if not expires_at:
        return False
    try:
        t = datetime.fromisoformat(expires_at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return False
    return t <= (time.time() if now is None else now)


class ResolvedPlayer(Player):
    """A tile's player for a ``resolve`` camera: asks for a URL, then is the pool's player
    that plays it (``inner``). Made and ended by the pool (``PlayerPool.acquire_resolved``)."""

    def __init__(self, acquire: Callable[[str], Player | None], resolver: Resolver,
                 camera: str, stream: str, width: int, height: int, hold_s: float = 0.0) -> None:  # fmt: skip
        self.inner: Player | None = None
        self._own = FrameCount(width, height)  # what the tile reads until there is a player
        super().__init__(width, height, counted=True)
        self._acquire = acquire  # url → a playing player from the pool (None: budget spent)
        self.resolver = resolver
        self.camera, self.stream = camera, stream
        self.release_token: str | None = None
        self._crop: tuple[float, float, float, float] | None = None
        self._ended = False
        self.opened_at: float | None = None  # when its URL went to a player (monotonic)
        self.times: dict[str, float] = {"asked": time.monotonic()}  # ``timing``
        # how long the URL may wait for a decoder when the budget is spent: 0 for a tile's
        # own open (the tile says so), longer for a tour page started ahead — its URL in
        # hand, it opens as the flip frees the last page's decoders
        self.hold_s = hold_s
        self.state, self.error = "connecting", None
        self._task: asyncio.Future[None] | None = asyncio.ensure_future(self._open())

    # the tile's view: its own until the URL plays, then the inner player's
    @property
    def slot(self) -> Any:
        return self.inner.slot if self.inner is not None else self._own

    @slot.setter
    def slot(self, value: Any) -> None:
        self._own = value

    @property
    def state(self) -> str:
        return self.inner.state if self.inner is not None else self._state

    @state.setter
    def state(self, value: str) -> None:
        self._state = value

    @property
    def error(self) -> str | None:
        return self.inner.error if self.inner is not None else self._error

    @error.setter
    def error(self, value: str | None) -> None:
        self._error = value

    @property
    def route(self) -> str:  # type: ignore[override]
        return self.inner.route if self.inner is not None else "resolve"

    @property
    def native(self) -> bool:  # type: ignore[override]
        return bool(self.inner is not None and self.inner.native)

    @property
    def resolving(self) -> bool:
        """Still waiting for the platform's answer (no URL, no failure yet)."""
        return self.inner is None and self._state == "connecting"

    @property
    def abandoned(self) -> bool:  # type: ignore[override]
        return bool(self.inner is not None and self.inner.abandoned)

    async def _open(self) -> None:
        try:
            got = await self.resolver.resolve(self.camera, self.stream, wanted=self._wanted,
                                              times=self.times)  # fmt: skip
            if not self._ended and expired(got.get("expires_at")):
                # handed out already expired (a clock apart, a long queue): asked once more
                self.resolver.expired += 1
                got = await self.resolver.resolve(self.camera, self.stream, wanted=self._wanted,
                                                  times=self.times)  # fmt: skip
        except CommandError as exc:
            if not self._ended:
                self._state = "error"
                self._error = REASONS.get(exc.code) or exc.message or exc.code
                log.info("resolve %s/%s: %s %s", self.camera, self.stream, exc.code, exc.message)
            return
        self.release_token = got.get("release")
        if self._ended:  # the tile moved on while the platform was answering
            self._release()
            return
        if expired(got.get("expires_at")):
            self._state, self._error = "error", "the play URL had expired"
            self._release()
            return
        self.url = got["url"]
        player = self._acquire(self.url)
        until = time.monotonic() + self.hold_s
        while player is None and not self._ended and time.monotonic() < until:
            await asyncio.sleep(HOLD_POLL_S)
            if self._ended or expired(got.get("expires_at")):
                break
            player = self._acquire(self.url)
        if self._ended:
            self._release()
            return
        if player is None:
            self._state = "error"
            self._error = "the play URL had expired" if expired(got.get("expires_at")) else "decoder budget reached"
            self._release()
            return
        player.set_crop(self._crop)
        self.opened_at = time.monotonic()
        self.inner = player

    def timing(self) -> dict[str, int | None]:
        """Where this open's time went, in ms: waiting for a turn under the wall's cap
        (``queued``), the platform's answer (``platform``), the URL to the first picture
        (``picture``); None for what has not happened yet."""
        t = self.times

        def ms(a: float | None, b: float | None) -> int | None:
            return None if a is None or b is None else round((b - a) * 1000)

        first = getattr(self.inner.slot, "first_frame_at", None) if self.inner is not None else None
        return {"queued": ms(t.get("asked"), t.get("sent")),
                "platform": ms(t.get("sent"), t.get("answered")),
                "picture": ms(self.opened_at, first)}  # fmt: skip

    def _wanted(self) -> bool:
        return not self._ended

    def set_crop(self, crop: tuple[float, float, float, float] | None) -> None:
        self._crop = crop
        if self.inner is not None:
            self.inner.set_crop(crop)

    def play(self, url: str) -> None:
        raise RuntimeError("a resolved player plays only what it resolved")

    def poll(self, now: float) -> None:
        if self.inner is not None:
            self.inner.poll(now)

    def source_size(self) -> tuple[int, int]:
        size = getattr(self.inner, "source_size", None)
        return size() if size is not None else (16, 9)

    def snapshot(self, path: str) -> bool:
        shot = getattr(self.inner, "snapshot", None)
        return bool(shot(path)) if shot is not None else False

    def end(self, give_back: Callable[[Player], None]) -> None:
        """The tile let go: the inner player back to the pool, the stream released."""
        # a request already sent is answered and its stream released (``_open``); one
        # still queued is never sent
        self._ended = True
        inner, self.inner = self.inner, None
        if inner is not None:
            give_back(inner)
        self._release()
        self._state, self._error = "idle", None

    def _release(self) -> None:
        token, self.release_token = self.release_token, None
        if token:
            self.resolver.release(token)

    def stop(self) -> None:
        raise RuntimeError("ended by the pool (PlayerPool.release)")
