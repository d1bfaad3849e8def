"""The map (一张图): a package of layers over one viewport (wallclient.viewport)."""

from panels.map.panel import MapPanel
from panels.map.regions import LABEL_PX
from panels.map.units import UNIT_COLOUR

__all__ = ["LABEL_PX", "UNIT_COLOUR", "MapPanel"]
