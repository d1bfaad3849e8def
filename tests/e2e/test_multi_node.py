"""One wall driven by four PCs: each `wallclient run` node drives its own screens of the
district 3×2 layout, the preset's cameras run over the whole wall's tiles (each node shows
its share), and a switch from any node reaches all four together."""

import pytest

from tests.helpers import DemoServer, WallProcess, timeout, wait_for

SPLIT = {"n1": "wall-1,wall-2", "n2": "wall-3", "n3": "wall-4,wall-5", "n4": "wall-6"}


@pytest.fixture
def four_nodes(tmp_path):
    server = DemoServer(tmp_path, "--no-media").start()
    nodes = [WallProcess(tmp_path, server.url, "tok-commander", "--layout", "layouts/district-3x2.json",
                         "--screens", screens, node=name) for name, screens in SPLIT.items()]  # fmt: skip
    try:
        for n in nodes:
            n.start(wait=False)
        for n in nodes:
            wait_for(lambda n=n: n.control.reachable(), timeout(60), "control API")
            wait_for(lambda n=n: n.conn()["state"] == "live", timeout(60), "live")
        yield server, nodes
    finally:
        for n in nodes:
            n.stop()
        server.stop()


def test_four_nodes_share_the_preset_and_switch_together(four_nodes):
    server, nodes = four_nodes
    # each node drives exactly its screens
    for n, screens in zip(nodes, SPLIT.values(), strict=True):
        assert [s["name"] for s in n.status()["screens"]] == screens.split(",")
        assert n.status()["missing_screens"] == []
    cams = [c["id"] for c in server.admin("state")["cameras"]][:18]
    server.admin("publish", type="preset.upsert", data={
        "id": "T-WALL", "name": "整墙", "scenario": "test", "emergency": False, "cameras": cams, "dwell_s": 60})  # fmt: skip
    nodes[2].control.ok("preset.activate", preset="T-WALL")  # from a node with no video at all
    wait_for(
        lambda: all(n.status()["wall"]["preset"] == "T-WALL" for n in nodes),
        timeout(10),
        "all four",
    )
    applied = [n.status()["switch"]["wall_applied_at"] for n in nodes]
    assert max(applied) - min(applied) <= 0.2, applied

    # the 18 video tiles of the wall: wall-1's nine on n1, wall-3's nine on n2
    def on(n):
        return [t["camera"] for t in n.status()["tiles"]]

    wait_for(
        lambda: on(nodes[0]) == cams[:9] and on(nodes[1]) == cams[9:18],
        timeout(10),
        "each its share",
    )
    assert on(nodes[2]) == [] and on(nodes[3]) == []
    # emergency from another node: every screen of every node flips
    emergency = next(p["id"] for p in server.admin("state")["presets"] if p["emergency"])
    nodes[3].control.ok("emergency", preset=emergency)
    wait_for(lambda: all({s["mode"] for s in n.status()["screens"]} == {"emergency"} for n in nodes),
             timeout(10), "emergency on all four")  # fmt: skip
    applied = [n.status()["switch"]["wall_applied_at"] for n in nodes]
    assert max(applied) - min(applied) <= 0.2, applied
