"""Regenerate docs/screenshots: sync a cache from the demo backend, then render every
layout in normal and emergency mode with `wallclient snapshot` (no network).

    .venv/bin/python docs/screenshots/make.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.helpers import DemoServer, WallProcess, wait_for  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def main() -> None:
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        server = DemoServer(
            tmp, "--no-media", "--rate", "2", "--indicator-period", "2", state=False
        ).start()
        wall = WallProcess(tmp, server.url)
        try:
            wall.start()
            wait_for(lambda: wall.conn()["state"] == "live", 30)
            # a minute of readings makes the sparklines worth looking at
            wait_for(lambda: wall.conn()["last_seq"] >= 60, 120)
        finally:
            wall.stop()
            server.stop()
        for layout in ("district-3x2", "street-4k", "desk-dual"):
            for mode in ("normal", "emergency"):
                out = OUT / layout / mode
                subprocess.run(
                    [sys.executable, "-m", "wallclient", "snapshot", "--layout", str(ROOT / "layouts" / f"{layout}.json"),
                     "--cache", str(wall.cache), "--out", str(out), "--mode", mode],
                    check=True, capture_output=True,
                )  # fmt: skip
                print(out)


if __name__ == "__main__":
    main()
