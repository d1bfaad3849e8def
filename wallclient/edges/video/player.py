"""What a tile needs of a player, whichever route decodes it (``Player``), and the
figures every route shares."""

from __future__ import annotations

from wallclient.edges.video.frames import FrameCount, FrameSlot

# Live view: a short network buffer. 300 ms absorbs LAN jitter; lower values show
# more freezes on a loaded 2-core PC, higher ones only add delay (docs/video.md).
NETWORK_CACHING_MS = 300
READ_TIMEOUT_S = 5.0
DECODER_THREADS = 1  # per stream (docs/video.md, "Cost at real sizes")


class Player:
    """What a tile needs of a player (both kinds)."""

    route = "none"

    native = False  # draws into a native window of its own (``attach``), not into ``slot``
    abandoned = False  # given up on (a hung libvlc call): never played or reused again
    resizable = False  # reusable at another tile size (its picture follows ``slot.box``)

    def __init__(self, width: int, height: int, counted: bool = False) -> None:
        # ``counted``: frames are counted, never held (a native window shows them)
        self.slot: FrameSlot | FrameCount = (FrameCount if counted else FrameSlot)(width, height)
        self.state = "idle"  # idle | connecting | playing | ended | error
        self.error: str | None = None
        self.url: str | None = None
        self.caching_ms: int | None = None  # None: NETWORK_CACHING_MS (a steered tile: less)

    def set_crop(self, crop: tuple[float, float, float, float] | None) -> None:
        """Show only this part of the picture, enlarged (x, y, w, h as fractions): a
        native player's own business; a painted one's tile blits the part itself."""

    def frames(self) -> int:
        return self.slot.frames

    def shown(self) -> int:
        """Frames that reached the screen (painted by Qt, or displayed by libvlc)."""
        return self.slot.shown

    def last_frame_at(self) -> float | None:
        return self.slot.last_frame_at

    def fps(self, now: float) -> float:
        return self.slot.fps(now)

    def play(self, url: str) -> None:
        raise NotImplementedError

    def poll(self, now: float) -> None:
        """Catch up on frames shown (players that cannot tell as they go)."""

    def stop(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.stop()

    def abandon(self, reason: str) -> None:
        """Given up on (``control``'s watchdog): its tile shows ``reason`` and backs off,
        then starts again with another player; the pool drops this one."""
        self.abandoned = True
        self.state, self.error = "error", reason
