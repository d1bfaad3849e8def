"""The video grid of a layout region (``VideoPanel``), as a small composition:

- ``panel``: the panel — its timers, each tile's state, players started and stopped;
- ``model``: which camera on which tile, and why (preset, tour page, override, linkage);
- ``players``: the players the panel holds and the native windows libvlc draws into;
- ``replays``: tiles playing the past, held together on a shared clock;
- ``painter``: headers, pictures, states in colour and shape;
- ``gestures``: clicks, keys, wheel and drops (PTZ and zoom: panels.steer);
- ``geometry``: tile rectangles, a tile's header and picture area.
"""

from panels.video.geometry import tile_rects
from panels.video.painter import STATE_STYLE
from panels.video.panel import VideoPanel
from panels.video.players import Surface, native_video

__all__ = ["STATE_STYLE", "Surface", "VideoPanel", "native_video", "tile_rects"]
