"""The tablet page's server (docs/tablet.md): HTTPS on the LAN, in the wall's process and
on its event loop (aiohttp under qasync), off unless ``[tablet] port`` is set.

- ``GET /pair/{code}`` redeems a pairing code: the device gets an HttpOnly, Secure,
  SameSite=Strict session cookie and is sent to ``/``.
- ``GET /`` the page (``resources/tablet``); without a session, a page saying how to pair.
- ``GET /ws`` the page's WebSocket (session cookie, and an ``Origin`` of this very host —
  a page of another site, or a browser on the wall PC pointed elsewhere, is refused):
  ``{"id", "cmd", "args"}`` → ``{"id", "ok", "data"|"error"}``; the server pushes
  ``{"type": "state"}`` (the wall, presets, incidents, tiles, the lease) each second and on
  a change, ``{"type": "revoked"}`` when the device's pairing is revoked.
- ``GET /picture/{incident}/{n}`` an incident's picture, relayed from the wall's own
  picture store (the page never reaches the backend or holds its token).
- ``GET /thumb/{screen}.jpg?v=N`` a screen as it was last pictured, video included. The
  pictures are made here on a timer — one screen at a time, each every ``THUMB_EVERY_S``
  — and only while some page is looking (visible, on its wall tab: it says so with its
  heartbeat); every tablet shares them, and a page loads one only when the state push
  says its version changed. So the wall's cost does not grow with the tablets, and with
  none looking nothing is pictured.

Steering (every command but reading) needs the ``commander`` role — a tablet's role is at
most the wall's own — and the **control lease**: one tablet steers at a time, for
``LEASE_S`` renewed by each command; another takes it over only by asking to
(``lease.take``). Commands run through the control API's own handlers, under the wall's
backend session, each audit line naming the device (``via: tablet:<name>``).

Dead-man: a PTZ move from a tablet is held only while that tablet's page says so — it
stops on ``ptz.stop`` (finger lifted), when the page is hidden (it sends a stop), when the
tablet's heartbeat is missed for ``HEARTBEAT_LOST_S`` (Wi-Fi gone) and when its socket
closes. No code, cookie or token is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from wallclient.commands import VIA
from wallclient.edges.tablet.pairing import Device, Pairing, PairingError
from wallclient.errors import CommandError

log = logging.getLogger(__name__)

COOKIE = "wallclient_tablet"
LEASE_S = 30.0
HEARTBEAT_LOST_S = 1.0
PUSH_EVERY_S = 1.0
THUMB_EVERY_S = 3.5  # each screen pictured this often while looked at (age ≤ this + a push)
QUIET_PUSH_S = 10.0  # an unchanged state is sent again this often (the page knows it is alive)
LOOKING_S = 3.0  # a page's "looking" lasts this long after its last heartbeat saying so
RANK = {"viewer": 0, "commander": 1, "installer": 2}
# what a commander's tablet may send (the control API's handlers, by name)
STEER = frozenset({
    "preset.activate", "emergency", "normal", "incident.ack", "incident.focus",
    "incident.dispatch", "incident.replay", "replay.stop", "tile.place",
    "ptz.move", "ptz.stop", "ptz.goto",
})  # fmt: skip
READ = frozenset({"presets", "cameras", "incident", "lease.take", "hb", "hidden"})

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


@dataclass(eq=False)
class _Page:
    """One open page (a device may have several)."""

    device: Device
    ws: web.WebSocketResponse
    last_hb: float = field(default_factory=time.monotonic)
    moving: str | None = None  # the camera its held PTZ move turns
    # set when the wall stopped a held move because the page went quiet: its moves are
    # refused until it says ptz.stop (the finger lifted), so a move queued in a dead
    # connection, arriving seconds late, never sets the dome turning again
    tripped: bool = False
    looking_at: float = -1e9  # when it last said it shows the wall's screens
    sent: str = ""  # the last state sent to it
    sent_at: float = -1e9


class TabletServer:
    def __init__(
        self,
        *,
        port: int,
        bind: str,
        ssl_context: Any,
        pairing: Pairing,
        handlers: dict[str, Handler],
        view: Any,
        wall_role: Callable[[], str | None],
        pages_dir: Path,
    ) -> None:
        self.port, self.bind = port, bind
        self.ssl_context = ssl_context
        self.pairing = pairing
        self.handlers = handlers  # the control API's command table
        self.view = view  # wallclient.edges.tablet.view.TabletView: what the page shows
        self.wall_role = wall_role
        self.pages_dir = pages_dir
        self.pages: set[_Page] = set()
        self.lease: tuple[str, float] | None = None  # (device name, until monotonic)
        self._thumbs: dict[str, tuple[float, bytes, int]] = {}  # screen → (made, jpeg, version)
        self._thumb_turn = 0
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.thumbs_made = 0
        self.stops_sent = 0
        self.pushes = 0
        pairing.on_revoke.append(self._revoked)

    # --- life ----------------------------------------------------------------------------

    async def start(self) -> int:
        app = web.Application(middlewares=[self._headers])
        app.router.add_get("/", self._index)
        app.router.add_get("/pair/{code}", self._pair)
        app.router.add_get("/ws", self._ws)
        app.router.add_get("/thumb/{screen}.jpg", self._thumb)
        app.router.add_get("/picture/{incident}/{n}", self._picture_of)
        app.router.add_get("/static/{name}", self._static)
        self._runner = web.AppRunner(app, access_log=None)  # an access log would carry codes
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.bind, self.port, ssl_context=self.ssl_context)
        await site.start()
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            self.port = int(server.sockets[0].getsockname()[1])
        self._tasks.append(asyncio.ensure_future(self._push_loop()))
        self._tasks.append(asyncio.ensure_future(self._deadman_loop()))
        self._tasks.append(asyncio.ensure_future(self._thumb_loop()))
        log.info("tablet page on https://%s:%d/", self.bind, self.port)
        return self.port

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for page in list(self.pages):
            await self._stop_moving(page)
            with contextlib.suppress(Exception):
                await page.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- HTTP ----------------------------------------------------------------------------

    @web.middleware
    async def _headers(self, request: web.Request, handler: Any) -> web.StreamResponse:
        resp: web.StreamResponse = await handler(request)
        resp.headers.setdefault("Cache-Control", "no-store")
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; frame-ancestors 'none'"
        )
        resp.headers["Strict-Transport-Security"] = "max-age=31536000"
        return resp

    def _device(self, request: web.Request) -> Device | None:
        device = self.pairing.session(request.cookies.get(COOKIE))
        if device is not None:
            self.pairing.seen(device)
        return device

    async def _index(self, request: web.Request) -> web.StreamResponse:
        if self._device(request) is None:
            return web.FileResponse(self.pages_dir / "unpaired.html", status=401)
        return web.FileResponse(self.pages_dir / "index.html")

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = self.pages_dir / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    async def _pair(self, request: web.Request) -> web.StreamResponse:
        try:
            device, token = self.pairing.redeem(request.match_info["code"])
        except PairingError as exc:
            status = 429 if exc.code == "locked" else 403
            return web.FileResponse(self.pages_dir / "unpaired.html", status=status)
        resp = web.HTTPSeeOther("/")
        resp.set_cookie(COOKIE, token, max_age=365 * 86400, path="/", secure=True,
                        httponly=True, samesite="Strict")  # fmt: skip
        log.info("tablet %s opened its pairing link", device.name)
        return resp

    async def _thumb(self, request: web.Request) -> web.StreamResponse:
        if self._device(request) is None:
            raise web.HTTPUnauthorized()
        screen = request.match_info["screen"]
        got = self._thumbs.get(screen) or self._picture(screen)
        if got is None:
            raise web.HTTPNotFound()
        age_ms = round((time.monotonic() - got[0]) * 1000)
        # a version's bytes never change: the browser may keep them
        return web.Response(body=got[1], content_type="image/jpeg",
                            headers={"X-Thumb-Age-Ms": str(age_ms), "Cache-Control": "private, max-age=60"})  # fmt: skip

    async def _picture_of(self, request: web.Request) -> web.StreamResponse:
        """An incident's picture, relayed from the wall's own store."""
        if self._device(request) is None:
            raise web.HTTPUnauthorized()
        try:
            n = int(request.match_info["n"])
        except ValueError:
            raise web.HTTPNotFound() from None
        got = await self.view.picture(request.match_info["incident"], n)
        if got is None:
            raise web.HTTPNotFound()
        return web.Response(body=got[0], content_type=got[1], headers={"Cache-Control": "private, max-age=300"})

    def _picture(self, screen: str) -> tuple[float, bytes, int] | None:
        data = self.view.thumbnail(screen)
        if data is None:
            return None
        old = self._thumbs.get(screen)
        got = (time.monotonic(), data, (old[2] + 1) if old else 1)
        self._thumbs[screen] = got
        self.thumbs_made += 1
        return got

    def _looked_at(self) -> bool:
        now = time.monotonic()
        return any(now - p.looking_at < LOOKING_S for p in self.pages)

    async def _thumb_loop(self) -> None:
        """One screen pictured at a time, round the screens, while some page looks."""
        while True:
            screens = [s["name"] for s in self.view.screens()]
            await asyncio.sleep(THUMB_EVERY_S / max(1, len(screens)))
            if screens and self._looked_at():
                self._thumb_turn = (self._thumb_turn + 1) % len(screens)
                try:
                    self._picture(screens[self._thumb_turn])
                except Exception as exc:  # a screen that cannot be pictured: said, not fatal
                    log.warning("tablet thumbnail of %s: %s", screens[self._thumb_turn], exc)

    # --- the page's socket ---------------------------------------------------------------

    def _same_origin(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        return origin is not None and origin == f"https://{request.host}"

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        device = self._device(request)
        if device is None:
            raise web.HTTPUnauthorized()
        if not self._same_origin(request):
            log.warning("tablet socket refused: a foreign origin")
            raise web.HTTPForbidden()
        ws = web.WebSocketResponse(heartbeat=None, max_msg_size=64 * 1024)
        await ws.prepare(request)
        page = _Page(device, ws)
        self.pages.add(page)
        try:
            first = self._state(page)
            first["now"] = time.time()  # once: the page's clock offset to the wall's
            await ws.send_json(first)
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                reply = await self._dispatch(page, msg.data)
                if reply is not None:
                    await ws.send_json(reply)
        finally:
            self.pages.discard(page)
            await self._stop_moving(page)
        return ws

    async def _dispatch(self, page: _Page, text: str) -> dict[str, Any] | None:
        try:
            req = json.loads(text)
            rid, cmd, args = req.get("id"), str(req.get("cmd")), req.get("args") or {}
            if not isinstance(args, dict):
                raise ValueError("args must be an object")
        except (ValueError, AttributeError) as exc:
            return {"id": None, "ok": False, "error": {"code": "bad_request", "message": str(exc)}}
        page.last_hb = time.monotonic()
        device = page.device
        if self.pairing.devices.get(device.name) is not device:
            return {"id": rid, "ok": False, "error": {"code": "revoked", "message": "this tablet's pairing was revoked"}}
        try:
            if cmd == "hb":
                if args.get("looking"):
                    page.looking_at = page.last_hb
                return None
            if cmd == "hidden":  # the page went to the background: nothing keeps turning
                await self._stop_moving(page)
                return None
            if cmd in READ:
                data = await self._read(page, cmd, args)
            elif cmd in STEER:
                data = await self._steer(page, cmd, args)
            else:
                raise CommandError("bad_request", f"unknown command {cmd!r}")
            return {"id": rid, "ok": True, "data": data}
        except CommandError as exc:
            return {"id": rid, "ok": False, "error": {"code": exc.code, "message": exc.message}}
        except (KeyError, TypeError, ValueError) as exc:
            return {"id": rid, "ok": False, "error": {"code": "bad_request", "message": str(exc)}}

    async def _read(self, page: _Page, cmd: str, args: dict[str, Any]) -> Any:
        if cmd == "presets":
            return self.view.presets(str(args.get("q", "")))
        if cmd == "cameras":
            return self.view.cameras(str(args.get("q", "")))
        if cmd == "incident":
            return self.view.incident(str(args["incident"]))
        if cmd != "lease.take":  # hb and hidden are answered before
            raise CommandError("bad_request", f"unknown command {cmd!r}")
        # a commander takes the lease over from another tablet (it confirmed)
        self._may_steer(page.device)
        self.lease = (page.device.name, time.monotonic() + LEASE_S)
        log.info("tablet %s took the control lease", page.device.name)
        await self._push()
        return {"lease": page.device.name}

    def _may_steer(self, device: Device) -> None:
        wall = self.wall_role()
        role = device.role if RANK.get(wall or "", -1) >= RANK[device.role] else (wall or "viewer")
        if RANK.get(role, -1) < RANK["commander"]:
            raise CommandError("forbidden", f"this tablet's role ({role}) may not steer the wall")

    async def _steer(self, page: _Page, cmd: str, args: dict[str, Any]) -> Any:
        device = page.device
        self._may_steer(device)
        now = time.monotonic()
        if self.lease is not None and self.lease[0] != device.name and self.lease[1] > now:
            raise CommandError("lease_held", self.lease[0])
        taken = self.lease is None or self.lease[0] != device.name or self.lease[1] <= now
        self.lease = (device.name, now + LEASE_S)
        if cmd == "ptz.move":
            if page.tripped:
                raise CommandError(
                    "ptz_tripped", "the connection dropped: the camera was stopped; lift and press again"
                )
            args = {**args, "hold": True}  # held until this tablet says stop (or goes quiet)
        elif cmd == "ptz.stop":
            page.tripped = False  # the finger lifted: the next press is a new move
        token = VIA.set(f"tablet:{device.name}")
        try:
            data = await self.handlers[cmd](args)
        finally:
            VIA.reset(token)
        if cmd == "ptz.move":
            page.moving = str(args.get("camera") or "") or None
        elif cmd == "ptz.stop":
            page.moving = None
        if taken:
            await self._push()
        return data

    async def _stop_moving(self, page: _Page) -> None:
        cam, page.moving = page.moving, None
        if cam is None:
            return
        self.stops_sent += 1
        token = VIA.set(f"tablet:{page.device.name}")
        try:
            await self.handlers["ptz.stop"]({"camera": cam})
            log.info("tablet %s: PTZ of %s stopped (dead-man)", page.device.name, cam)
        except (CommandError, KeyError, TypeError, ValueError) as exc:
            log.warning("tablet %s: stopping %s failed: %s", page.device.name, cam, exc)
        finally:
            VIA.reset(token)

    # --- pushes and watches --------------------------------------------------------------

    def _shared(self) -> dict[str, Any]:
        """What every page is sent (made once a push, whatever the number of pages)."""
        return {**self.view.state(), "thumbs": {k: {"v": v[2]} for k, v in self._thumbs.items()}}

    def _state(self, page: _Page, shared: dict[str, Any] | None = None) -> dict[str, Any]:
        now = time.monotonic()
        lease = self.lease if self.lease is not None and self.lease[1] > now else None
        view = shared if shared is not None else self._shared()
        return {"type": "state", **view,
                "me": {"name": page.device.name, "role": page.device.role},
                "lease": None if lease is None else {"holder": lease[0]}}  # fmt: skip

    async def _push(self, force: bool = False) -> None:
        """The state to every page — only what changed since its last (a page's own clock
        counts deadlines and thumbnail ages down), and at least every ``QUIET_PUSH_S``."""
        if not self.pages:
            return
        shared = self._shared()
        now = time.monotonic()
        for page in list(self.pages):
            text = json.dumps(self._state(page, shared), ensure_ascii=False)
            if not force and text == page.sent and now - page.sent_at < QUIET_PUSH_S:
                continue
            page.sent, page.sent_at = text, now
            self.pushes += 1
            with contextlib.suppress(Exception):
                await page.ws.send_str(text)

    async def _push_loop(self) -> None:
        while True:
            await asyncio.sleep(PUSH_EVERY_S)
            if self.pages:
                await self._push()

    async def _deadman_loop(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            now = time.monotonic()
            for page in list(self.pages):
                if page.moving is not None and now - page.last_hb > HEARTBEAT_LOST_S:
                    log.warning("tablet %s went quiet: its PTZ move stops", page.device.name)
                    page.tripped = True
                    await self._stop_moving(page)

    def _revoked(self, name: str) -> None:
        if self.lease is not None and self.lease[0] == name:
            self.lease = None
        for page in [p for p in self.pages if p.device.name == name]:
            asyncio.ensure_future(self._end_page(page))

    async def _end_page(self, page: _Page) -> None:
        await self._stop_moving(page)
        with contextlib.suppress(Exception):
            await page.ws.send_json({"type": "revoked"})
            await page.ws.close()

    def view_status(self) -> dict[str, Any]:
        now = time.monotonic()
        lease = self.lease if self.lease is not None and self.lease[1] > now else None
        return {"port": self.port, "pages": len(self.pages), "lease": lease[0] if lease else None,
                "thumbs_made": self.thumbs_made, "ptz_stops": self.stops_sent, "pushes": self.pushes}  # fmt: skip
