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


def test_a_replay_shows_each_unit_where_it_was_and_its_track_up_to_then():
    from wallclient.protocol import epoch
    from wallclient.units import units_at

    s = WallState("wall-1")
    s.apply("unit.upsert", UNIT)
    for k in range(1, 13):  # east, 50 m every 10 s, for two minutes
        s.apply("unit.positions", batch(f"2026-12-01T10:{k // 6:02d}:{k % 6 * 10:02d}+08:00",
                                        {"id": "U1", "lon": 121.30 + 0.0005 * k, "lat": 31.30}))  # fmt: skip
    then = epoch("2026-12-01T10:00:35+08:00")
    units, fixes = units_at(s.units, s.tracks, then)
    where = units["U1"]["location"]
    assert where["lon"] == 121.30 + 0.0005 * 3  # its fix at 10:00:30, not today's
    assert round(where["heading"]) == 90  # heading east along its last step
    assert units["U1"]["status"] is None  # its status then is not known: not today's
    assert s.units["U1"]["status"] == "enroute"  # (the live unit untouched)
    assert [p[0] for p in fixes.points.get("U1")] == [epoch(f"2026-12-01T10:00:{x:02d}+08:00")
                                                      for x in (0, 10, 20, 30)]  # fmt: skip
    # before its first fix, or long after its last, it was not known: not on the map then
    assert units_at(s.units, s.tracks, epoch("2026-12-01T09:59:00+08:00"))[0] == {}
    assert units_at(s.units, s.tracks, epoch("2026-12-01T10:30:00+08:00"))[0] == {}
