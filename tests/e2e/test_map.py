"""One map end to end: a new priority-1 incident from the reference backend, focused
through the control API, puts its three nearest online cameras on the linkage tiles,
playing real video."""

import pytest

from tests.helpers import DemoServer, WallProcess, live, timeout, wait_for, write_layout
from wallclient.geo import location, nearest_brute

LAYOUT = {
    "name": "map-linkage",
    "screens": [{"name": "m", "x": 0, "y": 0, "width": 1920, "height": 1080}],
    "modes": {
        "normal": {
            "m": [
                {"id": "map", "panel": "map", "rect": [0, 0, 12, 24]},
                {"id": "preset", "panel": "video", "rect": [12, 0, 12, 12],
                 "options": {"rows": 2, "cols": 2}},
                {"id": "linkage", "panel": "video", "rect": [12, 12, 12, 12],
                 "options": {"rows": 2, "cols": 2, "linkage": True}},
            ]
        }
    },
}  # fmt: skip


@pytest.fixture
def map_wall(tmp_path):
    server = DemoServer(tmp_path).start()
    try:
        with live(
            WallProcess(
                tmp_path, server.url, "tok-viewer", "--layout", str(write_layout(tmp_path, LAYOUT))
            )
        ) as (wall,):
            yield server, wall
    finally:
        server.stop()


def test_focusing_a_new_priority1_incident_plays_its_three_nearest_online_cameras(map_wall):
    server, wall = map_wall
    published = server.admin("incident", priority=1)
    inc = published["incident"]
    wait_for(lambda: wall.status()["connection"]["last_seq"] >= published["seq"], timeout(10))
    cams = {c["id"]: c for c in server.admin("cameras")}
    want = [c for _, c in nearest_brute(cams, *location(inc), 3,
                                        lambda c: cams[c]["status"] == "online")]  # fmt: skip
    data = wall.control.ok("incident.focus", incident=inc["id"])
    assert data["incident"] == inc["id"] and data["cameras"] == want
    assert wall.status()["linkage"]["cameras"] == want

    def linked():
        return [t for t in wall.status()["tiles"] if t["region"] == "linkage"]

    wait_for(lambda: [t["camera"] for t in linked()][:3] == want, timeout(5), "linkage tiles")
    wait_for(lambda: all(t["state"] == "playing" for t in linked()[:3]), timeout(40), "playing")
    assert [t["linked"] for t in linked()] == [True, True, True, False]
    # the preset region keeps the preset
    assert all(not t["linked"] for t in wall.status()["tiles"] if t["region"] == "preset")
    # an unknown incident is refused plainly; null clears
    reply = wall.control("incident.focus", incident="nope")
    assert not reply["ok"] and reply["error"]["code"] == "not_found"
    assert wall.control.ok("incident.focus", incident=None)["cameras"] == []
    wait_for(lambda: not any(t["linked"] for t in linked()), timeout(5), "linkage cleared")


def test_units_reach_the_map_and_only_clients_that_know_them_get_them(tmp_path):
    import asyncio
    import json

    from websockets.asyncio.client import connect

    from wallclient import protocol

    server = DemoServer(tmp_path, "--no-media", "--unit-period", "0.5", units=25).start()
    try:
        with live(WallProcess(tmp_path, server.url, "tok-viewer", "--layout",
                              str(write_layout(tmp_path, LAYOUT)))) as (wall,):  # fmt: skip
            wait_for(lambda: (wall.status()["map"] or {}).get("units") == 25, timeout(20), "25 units")

        # a client whose hello lists no features gets no snapshot part of kind "units"
        async def kinds() -> set[str]:
            async with connect(server.url, additional_headers={"Authorization": "Bearer tok-viewer"},
                               max_size=None) as ws:  # fmt: skip
                await ws.send(protocol.encode("hello", {"client": "old/1", "wall": "wall-1", "node": "old",
                                                        "scope": {"level": "district", "code": "310114"},
                                                        "resume_from": None}))  # fmt: skip
                seen: set[str] = set()
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), timeout(10)))
                    if msg["type"] == "snapshot.part":
                        seen.add(msg["data"]["kind"])
                    if msg["type"] == "snapshot.end":
                        return seen

        got = asyncio.run(kinds())
        assert "cameras" in got and "units" not in got
    finally:
        server.stop()


def test_a_units_own_camera_plays_on_a_tile_and_joins_its_incidents_linkage_on_arrival(tmp_path):
    server = DemoServer(tmp_path, "--unit-period", "0.5", units=12).start()
    try:
        with live(WallProcess(tmp_path, server.url, "tok-commander", "--layout",
                              str(write_layout(tmp_path, LAYOUT)))) as (wall,):  # fmt: skip
            assert wall.status()["map"]["units"] == 12
            # the demo's body cameras and drones carry a stream: the first unit that does
            uid = next(f"U{n:04d}" for n in range(1, 13)
                       if wall.control("tile.place", tile=0, camera=f"U{n:04d}")["ok"])  # fmt: skip
            wait_for(lambda: (t := wall.status()["tiles"][0])["camera"] == uid and t["state"] == "playing",
                     timeout(30), "the unit's own camera playing")  # fmt: skip
            refused = wall.control("tile.place", tile=1, camera="no-such-thing")
            assert not refused["ok"] and refused["error"]["code"] == "not_found"

            # an incident a few metres from that unit, focused: its nearest cameras take the
            # linkage tiles; the unit, dispatched, arrives, and its video joins them
            unit = next(u for u in server.admin("units") if u["id"] == uid)
            spot = {"lon": unit["location"]["lon"] + 0.0001, "lat": unit["location"]["lat"]}
            published = server.admin("incident", priority=1, location=spot, fresh=True)
            iid = published["incident"]["id"]
            wait_for(lambda: wall.status()["connection"]["last_seq"] >= published["seq"], timeout(10))
            nearest = wall.control.ok("incident.focus", incident=iid)["cameras"]
            assert uid not in nearest and len(nearest) == 3
            wall.control.ok("incident.dispatch", incident=iid, unit=uid)
            wait_for(lambda: wall.status()["linkage"]["cameras"] == [*nearest, uid], timeout(15),
                     "the arrived unit joins the linkage")  # fmt: skip
            assert server.admin("incident_of", id=iid)["status"] == "arrived"

            def fourth():
                return [t for t in wall.status()["tiles"] if t["region"] == "linkage"][3]

            wait_for(lambda: fourth()["camera"] == uid and fourth()["linked"] and fourth()["state"] == "playing",
                     timeout(30), "the unit's video on the fourth linkage tile")  # fmt: skip
    finally:
        server.stop()
