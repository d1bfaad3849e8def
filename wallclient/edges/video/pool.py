"""Who owns which player: the one place where players are made, reused and ended.

A player is **made** by ``acquire`` when no idle player of its route that fits is left
(``created`` counts them): one made for the tile's size, or one of any size that is
``resizable`` (every route: libvlc's and PyAV's pictures follow the box at each stream,
a native window's is the window's); it is **live** from ``acquire`` until ``release``,
which stops it and keeps it **idle** for the next tile; it **dies** in exactly two places:
``release``, when more than ``max_live`` players are idle (the oldest, sizes no longer
asked for), and ``close`` (every player, when the wall ends). A tile
never closes a player itself. A player the control thread's watchdog **abandoned** (a
libvlc call hung in it) is dropped by ``release`` without a call into it: it is never
reused, and what it holds is libvlc's until its call returns.

Nothing else keeps a player: libvlc's event callbacks are detached when it dies (not
python-vlc's memoized event manager, which would keep every player ever made), and a
PyAV player's reader thread is joined (``close``; ``reap`` for those still reading).
"""

from __future__ import annotations

from typing import Any

from wallclient.edges.video import memory
from wallclient.edges.video.libvlc import NativeVlcPlayer, VlcPlayer
from wallclient.edges.video.player import Player
from wallclient.edges.video.pyav import AvPlayer, reap
from wallclient.edges.video.resolved import ResolvedPlayer
from wallclient.edges.video.routes import route_for


class PlayerPool:
    """Players are reused, not created per camera; at most ``max_live`` decode at once."""

    def __init__(self, max_live: int = 16) -> None:
        self.max_live = max_live
        self.live: set[Player] = set()
        self._idle: list[Player] = []
        self.created = 0
        self.closed = 0
        self.abandoned = 0
        self.resolver: Any = None  # wallclient.edges.video.resolved.Resolver (resolve cameras)
        self.resolved = 0

    def acquire(
        self, url: str, width: int, height: int, window: tuple[str, int] | None = None,
        caching_ms: int | None = None,
    ) -> Player | None:
        """A player for ``url`` at ``width`` × ``height`` (drawing into the native
        ``window`` (kind, handle) where libvlc plays it); None when the budget is spent."""
        if len(self.live) >= self.max_live:
            return None
        route = route_for(url)
        if caching_ms is not None:
            # a picture that must follow the hand (a steered PTZ camera): FFmpeg, reading
            # as the packets come — libvlc's callbacks route held 1.2 s even at 100 ms of
            # network caching (measured: docs/benchmarks.md, "Steering")
            route = "pyav"
        if route == "libvlc" and window is not None:
            route = NativeVlcPlayer.route
        # an idle player of the route: one made for this size, else one that can take any
        # (a native window's; a painted one's, whose buffers follow the box at each
        # stream) — a size change (a maximise, another layout) ends no player and makes none
        fits = [i for i, p in enumerate(self._idle) if p.route == route and p.slot.box == (width, height)]
        fits += [i for i, p in enumerate(self._idle) if p.route == route and p.resizable]
        if fits:
            player = self._idle.pop(fits[0])
            player.slot.box = (width, height)
        else:
            kind = {"libvlc": VlcPlayer, "pyav": AvPlayer}.get(route, NativeVlcPlayer)
            player = kind(width, height)
            self.created += 1
        if isinstance(player, NativeVlcPlayer) and window is not None:
            player.attach(*window)
        self.live.add(player)
        player.caching_ms = caching_ms
        player.set_crop(None)
        player.play(url)
        return player

    def acquire_resolved(
        self, camera: str, stream: str, width: int, height: int,
        window: tuple[str, int] | None = None, caching_ms: int | None = None, hold_s: float = 0.0,
    ) -> Player:
        """A player for a ``resolve`` camera: it asks for a play URL (``self.resolver``),
        then plays it in a player of this pool (``acquire``) — it is never the pool's own.
        With the budget spent its URL waits up to ``hold_s`` for a decoder."""
        if self.resolver is None:
            raise RuntimeError("a resolve camera, and no resolver: PlayerPool.resolver unset")
        self.resolved += 1
        return ResolvedPlayer(
            lambda url: self.acquire(url, width, height, window, caching_ms),
            self.resolver, camera, stream, width, height, hold_s,
        )  # fmt: skip

    def release(self, player: Player) -> None:
        end = getattr(player, "end", None)
        if end is not None:  # a ResolvedPlayer: its own player comes back, its stream is released
            end(self.release)
            return
        self.live.discard(player)
        if player.abandoned:  # hung in libvlc: not one more call into it
            self.abandoned += 1
            return
        player.stop()
        # each input libvlc or FFmpeg closes frees megabytes in scattered pieces: given
        # back to the system after the stops, RSS stays level over thousands of switches
        memory.trim_soon()
        self._idle.append(player)
        while len(self._idle) > self.max_live:  # sizes that are no longer asked for
            self._idle.pop(0).close()
            self.closed += 1

    def close(self, join_s: float = 6.0) -> None:
        """Every player ends; PyAV readers are waited for up to ``join_s`` in all."""
        players = list(self.live) + self._idle
        for p in players:
            if not p.abandoned:
                p.close()
        self.closed += len(players)
        self.live.clear()
        self._idle.clear()
        reap(join_s)

    def counts(self) -> dict[str, Any]:
        """What ``status.resources`` says of the players."""
        routes: dict[str, dict[str, int]] = {}
        for where, players in (("live", self.live), ("idle", self._idle)):
            for p in players:
                row = routes.setdefault(p.route, {"live": 0, "idle": 0})
                row[where] += 1
        return {
            "created": self.created,
            "closed": self.closed,
            "abandoned": self.abandoned,
            "resolved": self.resolved,
            "live": len(self.live),
            "idle": len(self._idle),
            "routes": routes,
        }
