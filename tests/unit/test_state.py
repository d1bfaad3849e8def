"""WallState applies state messages and tells listeners only about real changes."""

from wallclient.state import Change, WallState

CAM = {"id": "c1", "name": "n", "region": "r", "location": None, "streams": {}, "status": "online"}
IND = {"id": "i1", "name": "水位", "category": "城市运行", "item": "排水", "unit": "m", "direction": "above",
       "warn": 3.2, "alarm": 3.6, "decimals": 2, "value": 2.5, "t": "2026-07-14T09:00:00+08:00"}  # fmt: skip


def test_upsert_status_remove_emit_changes_once():
    state = WallState("w")
    seen = []
    state.subscribe(seen.append)
    state.apply("camera.upsert", CAM, 1)
    state.apply("camera.upsert", CAM, 2)  # same again: no change
    state.apply("camera.status", {"id": "c1", "status": "offline"}, 3)
    state.apply("camera.status", {"id": "c1", "status": "offline"}, 4)
    assert seen == [[Change("cameras", ("c1",))], [Change("cameras", ("c1",))]]
    assert state.cameras["c1"]["status"] == "offline" and state.last_seq == 4
    state.apply("camera.remove", {"id": "c1"}, 5)  # not a protocol type: ignored safely
    assert "c1" in state.cameras


def test_indicator_values_and_definition_updates_keep_the_latest_reading():
    state = WallState()
    state.apply("indicator.upsert", IND, 1)
    state.apply(
        "indicator.values",
        {
            "t": "2026-07-14T09:01:00+08:00",
            "values": [{"id": "i1", "value": 3.4}, {"id": "nope", "value": 1}],
        },
        2,
    )
    assert state.indicators["i1"]["value"] == 3.4
    redefined = {k: v for k, v in IND.items() if k not in ("value", "t")} | {"warn": 3.0}
    state.apply("indicator.upsert", redefined, 3)
    assert state.indicators["i1"]["value"] == 3.4 and state.indicators["i1"]["warn"] == 3.0


def test_only_this_walls_state_applies():
    state = WallState("wall-A")
    state.apply("wall.state", {"wall": "wall-B", "mode": "emergency", "preset": "P9"}, 1)
    assert state.wall is None
    state.apply("wall.state", {"wall": "wall-A", "mode": "emergency", "preset": "P2"}, 2)
    assert state.wall["mode"] == "emergency"


def test_incident_remove_drops_it_from_the_live_view():
    state = WallState()
    inc = {"id": "W1", "source": "110", "category": ["a"], "title": "t", "priority": 1, "status": "new",
           "region": None, "reported_at": "2026-07-14T09:00:00+08:00", "deadlines": {},
           "updated_at": "2026-07-14T09:00:00+08:00"}  # fmt: skip
    state.apply("incident.upsert", inc, 1)
    assert state.view()["incidents"][0]["id"] == "W1"
    state.apply("incident.remove", {"id": "W1"}, 2)
    assert state.view()["incidents"] == []

