"""Tiles playing the past (回放): each a ``ReplayPlayer`` (wallclient.edges.playback) on
a replay clock; the rest of the panel stays live. Tiles of one shared clock (an incident
replay) show their new pictures together, never different moments side by side."""

from __future__ import annotations

from typing import Any

from wallclient.tiles import Tile

# the tiles of one replay clock wait at most this long for each other: at 4× a tile that
# decodes four times the frames can lag a few steps behind on a loaded 2-core PC, and at
# 80 ms the others moved on without it (a spread of one step, 160 ms of recorded time)
HOLD_S = 0.25
TOGETHER_S = 0.1  # … for pictures of moments no further apart than this


class ReplayTiles(dict[int, Any]):
    """Tile index → its replay player; the one owner of those players (``end`` stops
    one, ``end_all`` every one)."""

    def __init__(self) -> None:
        super().__init__()
        self._holding: dict[int, float] = {}  # shared clock → since when its tiles wait

    def end(self, i: int) -> bool:
        player = self.pop(i, None)
        if player is None:
            return False
        player.stop()
        return True

    def end_all(self) -> None:
        for i in list(self):
            self.end(i)

    def fast(self) -> bool:
        """A replay runs faster than real time (frames 10–20 ms apart)."""
        return any(r.clock.speed > 1 and not r.clock.paused for r in self.values())

    @staticmethod
    def tile_state(player: Any, tile: Tile) -> None:
        """A replaying tile's state, from its player."""
        if player.state == "error":
            tile.state, tile.error = "error", player.error
        elif player.frames() or player.gap:
            tile.state, tile.error = "playing", None
        else:
            tile.state, tile.error = "connecting", None

    def held(self, now: float) -> set[int]:
        """Tiles replaying on one shared clock show their new pictures together: until each
        of them has one (or HOLD_S has passed), none is taken, so the tiles of an incident
        replay never show different moments side by side."""
        groups: dict[int, list[int]] = {}
        for i, player in self.items():
            groups.setdefault(id(player.clock), []).append(i)
        held: set[int] = set()
        for members in groups.values():
            if len(members) < 2:
                continue
            ready = [self[i].slot.ready_stamp() for i in members]
            waiting = [t for t in ready if t is not None]
            # every tile with its new picture, and of one moment: a tile that skipped a
            # moment (late, at 4×) is a step ahead of the others until they catch up
            key = id(self[members[0]].clock)
            if waiting and (len(waiting) < len(ready) or max(waiting) - min(waiting) > TOGETHER_S):
                since = self._holding.setdefault(key, now)
                if now - since < HOLD_S:
                    held.update(members)
                    continue
            self._holding.pop(key, None)
        return held
