"""Screenshots of the map on the demo's basemap (docs/map.md): the whole district with the
incident heat of the last hours, cameras, incidents and units; and an incident focused at
street zoom (its linkage cameras).

    .venv/bin/python docs/screenshots/map.py      # writes docs/screenshots/map-basemap-*.png
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.helpers import DemoServer, WallProcess, live, write_layout  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
LAYOUT = {
    "name": "map-shots",
    "screens": [{"name": "m", "x": 0, "y": 0, "width": 1920, "height": 1080}],
    "modes": {"normal": {"m": [{"id": "map", "panel": "map", "rect": [0, 0, 24, 24]}]}},
}


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="wallclient-map-shots-"))
    basemap = Path.home() / ".cache" / "wallclient" / "basemap-jiading-7-v2.mbtiles"
    if not basemap.exists():
        sys.exit(f"no demo basemap at {basemap}: run `make demo` once")
    server = DemoServer(tmp, "--seed", "7", "--rate", "0", "--no-media", units=60).start()
    try:
        wall = WallProcess(tmp, server.url, "tok-commander", "--layout", str(write_layout(tmp, LAYOUT)),
                           "--basemap", str(basemap))  # fmt: skip
        with live(wall, seconds=60):
            c = wall.control
            time.sleep(6)  # tiles read, units moved a little (tracks)
            c.ok("snapshot", dir=str(tmp / "district"))
            shutil.copy(tmp / "district" / "m.png", OUT / "map-basemap-district.png")
            # an incident focused: the map goes to street zoom with its linkage cameras
            cams = [cam for cam in server.admin("cameras") if cam["status"] == "online"]
            spot = cams[len(cams) // 2]["location"]  # among the others, not at the outline
            spot = {"lon": spot["lon"] + 0.0012, "lat": spot["lat"] + 0.0008}
            inc = server.admin("incident", priority=1, location=spot, fresh=True)["incident"]
            time.sleep(1)
            c.ok("incident.focus", incident=inc["id"])
            time.sleep(4)
            c.ok("snapshot", dir=str(tmp / "street"))
            shutil.copy(tmp / "street" / "m.png", OUT / "map-basemap-street.png")
    finally:
        server.stop()
    print("written:", sorted(p.name for p in OUT.glob("map-basemap-*.png")))


if __name__ == "__main__":
    main()
