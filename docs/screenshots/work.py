"""Screenshots of incident work (docs/operators.md 二之三): the district wall's alarm pop-up
with its picture and boxes (wall-5, over the feed), and the incident card (wall-1).

    .venv/bin/python docs/screenshots/work.py      # writes docs/screenshots/work-*.png
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.e2e.test_popup import ack_popped  # noqa: E402
from tests.helpers import DemoServer, WallProcess, live, wait_for  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="wallclient-work-shots-"))
    basemap = Path.home() / ".cache" / "wallclient" / "basemap-jiading-7-v2.mbtiles"
    extra = ["--basemap", str(basemap)] if basemap.exists() else []
    server = DemoServer(tmp, "--seed", "7", "--rate", "0", units=60, record=True).start()
    try:
        wall = WallProcess(tmp, server.url, "tok-commander", "--layout", str(ROOT / "layouts" / "district-3x2.json"), *extra)
        with live(wall, seconds=60):
            c = wall.control
            time.sleep(3)
            ack_popped(wall)
            iid = server.admin("incident", priority=1, source="video_ai", fresh=True)["incident"]["id"]
            wait_for(lambda: any(s["incident"] == iid and s["picture"] and s["picture"]["ok"]
                                 for s in wall.status()["popup"]["shown"]), 20, "the pop-up")  # fmt: skip
            for _ in range(3):
                server.admin("incident", priority=1, source="iot", fresh=True)
            time.sleep(2)
            c.ok("snapshot", dir=str(tmp / "popup"))
            shutil.copy(tmp / "popup" / "wall-5.png", OUT / "work-popup-wall-5.png")
            card = c.ok("incident.card", incident=iid)["card"]
            c.ok("incident.dispatch", incident=iid, unit=card["dispatch"][0])
            c.ok("incident.note", incident=iid, text="现场监控已调取，通知网格员核实")
            time.sleep(3)
            c.ok("snapshot", dir=str(tmp / "card"))
            shutil.copy(tmp / "card" / "wall-1.png", OUT / "work-card-wall-1.png")
    finally:
        server.stop()
    print("written:", sorted(p.name for p in OUT.glob("work-*.png")))


if __name__ == "__main__":
    main()
