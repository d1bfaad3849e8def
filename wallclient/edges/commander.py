"""A commander's switches: presets, emergency and back, seen through to the end.

A switch is *pending* from the moment it is sent until the backend's ``wall.state``
shows it (protocol.md: the client never applies a command's effect itself); a
refusal (``forbidden``, ``unknown_preset``, a timeout) is kept for the screen to say
plainly. When the backend cannot be reached at all, a commander can still switch
this node: the switch is applied here as a *local override*, marked as not
synchronised, and the backend's state wins as soon as the connection is live again.

Emergency (平急转换) is one action: the chosen emergency preset, then ``mode.set
emergency``; returning is one action too: ``mode.set normal`` and the preset that was
active before. Every command is audited by the SyncClient.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from wallclient.edges.sync import SyncClient
from wallclient.errors import CommandError
from wallclient.protocol import format_time
from wallclient.state import Change

log = logging.getLogger(__name__)

CONFIRM_S = 10.0  # an accepted switch not shown by wall.state within this is reported
RANK = {"viewer": 0, "commander": 1, "installer": 2}


class Commander:
    def __init__(self, client: SyncClient, on_change: Callable[[], None] | None = None) -> None:
        self.client = client
        self.state = client.state
        self.on_change = on_change or (lambda: None)
        self.pending: dict[str, Any] | None = None  # {"preset"?, "mode"?, "since", "by"}
        self.refusal: dict[str, Any] | None = None  # {"code", "message", "at", "what"}
        self.local: dict[str, Any] | None = None  # the backend's wall state a local switch hides
        self.before_emergency: str | None = None  # the preset to return to
        self.applied_at: float | None = None  # epoch s this node last applied a wall state
        self._unsubscribe = self.state.subscribe(self._changed)

    # --- what the screens show ------------------------------------------------------

    def view(self) -> dict[str, Any]:
        """For ``status`` and the banner: pending, the last refusal, a local override."""
        pending = None
        if self.pending is not None:
            pending = {k: v for k, v in self.pending.items() if k != "since"}
            pending["for_s"] = round(time.monotonic() - self.pending["since"], 1)
        return {"pending": pending, "refusal": self.refusal, "local": self.local is not None,
                "before_emergency": self.before_emergency,
                "wall_applied_at": self.applied_at}  # fmt: skip

    def may_switch(self) -> bool:
        """The role from the backend (the last one known, when offline) allows switching."""
        return RANK.get(self.client.feed.status.role or "", -1) >= RANK["commander"]

    def _changed(self, changes: list[Change]) -> None:
        if not any(ch.kind == "wall" for ch in changes):
            return
        wall = self.state.wall or {}
        self.applied_at = time.time()
        if self.local is not None and not wall.get("local"):
            log.info("the backend's wall state is back: local override ended")
            self.local = None
        p = self.pending
        if p is not None and all(wall.get(k) == v for k, v in p.items() if k in ("preset", "mode")):
            self.pending = None
        self.on_change()

    def poll(self) -> None:
        """Called a few times a second: expire unconfirmed switches; once the backend is
        live again, its state replaces a local override that nothing has replaced yet."""
        if self.pending is not None and time.monotonic() - self.pending["since"] > CONFIRM_S:
            self._refused("timeout", "the backend accepted but the wall state did not follow")
        if (
            self.local is not None
            and (self.state.wall or {}).get("local")
            and self.client.feed.status.state == "live"
        ):
            backend = dict(self.local)
            self.local = None
            self.state.apply("wall.state", backend)
            log.info("backend reachable again: its wall state replaces the local override")
            self.on_change()

    # --- switching ------------------------------------------------------------------

    async def activate(self, preset: str, via: str = "wall") -> dict[str, Any]:
        return await self._send([("preset.activate", {"preset": preset})], {"preset": preset}, via)

    async def set_mode(self, mode: str, via: str = "wall") -> dict[str, Any]:
        return await self._send([("mode.set", {"mode": mode})], {"mode": mode}, via)

    async def emergency(self, preset: str | None, via: str = "wall") -> dict[str, Any]:
        """Into emergency mode with ``preset`` (None: keep the current preset)."""
        wall = self.state.wall or {}
        if wall.get("mode") != "emergency":
            self.before_emergency = wall.get("preset")
        steps: list[tuple[str, dict[str, Any]]] = []
        want: dict[str, Any] = {"mode": "emergency"}
        if preset is not None and preset != wall.get("preset"):
            steps.append(("preset.activate", {"preset": preset}))
            want["preset"] = preset
        steps.append(("mode.set", {"mode": "emergency"}))
        return await self._send(steps, want, via)

    async def normal(self, via: str = "wall") -> dict[str, Any]:
        """Back to normal mode and to the preset that was active before the emergency."""
        steps: list[tuple[str, dict[str, Any]]] = [("mode.set", {"mode": "normal"})]
        want: dict[str, Any] = {"mode": "normal"}
        back = self.before_emergency
        if back is not None and back in self.state.presets:
            steps.append(("preset.activate", {"preset": back}))
            want["preset"] = back
        result = await self._send(steps, want, via)
        self.before_emergency = None
        return result

    async def _send(
        self, steps: list[tuple[str, dict[str, Any]]], want: dict[str, Any], via: str
    ) -> dict[str, Any]:
        wall_id = self.client.cfg.wall
        self.pending = {**want, "since": time.monotonic(), "via": via}
        self.refusal = None
        self.on_change()
        for type_, data in steps:
            try:
                await self.client.command(type_, {"wall": wall_id, **data}, via=via)
            except CommandError as exc:
                if exc.code == "offline" and self.may_switch():
                    return self._switch_locally(want, via)
                self._refused(exc.code, exc.message)
                raise
        if self.pending is not None and all(
            (self.state.wall or {}).get(k) == v for k, v in want.items()
        ):
            self.pending = None  # wall.state came back before the last ack did
            self.on_change()
        return {"accepted": True, "local": False}

    def refuse(self, want: dict[str, Any], code: str, message: str, via: str) -> None:
        """A switch this client will not even send (the role may not): kept, shown and
        audited like the backend's own refusal."""
        st = self.client.feed.status
        self.client.audit({"user": st.user, "role": st.role, "node": self.client.cfg.node,
                           "action": "switch", "args": {**want, "via": via},
                           "outcome": code, "detail": message})  # fmt: skip
        self.pending = dict(want)
        self._refused(code, message)

    def _refused(self, code: str, message: str) -> None:
        what = {k: v for k, v in (self.pending or {}).items() if k in ("preset", "mode")}
        self.pending = None
        self.refusal = {"code": code, "message": message, "what": what,
                        "at": format_time(self.client.feed.server_now())}  # fmt: skip
        log.warning("switch %s refused: %s %s", what, code, message)
        self.on_change()

    def _switch_locally(self, want: dict[str, Any], via: str) -> dict[str, Any]:
        """The backend is unreachable: switch this node only, and say so."""
        current = self.state.wall or {
            "wall": self.client.cfg.wall,
            "mode": "normal",
            "preset": None,
        }
        if self.local is None:
            self.local = {k: v for k, v in current.items() if k != "local"}
        st = self.client.feed.status
        wall = {**current, **want, "wall": self.client.cfg.wall, "local": True,
                "changed_by": st.user or self.client.cfg.node,
                "changed_at": format_time(self.client.feed.server_now())}  # fmt: skip
        self.pending = None
        self.state.apply("wall.state", wall)
        self.client.audit({"user": st.user, "role": st.role, "node": self.client.cfg.node,
                           "action": "local.switch", "args": {**want, "via": via},
                           "outcome": "local", "detail": "backend unreachable"})  # fmt: skip
        log.warning("backend unreachable: switched this node locally to %s", want)
        self.on_change()
        return {"accepted": False, "local": True}

    def close(self) -> None:
        self._unsubscribe()


class Desk:
    """The commander's switches for the panels: plain calls that start the commands
    on the event loop (the outcome shows through ``view`` and the wall state)."""

    def __init__(self, commander: Commander) -> None:
        self.commander = commander
        self._tasks: set[asyncio.Task[Any]] = set()  # keep references (qasync)

    def may_switch(self) -> bool:
        return self.commander.may_switch()

    def view(self) -> dict[str, Any]:
        return self.commander.view()

    def activate(self, preset: str) -> None:
        self._spawn(self.commander.activate(preset))

    def emergency(self, preset: str | None) -> None:
        self._spawn(self.commander.emergency(preset))

    def normal(self) -> None:
        self._spawn(self.commander.normal())

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        async def quietly() -> None:
            with contextlib.suppress(CommandError):  # the refusal is kept and shown
                await coro

        task = asyncio.ensure_future(quietly())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
