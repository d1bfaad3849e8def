"""Steering cameras (云台) from the wall: the commands to the backend, paced and audited.

``PtzDriver`` is what tile gestures and the control API call. A held control (a drag,
an arrow key) is one *continuous move*: ``ptz.move`` is repeated every ``REPEAT_S``
(4 Hz — the backend stops a camera 1 s after the last one, so a wall that dies never
leaves one turning) until it is let go, then ``ptz.stop``. One audit line per
continuous move (its first command), not per repeat. ``point`` sends one
``ptz.absolute`` per camera as one burst, audited once. A camera another user holds
answers ``ptz_locked``: the driver remembers the holder for ``LOCK_S`` so the tile can
say "云台被 … 占用"; so does a ``camera.ptz`` moved by someone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from wallclient import ptz as aiming
from wallclient.errors import CommandError
from wallclient.state import Change

log = logging.getLogger(__name__)

REPEAT_S = 0.25  # a held control repeats ptz.move this often (protocol: ≥ 2 Hz)
SAME_MOVE_S = 1.5  # a ptz.move this soon after the last one continues the same move
LOCK_S = 10.0  # protocol.md: one controller at a time for 10 s
NUDGE_S = 0.35  # a wheel notch zooms this long


@dataclass
class _Move:
    camera: str
    speeds: tuple[float, float, float]
    task: asyncio.Task[None] | None = None
    last_sent: float = 0.0


class PtzDriver:
    """PTZ commands of this node: continuous moves, presets, absolute moves, point here."""

    def __init__(self, client: Any, radius_m: float = 500.0) -> None:
        self.client = client
        self.state = client.state
        self.radius_m = radius_m
        self.moves: dict[str, _Move] = {}
        self.locks: dict[str, tuple[str, float]] = {}  # camera → (holder, until monotonic)
        self.errors: dict[str, tuple[str, float]] = {}  # camera → (last refusal, when)
        self._last_move: dict[str, float] = {}  # camera → when its last ptz.move went out
        self._tasks: set[asyncio.Task[Any]] = set()
        self.on_change: Callable[[], None] = lambda: None
        self.state.subscribe(self._changed)

    # --- what the tiles ask -----------------------------------------------------------

    def offered(self) -> bool:
        return bool(self.client.offers("ptz"))

    def may(self) -> bool:
        """Commanders and installers steer; viewers see no controls."""
        role = self.client.feed.status.role
        return role in ("commander", "installer")

    def steerable(self, camera: str | None) -> bool:
        cam = self.state.cameras.get(camera or "")
        return bool(cam and cam.get("ptz") and self.may() and self.offered())

    def holder(self, camera: str) -> str | None:
        """Who else holds the camera now (None: nobody, or this user)."""
        got = self.locks.get(camera)
        if got is not None and got[1] > time.monotonic():
            return got[0]
        return None

    def moving(self, camera: str) -> bool:
        return camera in self.moves

    def _changed(self, changes: list[Change]) -> None:
        me = self.client.feed.status.user
        now = time.monotonic()
        for ch in changes:
            if ch.kind != "ptz" or not ch.ids:
                continue
            for cam in ch.ids:
                by = self.state.ptz_by.get(cam) or ""
                if by and by != me:  # somebody else is steering it: it is theirs for 10 s
                    self.locks[cam] = (by, now + LOCK_S)

    # --- continuous moves -----------------------------------------------------------------

    def hold(self, camera: str, pan: float, tilt: float, zoom: float) -> None:
        """Move at these speeds until ``release`` (repeated while held)."""
        speeds = (round(pan, 3), round(tilt, 3), round(zoom, 3))
        move = self.moves.get(camera)
        if move is None:
            move = self.moves[camera] = _Move(camera, speeds)
            move.task = self._spawn(self._repeat(move))
            self.on_change()
            return
        if speeds != move.speeds:
            move.speeds = speeds
            if time.monotonic() - move.last_sent > 0.08:  # a change of hand goes out at once
                self._spawn(self._send_move(move))

    def release(self, camera: str) -> None:
        self._last_move.pop(camera, None)  # the move has ended: the next one is a new one
        move = self.moves.pop(camera, None)
        if move is None:
            return
        if move.task is not None:
            move.task.cancel()
        self._spawn(self._quiet("ptz.stop", {"camera": camera}))
        self.on_change()

    def nudge(self, camera: str, zoom: float) -> None:
        """A wheel notch: zoom for a moment, then stop."""
        self.hold(camera, 0.0, 0.0, zoom)

        async def later() -> None:
            await asyncio.sleep(NUDGE_S)
            move = self.moves.get(camera)
            if move is not None and move.speeds[:2] == (0.0, 0.0):
                self.release(camera)

        self._spawn(later())

    async def _repeat(self, move: _Move) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            while self.moves.get(move.camera) is move:
                if not await self._send_move(move):
                    self.moves.pop(move.camera, None)
                    self.on_change()
                    return
                await asyncio.sleep(REPEAT_S)

    async def _send_move(self, move: _Move) -> bool:
        move.last_sent = time.monotonic()
        pan, tilt, zoom = move.speeds
        try:
            await self.move(move.camera, pan, tilt, zoom, via="wall")
        except CommandError:
            return False
        return True

    async def move(
        self, camera: str, pan: float, tilt: float, zoom: float, via: str = "control"
    ) -> Any:
        """One ``ptz.move``; audited only when it begins a move (not a repeat of one)."""
        now = time.monotonic()
        first = now - self._last_move.get(camera, -1e9) > SAME_MOVE_S
        self._last_move[camera] = now
        data = {"camera": camera, "pan": pan, "tilt": tilt, "zoom": zoom}
        return await self._send("ptz.move", data, via, audit=first)

    async def stop(self, camera: str, via: str = "control") -> Any:
        self.moves.pop(camera, None)
        self._last_move.pop(camera, None)
        return await self._send("ptz.stop", {"camera": camera}, via, audit=False)

    async def goto(self, camera: str, preset: str, via: str = "control") -> Any:
        cam = self.state.cameras.get(camera) or {}
        known = {p.get("id") for p in cam.get("ptz_presets") or []}
        if cam and known and preset not in known:
            raise CommandError("bad_request", f"camera {camera} has no PTZ preset {preset}")
        return await self._send("ptz.goto", {"camera": camera, "preset": preset}, via)

    def goto_soon(self, camera: str, preset: str) -> None:
        """A preset from a tile's menu (a refusal is shown on the tile, not raised)."""

        async def go() -> None:
            with contextlib.suppress(CommandError):
                await self.goto(camera, preset, via="wall")

        self._spawn(go())

    # --- point here ---------------------------------------------------------------------

    def aims(self, lon: float, lat: float, radius_m: float | None = None,
             grid: Any = None) -> list[aiming.Aim]:  # fmt: skip
        """Every online PTZ camera within the radius, aimed at (lon, lat) (WGS-84)."""
        radius = self.radius_m if radius_m is None else radius_m
        cams = self.state.cameras
        ids: Iterable[str]
        if grid is not None:
            ids = (cid for cid, _ in grid.cameras_in(aiming.candidates_box(lon, lat, radius)))
        else:
            ids = cams
        return aiming.point_here(cams, ids, lon, lat, radius)

    async def point(self, aims: list[aiming.Aim], via: str = "control") -> list[dict[str, Any]]:
        """One ``ptz.absolute`` per camera, sent together; one audit line for the burst.
        Returns each camera's bearing and outcome."""
        outcomes = await asyncio.gather(
            *(self._send("ptz.absolute", a.command(), via, audit=False) for a in aims),
            return_exceptions=True,
        )
        out = []
        for a, got in zip(aims, outcomes, strict=True):
            row: dict[str, Any] = {"camera": a.camera, "pan_deg": round(a.pan_deg, 3),
                                   "distance_m": round(a.distance_m, 1)}  # fmt: skip
            if a.tilt_deg is not None:
                row["tilt_deg"] = round(a.tilt_deg, 2)
            if isinstance(got, CommandError):
                row["error"] = got.code
            out.append(row)
        st = self.client.feed.status
        self.client.audit({"user": st.user, "role": st.role, "node": self.client.cfg.node,
                           "action": "ptz.point", "args": {"cameras": [a.camera for a in aims], "via": via},
                           "outcome": "ok" if all("error" not in r for r in out) else "partial"})  # fmt: skip
        return out

    # --- sending ----------------------------------------------------------------------------

    async def _send(self, type_: str, data: dict[str, Any], via: str, audit: bool = True) -> Any:
        camera = str(data["camera"])
        try:
            return await self.client.command(type_, data, via=via, audit=audit)
        except CommandError as exc:
            if exc.code == "ptz_locked":
                self.locks[camera] = (exc.message or "?", time.monotonic() + LOCK_S)
            self.errors[camera] = (exc.message or exc.code, time.monotonic())
            log.info("%s %s refused: %s %s", type_, camera, exc.code, exc.message)
            self.on_change()
            raise

    async def _quiet(self, type_: str, data: dict[str, Any]) -> None:
        with contextlib.suppress(CommandError):
            await self._send(type_, data, "wall", audit=False)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def close(self) -> None:
        for cam in list(self.moves):
            self.release(cam)

    def view(self) -> dict[str, Any]:
        """For ``status.ptz``: what this node is moving, and who holds what."""
        now = time.monotonic()
        return {
            "offered": self.offered(), "may": self.may(), "radius_m": self.radius_m,
            "moving": sorted(self.moves),
            "locked": {c: h for c, (h, until) in self.locks.items() if until > now},
        }  # fmt: skip
