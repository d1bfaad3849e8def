"""The WebSocket feed: a pump between the backend and the session, state and cache.

receive text → ``session.receive`` → events → apply to state → hand to the cache
writer; then send whatever the session has queued. All decisions about order,
gaps and snapshots are the session's (wallclient.session).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from wallclient import backoff, protocol
from wallclient.edges.cache import CacheWriter
from wallclient.errors import CommandError
from wallclient.protocol import format_time, now, parse_time
from wallclient.redact import redact_url
from wallclient.session import (
    Ack,
    Apply,
    Duplicate,
    Gap,
    Invalid,
    ServerError,
    Session,
    Skip,
    SnapshotReady,
    UnknownType,
    Welcome,
)
from wallclient.state import WallState

log = logging.getLogger(__name__)

# protocol.md, Transport: keep-alive. WALLCLIENT_KEEPALIVE_S shortens both for tests that
# wait for a dead connection to be noticed (never in a deployment: the protocol says 20 s)
PING_INTERVAL_S = float(os.environ.get("WALLCLIENT_KEEPALIVE_S") or 20.0)
PING_TIMEOUT_S = PING_INTERVAL_S
YIELD_EVERY_S = 0.008  # the longest the feed reads a burst without letting the GUI run
CLOCK_WINDOW_S = 60.0  # the clock offset follows the best sample of the last minute
CLOCK_EVERY_S = 0.2  # … sampled at most this often


@dataclass(frozen=True)
class Status:
    """What the wall says about its link to the backend (control-api.md, status)."""

    state: str = "connecting"  # connecting | live | resyncing | offline
    since: datetime | None = None
    last_seq: int | None = None
    data_at: float | None = None  # epoch seconds of the newest state we received
    user: str | None = None
    role: str | None = None
    error: str | None = None
    clock_offset_s: float = 0.0  # server clock minus ours, from ``welcome``
    invalid: int = 0
    duplicates: int = 0
    gaps: int = 0
    snapshots: int = 0
    reconnects: int = 0

    def data_age_s(self, at: float | None = None) -> float | None:
        if self.data_at is None:
            return None
        return max(0.0, (at if at is not None else time.time()) - self.data_at)

    def as_json(self) -> dict[str, Any]:
        age = self.data_age_s()
        return {
            "state": self.state,
            "since": format_time(self.since) if self.since else None,
            "last_seq": self.last_seq,
            "data_age_s": None if age is None else round(age, 3),
            "error": self.error,
            "invalid": self.invalid,
            "duplicates": self.duplicates,
            "gaps": self.gaps,
            "snapshots": self.snapshots,
            "reconnects": self.reconnects,
            "clock_offset_s": round(self.clock_offset_s, 3),
        }


def ssl_context(url: str, ca_file: Path | None) -> ssl.SSLContext | None:
    """Certificate-verifying TLS for ``wss://`` (protocol.md, Transport)."""
    if not url.startswith("wss://"):
        return None
    ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class Feed:
    """Keeps one session with the backend alive and applies what it sends."""

    def __init__(
        self,
        *,
        url: str,
        token: str,
        session: Session,
        state: WallState,
        writer: CacheWriter | None,
        ca_file: Path | None = None,
        data_at: float | None = None,
        open_timeout: float = 10.0,
        from_cache: bool = False,
    ) -> None:
        self.url = url
        self._token = token  # never logged
        self.session = session
        self.state = state
        self.writer = writer
        self.ssl = ssl_context(url, ca_file)
        self.open_timeout = open_timeout
        self.status = Status(since=now(), last_seq=session.last_seq, data_at=data_at)
        if from_cache:  # showing cached state until the backend answers: say so
            self.status = replace(
                self.status, state="offline", error="starting from the local cache"
            )
        self._listeners: list[Callable[[Status], None]] = []
        self._ws: ClientConnection | None = None
        self._pending: dict[str, asyncio.Future[Ack]] = {}
        self._stopped = asyncio.Event()
        self._head_seq: int | None = None
        self._clock_best = -math.inf  # best (largest) sample of server − local time
        self._clock_best_at = 0.0
        self._clock_checked = 0.0

    # --- observation --------------------------------------------------------------------

    def on_status(self, listener: Callable[[Status], None]) -> None:
        self._listeners.append(listener)

    def _set(self, **changes: Any) -> None:
        if "state" in changes and changes["state"] != self.status.state:
            changes.setdefault("since", now())
        self.status = replace(self.status, **changes)
        for listener in list(self._listeners):
            try:
                listener(self.status)
            except Exception:
                log.exception("status listener failed")

    def server_now(self) -> datetime:
        """Our clock corrected by the server's (from ``welcome.server_time``)."""
        return now() + timedelta(seconds=self.status.clock_offset_s)

    # --- running ------------------------------------------------------------------------

    def stop(self) -> None:
        self._stopped.set()
        if self._ws is not None:
            asyncio.ensure_future(self._ws.close())

    async def run(self) -> None:
        """Connect, sync, and reconnect for ever (until ``stop``)."""
        delays = backoff.delays()
        first = True
        while not self._stopped.is_set():
            if not first:
                self._set(reconnects=self.status.reconnects + 1)
            first = False
            reached_live = False
            resume_now = False
            try:
                reached_live, resume_now = await self._connection()
            except InvalidStatus as exc:
                code = exc.response.status_code
                reason = (
                    "token refused (HTTP 401)"
                    if code == 401
                    else f"handshake refused (HTTP {code})"
                )
                self._offline(reason)
                log.error("backend %s: %s", _safe(self.url), reason)
            except (OSError, InvalidHandshake, TimeoutError, ConnectionClosed) as exc:
                self._offline(_describe(exc))
                log.warning("backend %s unreachable: %s", _safe(self.url), _describe(exc))
            except asyncio.CancelledError:
                self._offline("stopped")
                raise
            finally:
                self._ws = None
                self.session.disconnected()
                for fut in self._pending.values():
                    if not fut.done():
                        fut.set_exception(CommandError("offline", "connection lost before the ack"))
                        # retrieved here: its command may not be awaiting it yet (still
                        # sending, it fails on its own), and asyncio would log it as lost
                        fut.exception()
                self._pending.clear()
            if self._stopped.is_set():
                break
            if reached_live:
                delays = backoff.delays()
            if resume_now:
                continue  # a gap: resume at once (protocol.md, Ordering)
            wait = next(delays)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), timeout=wait)

    def _offline(self, reason: str) -> None:
        if self.status.state != "offline":
            self._set(state="offline", error=reason, last_seq=self.session.last_seq)
        elif self.status.error != reason:
            self._set(error=reason)

    async def _connection(self) -> tuple[bool, bool]:
        """One connection's life; returns (reached live, resume at once)."""
        reached_live = False
        if self.status.state != "offline":
            self._set(state="connecting")
        async with connect(
            self.url,
            additional_headers={"Authorization": f"Bearer {self._token}"},
            max_size=protocol.MAX_FRAME,
            ping_interval=PING_INTERVAL_S,
            ping_timeout=PING_TIMEOUT_S,
            open_timeout=self.open_timeout,
            close_timeout=2,
            ssl=self.ssl,
            user_agent_header="wallclient/0.1",
        ) as ws:
            self._ws = ws
            self.session.connected()
            await self._flush()
            slice_at = time.monotonic()
            async for frame in ws:
                self._receive(frame)
                # A burst (a resume replaying thousands of messages, a backlog after a
                # stall) arrives already buffered, and reading it never yields: give the
                # loop (and the GUI sharing it) a turn every few milliseconds.
                now_t = time.monotonic()
                if now_t - slice_at > YIELD_EVERY_S:
                    await asyncio.sleep(0)
                    slice_at = time.monotonic()
                if self.status.state == "live":
                    reached_live = True
                await self._flush()
                if self.session.closing:
                    log.warning("seq gap: resuming from %s", self.session.last_seq)
                    self._set(state="resyncing", gaps=self.status.gaps + 1)
                    return reached_live, True
            closed = ws.close_code
            if closed == 4401:
                self._offline("token refused (auth_failed)")
                return reached_live, False
            raise ConnectionClosedByPeer(closed, ws.close_reason)

    async def _flush(self) -> None:
        ws = self._ws
        if ws is None:
            return
        for text in self.session.outgoing():
            await ws.send(text)

    def _receive(self, frame: str | bytes) -> None:
        received = time.time()
        for ev in self.session.receive(frame):
            if isinstance(ev, Apply):
                self.state.apply(ev.type, ev.data, ev.seq)
                if self.writer:
                    self.writer.apply(ev.type, ev.data, ev.seq, str(received))
                if ev.ts:
                    self._clock_sample(ev.ts, received)
                self._advanced(ev.seq, received)
            elif isinstance(ev, SnapshotReady):
                self.state.load(ev.tables, ev.wall, ev.seq)
                if self.writer:
                    self.writer.snapshot(ev.tables, ev.wall, ev.seq, str(received))
                if ev.invalid_items:
                    log.warning("snapshot had %d invalid item(s), skipped", ev.invalid_items)
                self._set(snapshots=self.status.snapshots + 1)
                self._advanced(ev.seq, received)
            elif isinstance(ev, Skip):
                self.state.advance(ev.seq)
                if self.writer:
                    self.writer.advance(ev.seq)
                self._advanced(ev.seq, received)
            elif isinstance(ev, Invalid):
                self._invalid(ev)
                if ev.seq is not None:
                    self.state.advance(ev.seq)
                    self._advanced(ev.seq, received)
            elif isinstance(ev, Duplicate):
                self._set(duplicates=self.status.duplicates + 1)
            elif isinstance(ev, Welcome):
                self._welcome(ev)
            elif isinstance(ev, Ack):
                fut = self._pending.pop(ev.id, None)
                if fut is not None and not fut.done():
                    fut.set_result(ev)
            elif isinstance(ev, ServerError):
                log.error("backend error %s: %s", ev.code, ev.message)
                self._set(error=f"{ev.code}: {ev.message}")
            elif isinstance(ev, UnknownType):
                log.info("ignoring unknown message type %r (logged once)", ev.type)
            elif isinstance(ev, Gap):
                log.warning("seq gap after %s: got %s", ev.last_seq, ev.got)

    def _invalid(self, ev: Invalid) -> None:
        count = self.status.invalid + 1
        # Log the first few in full, then one line in a hundred: a flood must not fill the disk.
        if count <= 10 or count % 100 == 0:
            log.warning("invalid message #%d skipped: %s", count, ev.reason)
        if self.writer:
            self.writer.invalid(ev.reason, ev.raw, ev.seq)
        self._set(invalid=count)

    def _clock_sample(self, server_time: str, received: float) -> None:
        """Refine the server clock offset from a message's send time.

        ``server time − our receive time`` is the true offset minus the message's delay,
        so the largest recent sample is the best estimate: it converges on the offset
        whatever delays the GUI adds while busy (a node busy at start-up would
        otherwise run its clock, and its tour pages, late by that delay). The best
        sample is kept for CLOCK_WINDOW_S so a drifting clock is followed.
        """
        if received - self._clock_checked < CLOCK_EVERY_S:
            return  # a few samples a second are plenty; every message would cost the hot path
        self._clock_checked = received
        try:  # not the cached ``epoch``: every ts is new, and would evict the views' entries
            sample = parse_time(server_time).timestamp() - received
        except ValueError:
            return
        if sample > self._clock_best or received - self._clock_best_at > CLOCK_WINDOW_S:
            self._clock_best, self._clock_best_at = sample, received
            if abs(sample - self.status.clock_offset_s) > 0.001:
                self.status = replace(self.status, clock_offset_s=sample)

    def _welcome(self, ev: Welcome) -> None:
        try:
            offset = (parse_time(ev.server_time) - now()).total_seconds()
        except ValueError:
            offset = 0.0
        self._clock_best, self._clock_best_at = offset, time.time()
        self._head_seq = ev.head_seq
        if self.writer:
            self.writer.meta(user=ev.user, role=ev.role, features=",".join(ev.features))
        caught_up = ev.resume and (self.session.last_seq or 0) >= ev.head_seq
        self._set(
            state="live" if caught_up else "resyncing",
            user=ev.user,
            role=ev.role,
            error=None,
            clock_offset_s=offset,
            last_seq=self.session.last_seq,
        )
        log.info(
            "welcome: user %s role %s head_seq %s %s",
            ev.user,
            ev.role,
            ev.head_seq,
            "resume" if ev.resume else "snapshot",
        )

    def _advanced(self, seq: int, received: float) -> None:
        state = self.status.state
        caught_up = state == "resyncing" and self._head_seq is not None and seq >= self._head_seq
        if caught_up or state in ("connecting", "offline"):
            self._set(state="live", error=None, last_seq=seq, data_at=received)
        else:
            # Per-message seq and age: listeners read ``status`` on their own timer;
            # notifying per message would cost the GUI thread (house style).
            self.status = replace(self.status, last_seq=seq, data_at=received)

    # --- commands -----------------------------------------------------------------------

    async def command(self, type_: str, data: dict[str, Any], timeout: float = 10.0) -> Ack:
        """Send a command and wait for its ``ack``; CommandError when it cannot be sent."""
        if self._ws is None or self.session.welcome is None:
            raise CommandError("offline", "not connected to the backend")
        cid = self.session.command(type_, data)
        fut: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._pending[cid] = fut
        try:
            await self._flush()
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise CommandError("timeout", f"no ack within {timeout:g} s") from None
        except ConnectionClosed:
            raise CommandError("offline", "connection lost while sending") from None
        finally:
            self._pending.pop(cid, None)


class ConnectionClosedByPeer(OSError):
    """The backend closed the connection."""

    def __init__(self, code: int | None, reason: str | None) -> None:
        super().__init__(f"closed by backend (code {code}{', ' + reason if reason else ''})")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionClosed):
        rcvd = exc.rcvd
        if rcvd is not None and rcvd.code == 1009:
            return "frame over 4 MiB (closed 1009)"
        code = rcvd.code if rcvd else (exc.sent.code if exc.sent else None)
        return f"connection closed (code {code})"
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc) or type(exc).__name__
    return text


def _safe(url: str) -> str:
    """A URL without credentials, fit for a log line."""
    return redact_url(url)
