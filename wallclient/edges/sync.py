"""The data spine in one object: cache → state at start-up, then feed → state → cache.

No Qt here: the app shell and the headless runner both build one ``SyncClient``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from wallclient.config import Config
from wallclient.edges.cache import Cache, CacheWriter, Loaded
from wallclient.edges.feed import Feed
from wallclient.errors import CacheError, CacheForeign, CommandError
from wallclient.incidents import Tally
from wallclient.session import Session
from wallclient.state import Change, WallState

T = TypeVar("T")

log = logging.getLogger(__name__)


def open_cache(cfg: Config) -> Cache:
    """Open the configured cache; a damaged file is set aside and a new one started.

    A foreign file (a database that is not ours) is never touched: CacheForeign.
    """
    cache = Cache(
        cfg.cache,
        history_hours=cfg.history_hours,
        replay_hours=cfg.replay_hours,
        archive_keep=cfg.archive_keep,
        invalid_keep=cfg.invalid_keep,
    )
    try:
        return cache.open()
    except CacheForeign:
        raise
    except CacheError as exc:
        aside = Path(f"{cfg.cache}.corrupt-{datetime.now():%Y%m%d-%H%M%S}")
        log.error("cache unusable (%s); moved to %s, starting a new one", exc, aside)
        cfg.cache.rename(aside)
        for suffix in ("-wal", "-shm"):
            Path(str(cfg.cache) + suffix).unlink(missing_ok=True)
        return cache.open()


class SyncClient:
    """Keeps ``state`` in step with the backend, persisted in the cache."""

    def __init__(self, cfg: Config, token: str) -> None:
        self.cfg = cfg
        self.state = WallState(cfg.wall)
        self.started = time.monotonic()
        cache = open_cache(cfg)
        self.loaded: Loaded = cache.load()
        # read before the writer thread takes the connection over
        self.recent_history = cache.recent_history(60)
        self._features = set((cache.meta("features") or "").split(",")) - {""}
        origin = f"{cfg.server}|{cfg.wall}|{cfg.scope_level}:{cfg.scope_code}"
        # A cache written for another backend, wall or scope is shown until the
        # new backend's snapshot replaces it, but never resumed from.
        resume = self.loaded.last_seq if self.loaded.origin == origin else None
        if self.loaded.origin not in (None, origin):
            log.warning("cache was written for %s; will take a fresh snapshot", self.loaded.origin)
        self.state.load(self.loaded.tables, self.loaded.wall, self.loaded.last_seq)
        log.info(
            "cache %s: seq %s, %d cameras, %d incidents, loaded in %.0f ms",
            cfg.cache,
            self.loaded.last_seq,
            len(self.state.cameras),
            len(self.state.incidents),
            self.loaded.seconds * 1000,
        )
        self.cache_path = cfg.cache
        self._status: dict[str, Any] | None = None
        self._status_at = 0.0
        self._reader: Cache | None = None
        self.tally = Tally()
        self.tally.reset(self.state.incidents.values())
        self.state.subscribe(self._incidents_changed)
        self.writer = CacheWriter(cache)
        self.writer.meta(origin=origin)
        self.session = Session(wall=cfg.wall, node=cfg.node, scope=cfg.scope, last_seq=resume)
        data_at = as_float(self.loaded.data_at)
        self.feed = Feed(
            url=cfg.server,
            token=token,
            session=self.session,
            state=self.state,
            writer=self.writer,
            ca_file=cfg.ca_file,
            data_at=data_at,
            from_cache=self.loaded.last_seq is not None,
        )

    async def run(self) -> None:
        """Sync until cancelled."""
        self.writer.start()
        await self.feed.run()

    async def finish(self, task: asyncio.Task[None]) -> None:
        """Stop the feed and wait until ``task`` (running ``run``) has ended."""
        self.feed.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def command(
        self, type_: str, data: dict[str, Any], via: str = "wall", audit: bool = True,
        timeout: float = 10.0,
    ) -> Any:
        """Send a protocol command and wait for its ack; every command is audited (who,
        what, when, outcome) in the cache — but for the repeats of a held PTZ control,
        audited once per move by its caller (``audit=False``). Raises CommandError when
        it is refused, times out or cannot be sent."""
        st = self.feed.status
        row: dict[str, Any] = {"user": st.user, "role": st.role, "node": self.cfg.node,
                               "action": type_, "args": {**data, "via": via}}  # fmt: skip
        try:
            ack = await self.feed.command(type_, data, timeout)
        except CommandError as exc:
            if audit:
                self.audit({**row, "outcome": exc.code, "detail": exc.message})
            raise
        if not ack.ok:
            err = ack.error or {}
            code, message = err.get("code", "refused"), err.get("message", "")
            if audit:
                self.audit({**row, "outcome": code, "detail": message})
            raise CommandError(code, message)
        if audit:
            self.audit({**row, "outcome": "ok"})
        return ack

    def audit(self, row: dict[str, Any]) -> None:
        """One row of the audit table (written on the cache's thread)."""
        log.info("audit: %s by %s (%s): %s %s", row.get("action"), row.get("user"),
                 row.get("role"), row.get("outcome"), row.get("detail") or "")  # fmt: skip
        self.writer.audit(row)

    def history(self, indicator: str) -> list[tuple[float, float | None]]:
        """An indicator's stored 24 h, read on a connection of the caller's own (WAL lets
        it read while the writer thread writes); empty, with a log line, if unreadable."""
        return self.read(lambda c: c.history(indicator), [])

    def offers(self, feature: str) -> bool:
        """Does the backend offer ``feature`` (its last ``welcome``; the cache's while
        it is away: a wall running from its cache still replays)?"""
        welcome = self.session.welcome
        return feature in (welcome.features if welcome is not None else self._features)

    def read(self, fn: Callable[[Cache], T], default: T) -> T:
        """``fn`` on this thread's reader of the cache (WAL: it reads while the writer
        writes); ``default``, with a log line, when the cache cannot be read."""
        try:
            if self._reader is None:
                self._reader = Cache(self.cache_path, history_hours=self.cfg.history_hours).open(
                    create=False
                )
            return fn(self._reader)
        except (CacheError, sqlite3.Error) as exc:
            log.warning("cache unreadable: %s", exc)
            return default

    def close(self) -> None:
        self.feed.stop()
        self.writer.stop()
        if self._reader is not None:
            self._reader.close()

    # --- what the control API and the status banner read --------------------------------

    def _incidents_changed(self, changes: list[Change]) -> None:
        incidents = self.state.incidents
        for ch in changes:
            if ch.kind != "incidents":
                continue
            if ch.ids is None:
                self.tally.reset(incidents.values())
            else:
                for iid in ch.ids:
                    self.tally.update(iid, incidents.get(iid))

    def open_incidents(self) -> dict[str, int]:
        """Open and overdue incidents (kept as they change: thousands of them)."""
        return self.tally.counts(self.feed.server_now())

    def status(self) -> dict[str, Any]:
        """The control API's ``status`` (screens and tiles are added by the app)."""
        t = time.monotonic()
        if self._status is not None and t - self._status_at < 0.2:
            return self._status  # every banner asks each tick: one answer per 200 ms
        self._status, self._status_at = self._status_json(), t
        return self._status

    def _status_json(self) -> dict[str, Any]:
        st = self.feed.status
        conn = st.as_json()
        wall = self.state.wall or {}
        return {
            "connection": conn,
            "user": st.user,
            "role": st.role,
            "wall": {
                "wall": self.cfg.wall,
                "node": self.cfg.node,
                "mode": wall.get("mode"),
                "preset": wall.get("preset"),
                "changed_by": wall.get("changed_by"),
                "changed_at": wall.get("changed_at"),
                "local": bool(wall.get("local")),  # a local switch, not synchronised
            },
            "screens": [],
            "tiles": [],
            "incidents": self.open_incidents(),
            "linkage": {"incident": None, "cameras": []},
            "cache": {"path": str(self.cache_path), "written_seq": self.writer.written_seq},
        }


def as_float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None
