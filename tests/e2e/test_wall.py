"""The wall end to end: `wallclient run --offscreen` on six virtual screens against the
reference backend, driven and observed through the control API."""

import json
import time
from pathlib import Path

import pytest

from tests.helpers import DemoServer, WallProcess, run_cli, wait_for

pytestmark = pytest.mark.slow
LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"


@pytest.fixture
def server(tmp_path):
    s = DemoServer(tmp_path, "--rate", "2", "--no-media").start()
    yield s
    s.stop()


def test_six_screens_emergency_switch_and_offline(tmp_path, server):
    wall = WallProcess(
        tmp_path, server.url, "tok-commander", "--layout", str(LAYOUTS / "district-3x2.json")
    )
    viewer = WallProcess(
        tmp_path,
        server.url,
        "tok-viewer",
        "--layout",
        str(LAYOUTS / "desk-dual.json"),
        node="viewer",
    )
    try:
        wall.start()
        wait_for(lambda: wall.conn()["state"] == "live", 20, "live")
        screens = wall.status()["screens"]
        expected = {s["name"]: [s["x"], s["y"], s["width"], s["height"]]
                    for s in json.loads((LAYOUTS / "district-3x2.json").read_text())["screens"]}  # fmt: skip
        # each window landed on its own (virtual) screen with the layout's geometry
        assert {s["name"]: s["geometry"] for s in screens} == expected
        assert all(s["qscreen"] == s["name"] for s in screens)
        assert {s["mode"] for s in screens} == {"normal"}

        # a commander flips the whole wall through the backend; every screen follows
        assert wall.control("mode.set", mode="emergency")["ok"]
        wait_for(
            lambda: {s["mode"] for s in wall.status()["screens"]} == {"emergency"},
            15,
            "every screen emergency",
        )
        # the status' wall block is computed at most every 200 ms: it follows within that
        wait_for(lambda: wall.status()["wall"]["mode"] == "emergency", 2, "status says emergency")
        files = wall.control.ok("snapshot", dir=str(tmp_path / "shots"))["files"]
        assert sorted(Path(f).name for f in files) == [f"wall-{i}.png" for i in range(1, 7)]
        assert all(Path(f).stat().st_size > 10_000 for f in files)

        # a viewer's wall shows it too, but may not switch
        viewer.start()
        wait_for(lambda: viewer.conn()["state"] == "live", 20)
        wait_for(
            lambda: {s["mode"] for s in viewer.status()["screens"]} == {"emergency"},
            15,
            "viewer wall",
        )
        reply = viewer.control("mode.set", mode="normal")
        assert not reply["ok"] and reply["error"]["code"] == "forbidden"

        assert wall.control("mode.set", mode="normal")["ok"]
        wait_for(
            lambda: {s["mode"] for s in wall.status()["screens"]} == {"normal"},
            15,
            "back to normal",
        )

        # the backend goes away: offline with a time, and nothing is blanked
        server.admin("rate", rate=0)
        head = server.admin("head")["seq"]
        wait_for(lambda: wall.conn()["last_seq"] >= head, 10, "at the backend's head")
        time.sleep(0.3)  # the status is computed at most every 200 ms
        open_before = wall.status()["incidents"]["open"]
        server.stop(kill=True)
        wait_for(lambda: wall.conn()["state"] == "offline", 45, "offline")
        st = wall.status()
        assert st["connection"]["since"] and st["incidents"]["open"] == open_before
        assert len(st["screens"]) == 6
    finally:
        wall.stop(kill=True)
        viewer.stop(kill=True)


def test_layout_validate_and_snapshot_from_cache(tmp_path, server):
    assert run_cli("layout", "validate", str(LAYOUTS / "street-4k.json")).returncode == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "screens": [{"name": "a", "width": 1, "height": 1}],
                               "modes": {"normal": {"b": []}}}), encoding="utf-8")  # fmt: skip
    proc = run_cli("layout", "validate", str(bad))
    assert proc.returncode == 2
    assert (
        "screens[0].width" in proc.stderr
        and "screens[0].height" in proc.stderr
        and "modes.normal.b" in proc.stderr
    )

    wall = WallProcess(tmp_path, server.url)
    wall.start()
    wait_for(lambda: wall.conn()["state"] == "live", 20)
    wall.stop()
    proc = run_cli("snapshot", "--layout", str(LAYOUTS / "desk-dual.json"), "--cache", str(wall.cache),
                   "--out", str(tmp_path / "preview"), "--mode", "emergency")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "preview").iterdir()) == [
        "desk-left.png",
        "desk-right.png",
    ]
