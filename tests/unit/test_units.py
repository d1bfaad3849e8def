"""Units' positions: believed, or counted and dropped — never drawn when wrong."""

from wallclient.state import WallState
from wallclient.units import decimate

UNIT = {"id": "U1", "name": "南翔镇巡逻车01", "kind": "patrol_car", "status": "enroute",
        "location": {"lon": 121.30, "lat": 31.30, "t": "2026-12-01T10:00:00+08:00"}}  # fmt: skip


def batch(t: str, *positions: object) -> dict:
    return {"t": t, "positions": list(positions)}


def test_positions_move_a_unit_and_bad_ones_are_dropped_and_counted():
    s = WallState("wall-1")
    s.apply("unit.upsert", UNIT)
    s.apply("unit.positions", batch("2026-12-01T10:00:10+08:00", {"id": "U1", "lon": 121.3005, "lat": 31.30, "heading": 90}))
    assert s.units["U1"]["location"]["lon"] == 121.3005 and s.units["U1"]["location"]["heading"] == 90
    bad = [
        ("2026-12-01T10:00:20+08:00", {"id": "U1", "lon": "east", "lat": 31.3}),  # malformed
        ("2026-12-01T10:00:20+08:00", {"id": "U1", "lon": 200.0, "lat": 31.3}),  # out of range
        ("2026-12-01T10:00:05+08:00", {"id": "U1", "lon": 121.301, "lat": 31.30}),  # out of order
        ("2026-12-01T10:00:20+08:00", {"id": "U1", "lon": 122.30, "lat": 31.30}),  # 95 km in 10 s
        ("2026-12-01T10:00:20+08:00", {"id": "U9", "lon": 121.3, "lat": 31.3}),  # no such unit
        ("2026-12-01T10:00:20+08:00", "not even an object"),
    ]
    for t, pos in bad:
        assert s.apply("unit.positions", batch(t, pos)) == []
    assert s.units["U1"]["location"]["lon"] == 121.3005  # nothing wrong was applied
    d = s.tracks.dropped
    assert (d.malformed, d.out_of_range, d.out_of_order, d.jumps) == (3, 1, 1, 1)
    # one good position among bad ones in one batch still moves the unit
    s.apply("unit.positions", batch("2026-12-01T10:00:30+08:00", {"id": "U1", "lon": 121.301, "lat": 31.30}, {"id": "U1"}))
    assert s.units["U1"]["location"]["lon"] == 121.301
    assert [p[1] for p in s.tracks.track("U1", 0)] == [121.30, 121.3005, 121.301]


def test_a_track_is_drawn_with_few_points():
    pts = [(float(i), 0.0) for i in range(100)]
    thin = decimate(pts, 10)
    assert thin[0] == pts[0] and thin[-1] == pts[-1] and len(thin) <= 12
