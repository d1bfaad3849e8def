"""The video platform behind the reference backend (``serve-demo --platform wvp|isc``):
play URLs made per request, as the centres' platforms make them (docs/protocol-decisions.md,
"Play URLs from the video platform").

- ``wvp`` — WVP-GB28181-pro with ZLMediaKit. A camera's stream exists only once
  ``stream.resolve`` has started it (``/api/play/start``: the answer comes after
  ``delay`` seconds, when video flows); until then the media server answers 404. The URL
  is fixed per camera and stream (ZLMediaKit's names: ``/rtp/{stream}.live.flv``,
  ``.live.ts``, ``.live.mp4``, ``rtsp://…/rtp/{stream}``), may
  be opened any number of times, and the stream is closed ``linger`` seconds after its last
  viewer — or at once by ``stream.release`` of its last holder (``/api/play/stop``).
- ``isc`` — Hikvision iSecure Center's ``previewURLs``: every resolve hands out a fresh
  token URL (``/openUrl/{token}/live.flv``, ``rtsp://…/openUrl/{token}``), valid for
  ``ttl`` seconds and good for one open: a second is refused with 403, an expired one too.

Recordings (``kind: playback``, WVP's ``/api/playback/start``, iSecure Center's
``playbackURLs``): a URL of the recorder's for the asked range, as an MP4 over HTTP (the
``fmp4`` form): WVP's ``/rtp/{ssrc}.live.mp4`` until released, iSecure Center's
``/openUrl/{token}/playback.mp4`` once and before its ``ttl``.

Both answer ``camera_offline`` for offline cameras, and can be told (``set_mode``, the
admin command ``platform``) to time out (``timeout``), fail (``fail``, with a message),
or — WVP only — answer before the stream is up (``early``), as the platforms do.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from wallclient.protocol import format_time

# What each platform serves, in its own URL shapes, by protocol name (protocol.md)
WVP_FORMS = {
    "http-flv": "http://{host}:{http}/rtp/{stream}.live.flv",
    "http-ts": "http://{host}:{http}/rtp/{stream}.live.ts",
    "fmp4": "http://{host}:{http}/rtp/{stream}.live.mp4",
    "rtsp": "rtsp://{host}:{rtsp}/rtp/{stream}",
}
ISC_FORMS = {
    "rtsp": "rtsp://{host}:{rtsp}/openUrl/{token}",
    "http-flv": "http://{host}:{http}/openUrl/{token}/live.flv",
    "http-ts": "http://{host}:{http}/openUrl/{token}/live.ts",
}
# a recording's URL forms (the recorder serves an MP4 of the range)
PLAYBACK_FORMS = {"wvp": "{base}/rtp/{token}.live.mp4", "isc": "{base}/openUrl/{token}/playback.mp4"}
# the media server's own suffix for each form (wallclient.demo.media.HTTP_FORMS)
MEDIA_SUFFIX = {"http-flv": ".live.flv", "http-ts": ".ts", "fmp4": ".live.mp4"}
RESOLVE_TIMEOUT_S = 15.0  # the backend answers within this or fails (protocol.md)


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class _Stream:
    """A WVP stream: started, its holders (release tokens), when it lost its last viewer."""

    started: bool = False
    starting: asyncio.Future[None] | None = None
    holders: set[str] = field(default_factory=set)
    idle_since: float | None = None


@dataclass
class _Token:
    """An iSecure Center play URL: its camera and stream, its expiry, whether it was opened."""

    camera: str
    profile: str
    expires: float
    opened: bool = False


class Platform:
    """Play URLs for ``resolve`` cameras; the media server asks ``gate`` of every
    ``/rtp/`` and ``/openUrl/`` path."""

    def __init__(self, kind: str, host: str, http_port: int, rtsp_port: int,
                 delay: float = 0.4, ttl: float = 300.0, linger: float = 20.0) -> None:  # fmt: skip
        if kind not in ("wvp", "isc"):
            raise ValueError(f"platform {kind}: wvp or isc")
        self.kind, self.host = kind, host
        self.http_port, self.rtsp_port = http_port, rtsp_port
        self.delay, self.ttl, self.linger = delay, ttl, linger
        self.mode = "normal"  # normal | timeout | fail | early
        self.offline: set[str] = set()  # cameras the platform says are offline (its own view)
        self.fail_message = "平台内部错误"
        self.streams: dict[tuple[str, str], _Stream] = {}
        self.tokens: dict[str, _Token] = {}
        self.releases: dict[str, tuple[str, str]] = {}  # release token → WVP stream
        self.count = {"resolves": 0, "in_flight": 0, "max_in_flight": 0, "releases": 0,
                      "refused_opens": 0, "started": 0, "stopped": 0,
                      "playbacks": 0}  # fmt: skip
        self.viewers: Any = None  # () → {camera: viewers} (the media server's count)
        self.on_stop: Any = None  # (camera, profile) → None: the media server drops its viewers
        self.on_start: Any = None  # async (camera, profile): the media server has its video
        self.recorder: Any = None  # wallclient.demo.recorder.Recorder: recordings as play URLs
        self.playback_releases: dict[str, str] = {}  # release token → the recorder's grant
        self._reaper: asyncio.Task[None] | None = None
        self.answer_ms: deque[int] = deque(maxlen=72)  # the last answers' times, as the platform took them

    def set_mode(self, mode: str, message: str | None = None) -> None:
        if mode not in ("normal", "timeout", "fail", "early"):
            raise ValueError(f"platform mode {mode}")
        self.mode = mode
        if message:
            self.fail_message = message

    def offered(self) -> list[str]:
        return list(WVP_FORMS if self.kind == "wvp" else ISC_FORMS)

    # --- stream.resolve / stream.release ----------------------------------------------

    async def resolve(self, camera: dict[str, Any], stream: str, kind: str, protocols: list[str],
                      start: float | None = None, end: float | None = None) -> dict[str, Any]:  # fmt: skip
        """The answer to ``stream.resolve`` (``Refused`` with a protocol error code)."""
        self.count["resolves"] += 1
        self.count["in_flight"] += 1
        self.count["max_in_flight"] = max(self.count["max_in_flight"], self.count["in_flight"])
        t0 = time.monotonic()
        try:
            return await self._resolve(camera, stream, kind, protocols, start, end)
        finally:
            self.count["in_flight"] -= 1
            self.answer_ms.append(round((time.monotonic() - t0) * 1000))

    async def _resolve(self, camera: dict[str, Any], stream: str, kind: str, protocols: list[str],
                       start: float | None, end: float | None) -> dict[str, Any]:  # fmt: skip
        if camera.get("status") == "offline" or camera["id"] in self.offline:
            raise Refused("camera_offline", f"设备 {camera['id']} 离线")
        if kind == "playback":
            return await self._playback(camera, start, end, protocols)
        offered = WVP_FORMS if self.kind == "wvp" else ISC_FORMS
        form = next((p for p in protocols if p in offered), None)
        if form is None:
            raise Refused("no_protocol", f"offered: {', '.join(offered)}")
        if self.mode == "timeout":
            await asyncio.sleep(RESOLVE_TIMEOUT_S)
            raise Refused("platform_timeout", "the platform did not answer within 15 s")
        if self.mode == "fail":
            await asyncio.sleep(self.delay)
            raise Refused("platform_error", self.fail_message)
        profile = "main" if stream == "main" else "sub"
        if self.kind == "isc":
            await asyncio.sleep(self.delay)
            token = secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")
            self.tokens[token] = _Token(camera["id"], profile, time.monotonic() + self.ttl)
            self._forget_old_tokens()
            url = offered[form].format(host=self.host, http=self.http_port, rtsp=self.rtsp_port,
                                       token=token)  # fmt: skip
            expires = datetime.now().astimezone() + timedelta(seconds=self.ttl)
            return {"url": url, "expires_at": format_time(expires), "single_use": True}
        key = (camera["id"], profile)
        s = self.streams.setdefault(key, _Stream())
        if not s.started:
            if s.starting is None:  # one start for every node asking at once (as WVP does)
                s.starting = asyncio.get_running_loop().create_future()
                if self.mode == "early":  # the answer first, the stream a moment later
                    asyncio.get_running_loop().call_later(self.delay, self._started, key)
                else:
                    # the device invited (SIP) and its video flowing into the media server:
                    # the delay is that whole start, the demo camera's own start inside it
                    starting = [asyncio.sleep(self.delay)]
                    if self.on_start is not None:
                        starting.append(self.on_start(*key))
                    await asyncio.gather(*starting)
                    self._started(key)
            elif self.mode != "early":
                await asyncio.shield(s.starting)
        release = secrets.token_hex(8)
        s.holders.add(release)
        s.idle_since = time.monotonic()
        self.releases[release] = key
        name = camera["id"] if profile == "main" else f"{camera['id']}_sub"
        url = offered[form].format(host=self.host, http=self.http_port, rtsp=self.rtsp_port,
                                   stream=name)  # fmt: skip
        self._reap_soon()
        return {"url": url, "single_use": False, "release": release}

    async def _playback(self, camera: dict[str, Any], start: float | None, end: float | None,
                        protocols: list[str]) -> dict[str, Any]:  # fmt: skip
        """A recording's play URL (WVP ``/api/playback/start``, iSC ``playbackURLs``)."""
        if self.recorder is None:
            raise Refused("platform_error", "录像服务未启用")
        if start is None or end is None or end <= start:
            raise Refused("bad_request", "playback needs start < end")
        if "fmp4" not in protocols:
            raise Refused("no_protocol", "offered for recordings: fmp4")
        if self.mode == "timeout":
            await asyncio.sleep(RESOLVE_TIMEOUT_S)
            raise Refused("platform_timeout", "the platform did not answer within 15 s")
        await asyncio.sleep(self.delay)
        if self.mode == "fail":
            raise Refused("platform_error", self.fail_message)
        self.count["playbacks"] += 1
        single = self.kind == "isc"
        token = self.recorder.grant(camera["id"], start, end, ttl=self.ttl, single_use=single)
        url = PLAYBACK_FORMS[self.kind].format(base=self.recorder.base, token=token)
        if single:
            expires = datetime.now().astimezone() + timedelta(seconds=self.ttl)
            return {"url": url, "expires_at": format_time(expires), "single_use": True}
        release = secrets.token_hex(8)
        self.playback_releases[release] = token
        return {"url": url, "single_use": False, "release": release}

    def _started(self, key: tuple[str, str]) -> None:
        s = self.streams.get(key)
        if s is None or s.started:
            return
        s.started, s.idle_since = True, time.monotonic()
        self.count["started"] += 1
        if s.starting is not None and not s.starting.done():
            s.starting.set_result(None)
        s.starting = None

    def release(self, token: str) -> bool:
        """``stream.release``: the holder's stream stops at once when it was the last."""
        grant = self.playback_releases.pop(token, None)
        if grant is not None:  # WVP /api/playback/stop
            self.count["releases"] += 1
            self.recorder.ungrant(grant)
            return True
        key = self.releases.pop(token, None)
        if key is None:
            return False
        self.count["releases"] += 1
        s = self.streams.get(key)
        if s is not None:
            s.holders.discard(token)
            # a stream still starting (the device invited, video not yet flowing) runs on:
            # its start is not undone, and the linger closes it if nobody comes
            if not s.holders and s.started:
                self._stop(key)
        return True

    def _stop(self, key: tuple[str, str]) -> None:
        s = self.streams.pop(key, None)
        if s is not None and s.started:
            self.count["stopped"] += 1
            for token in s.holders:
                self.releases.pop(token, None)
        if self.on_stop is not None:
            self.on_stop(*key)

    def _forget_old_tokens(self) -> None:
        now = time.monotonic()
        for token in [t for t, v in self.tokens.items() if v.expires < now - 60]:
            del self.tokens[token]

    def _reap_soon(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.ensure_future(self._reap())

    async def _reap(self) -> None:
        """WVP closes a stream ``linger`` s after its last viewer (ZLMediaKit's
        no-reader event, WVP's stop)."""
        while self.streams:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            watching = self.viewers() if self.viewers is not None else {}
            for key, s in list(self.streams.items()):
                if not s.started:
                    continue
                if watching.get(key[0], 0) > 0:
                    s.idle_since = None
                elif s.idle_since is None:
                    s.idle_since = now
                elif now - s.idle_since >= self.linger:
                    self._stop(key)

    # --- the media server's question ----------------------------------------------------

    def gate(self, path: str, form_hint: str) -> tuple[str, str, str] | int:
        """A platform path asked of the media server: (camera, profile, media suffix), or
        the HTTP status to refuse it with (404: no such stream now; 403: used or expired)."""
        if self.kind == "wvp" and path.startswith("/rtp/"):
            rest = path[len("/rtp/") :]
            for form, suffix in (("http-flv", ".live.flv"), ("http-ts", ".live.ts"),
                                 ("fmp4", ".live.mp4"), ("rtsp", "")):  # fmt: skip
                if form_hint == "rtsp" and form != "rtsp":
                    continue
                if form != "rtsp" and not rest.endswith(suffix):
                    continue
                name = rest[: len(rest) - len(suffix)] if suffix else rest.strip("/")
                cam, profile = (name[:-4], "sub") if name.endswith("_sub") else (name, "main")
                s = self.streams.get((cam, profile))
                if s is None or not s.started:
                    self.count["refused_opens"] += 1
                    return 404
                return cam, profile, MEDIA_SUFFIX.get(form, "")
            return 404
        if self.kind == "isc" and path.startswith("/openUrl/"):
            token = path[len("/openUrl/") :].split("/", 1)[0]
            t = self.tokens.get(token)
            if t is None:
                self.count["refused_opens"] += 1
                return 404
            if t.opened or time.monotonic() > t.expires:
                self.count["refused_opens"] += 1
                return 403
            t.opened = True
            suffix = ".live.flv" if path.endswith(".flv") else ".ts" if path.endswith(".ts") else ""
            return t.camera, t.profile, suffix
        return 404

    def view(self) -> dict[str, Any]:
        """The admin command ``platform``'s answer: mode, counts, streams up."""
        return {"kind": self.kind, "mode": self.mode, **self.count,
                "streams": sorted(f"{c}/{p}" for (c, p), s in self.streams.items() if s.started),
                "tokens": len(self.tokens), "answer_ms": list(self.answer_ms),
                "playback_refused": self.recorder.grant_refusals if self.recorder else 0}  # fmt: skip


def camera_streams(kind: str, cam_id: str, host: str, http_port: int, rtsp_port: int) -> dict[str, Any]:
    """What ``camera.upsert.streams`` says of a ``resolve`` camera: WVP's fixed-form URLs
    (they exist only while a stream is started: a wall that opened them directly would go
    black at its first reconnect), iSecure Center's nothing (every URL is made per request)."""
    if kind == "isc":
        return {"main": None, "sub": None}
    return {"main": f"http://{host}:{http_port}/rtp/{cam_id}.live.flv",
            "sub": f"http://{host}:{http_port}/rtp/{cam_id}_sub.live.flv"}  # fmt: skip
