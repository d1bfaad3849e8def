"""Video players behind one small interface, and the route each URL takes.

What a tile's picture goes through, one module each:

- ``routes``: which form a URL is and which decoder plays it here;
- ``pool``: who owns which player — made, reused and ended in one place;
- ``player``: what a tile needs of a player, whichever route;
- ``libvlc``: libvlc's instance and players (callbacks into a ``FrameSlot``, or a native
  window), with ``control``, the one thread every blocking libvlc call runs on;
- ``pyav``: FFmpeg through PyAV on a reader thread per player;
- ``frames``: the slot a decoder fills and the panel takes;
- ``sink``: that slot filled by libvlc through C callbacks (``sink.c``), no GIL taken;
- ``geometry``: picture sizes, aspects and native window sizes;
- ``memory``: malloc arenas and the heap handed back after switches.

Stream URLs may carry credentials: they are never logged (``redact_url``).
"""

from wallclient.edges.video.frames import FrameCount, FrameSlot
from wallclient.edges.video.geometry import fit, native_window, picture_aspect
from wallclient.edges.video.libvlc import (
    NativeVlcPlayer,
    VlcPlayer,
    native_kind,
    native_output,
    vlc_instance,
    vout_args,
    warm_up,
)
from wallclient.edges.video.memory import cap_malloc_arenas
from wallclient.edges.video.player import DECODER_THREADS, NETWORK_CACHING_MS, Player
from wallclient.edges.video.pool import PlayerPool
from wallclient.edges.video.pyav import AvPlayer, Pacer, av_reason
from wallclient.edges.video.routes import libvlc_has_rtsp, route_for, routes, url_form

__all__ = [
    "DECODER_THREADS", "NETWORK_CACHING_MS", "AvPlayer", "FrameCount", "FrameSlot",
    "NativeVlcPlayer", "Pacer", "Player", "PlayerPool", "VlcPlayer", "av_reason",
    "cap_malloc_arenas", "fit", "libvlc_has_rtsp", "native_kind", "native_output",
    "native_window", "picture_aspect", "route_for", "routes", "url_form", "vlc_instance",
    "vout_args", "warm_up",
]  # fmt: skip
