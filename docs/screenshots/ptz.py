"""Screenshots of steering (docs/operators.md 二之二, docs/map.md): a commander's wall on the
demo's basemap after "point here" (the domes turned, on the linkage tiles, their view
cones on the map), one tile digitally zoomed, and the same zoom on a native tile (Xvfb).

    .venv/bin/python docs/screenshots/ptz.py      # writes docs/screenshots/ptz-*.png
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.e2e.test_ptz import LAYOUT, show  # noqa: E402
from tests.helpers import DemoServer, WallProcess, live, start_xvfb, wait_for, write_layout  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="wallclient-ptz-shots-"))
    basemap = Path.home() / ".cache" / "wallclient" / "basemap-jiading-7-v2.mbtiles"
    extra = ["--basemap", str(basemap)] if basemap.exists() else []
    server = DemoServer(tmp, "--seed", "7").start()
    xvfb = None
    try:
        cams = server.admin("cameras")
        domes = [c for c in cams if c.get("ptz") and c["status"] == "online"]
        fixed = [c["id"] for c in cams if not c.get("ptz") and c["status"] == "online"][:5]
        show(server, [domes[0]["id"], *fixed])
        layout = write_layout(tmp, LAYOUT)
        wall = WallProcess(tmp, server.url, "tok-commander", "--layout", str(layout), *extra)
        with live(wall):
            wait_for(lambda: wall.status()["tiles"][0]["state"] == "playing", 30, "playing")
            spot = domes[0]["location"]
            got = wall.control.ok("ptz.point", lon=spot["lon"] + 0.004, lat=spot["lat"] + 0.002, radius_m=1500)
            print("pointed:", [(r["camera"][-4:], r["pan_deg"]) for r in got["cameras"]])
            time.sleep(4)
            wall.control.ok("tile.zoom", tile=len(got["cameras"]), x=0.3, y=0.2, size=0.5)
            wait_for(lambda: all(t["state"] == "playing" for t in wall.status()["tiles"][:5]), 30, "playing")
            time.sleep(3)
            wall.control.ok("snapshot", dir=str(tmp / "shots"))
            shutil.copy(tmp / "shots" / "v.png", OUT / "ptz-point-here.png")
        xvfb, display = start_xvfb(tmp)
        show(server, [domes[0]["id"], *fixed])
        native = WallProcess(tmp, server.url, "tok-viewer", "--layout", str(layout), node="x",
                             display=display)  # fmt: skip
        with live(native):
            wait_for(lambda: native.status()["tiles"][0]["state"] == "playing", 30, "playing")
            native.control.ok("tile.zoom", tile=0, x=0.25, y=0.25, size=0.5)
            wait_for(lambda: native.status()["tiles"][0]["stream"] == "main"
                     and native.status()["tiles"][0]["state"] == "playing", 30, "main")  # fmt: skip
            time.sleep(3)
            grab = ("from PySide6.QtGui import QGuiApplication; import sys; "
                    "app = QGuiApplication(sys.argv); app.primaryScreen().grabWindow(0).save(sys.argv[1])")  # fmt: skip
            env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
            subprocess.run([sys.executable, "-c", grab, str(OUT / "ptz-zoom-native-x11.png")], env=env,
                           check=True, timeout=60)  # fmt: skip
    finally:
        server.stop()
        if xvfb is not None:
            xvfb.kill()
            xvfb.wait()
    print("written:", sorted(p.name for p in OUT.glob("ptz-*.png")))


if __name__ == "__main__":
    main()
