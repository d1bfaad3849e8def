"""Screenshots of time on the wall (docs/screenshots/replay-*.png): a replaying tile
beside live ones, and an incident replay with its timeline and the data panels at the
replay clock. The whole `wallclient run` (district layout, offscreen) against the
reference backend recording real segments.

    .venv/bin/python docs/screenshots/replay.py
"""

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.helpers import DemoServer, WallProcess, wait_for  # noqa: E402
from wallclient.replay import rfc3339  # noqa: E402

OUT = ROOT / "docs/screenshots"


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="wallclient-shots-"))
    server = DemoServer(tmp, "--rate", "1", "--first-preset-size", "16", state=False, record=True, units=60).start()
    wall = WallProcess(tmp, server.url, "tok-commander", "--layout", str(ROOT / "layouts/district-3x2.json"))
    try:
        wall.start()
        wait_for(lambda: wall.conn()["state"] == "live", 60, "live")
        cams = [c for c in server.admin("cameras") if c["status"] == "online"]
        inc = server.admin("incident", priority=1, location=cams[10]["location"], fresh=True)["incident"]
        time.sleep(12)
        server.admin("publish", type="incident.upsert", data={**inc, "status": "dispatched",
                                                              "updated_at": rfc3339(time.time())})  # fmt: skip
        time.sleep(20)
        c = wall.control
        tiles = wall.status()["tiles"]
        i = next(k for k, t in enumerate(tiles) if t["state"] == "playing")
        c.ok("replay.start", tile=i, seconds_back=15)
        wait_for(lambda: wall.status()["tiles"][i]["frames"] > 10, 20, "replaying")
        shots = Path(c.ok("snapshot", dir=str(tmp / "a"))["files"][0])
        for f in (tmp / "a").iterdir():
            shutil.copy(f, OUT / f"replay-tile-{f.name}")
        c.ok("replay.stop")
        c.ok("incident.replay", incident=inc["id"], before_s=0)
        time.sleep(6)
        c.ok("bookmark.add", camera=wall.status()["linkage"]["cameras"][0], note="冒烟")
        time.sleep(3)
        c.ok("replay.control", paused=True)
        time.sleep(1)
        for f in Path(c.ok("snapshot", dir=str(tmp / "b"))["files"][0]).parent.iterdir():
            shutil.copy(f, OUT / f"replay-incident-{f.name}")
        print(shots.parent, "→", OUT)
    finally:
        wall.stop()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
