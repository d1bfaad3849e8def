"""Steering cameras: the geodesic aim against an independent reference (Karney's
geographiclib), the reference backend's domes, and the bearing strip in their picture."""

import math

import pytest
from geographiclib.geodesic import Geodesic

from wallclient import ptz
from wallclient.demo import ptz as domes

JIADING = (121.2655, 31.3747)


@pytest.mark.parametrize("lat0", [31.3747, 0.5, -45.0, 60.0])
def test_bearings_agree_with_karney_to_far_under_a_tenth_of_a_degree_at_5_km(lat0):
    lon0 = JIADING[0]
    for k in range(72):
        az = k * 5.0 + 0.3
        spot = Geodesic.WGS84.Direct(lat0, lon0, az, 5000.0)
        dist, bearing = ptz.inverse(lon0, lat0, spot["lon2"], spot["lat2"])
        ref = Geodesic.WGS84.Inverse(lat0, lon0, spot["lat2"], spot["lon2"])
        err = abs((bearing - ref["azi1"] + 180) % 360 - 180)
        assert err <= 0.1 and err < 1e-6, (az, bearing, ref["azi1"])  # the budget, and what it is
        assert abs(dist - ref["s12"]) < 0.01


def test_an_aim_tilts_by_the_mounting_height_and_zooms_by_the_distance():
    cam = {"location": {"lon": JIADING[0], "lat": JIADING[1]}, "ptz": True, "status": "online",
           "height_m": 20.0, "ptz_state": {"pan_deg": 0, "tilt_deg": 0, "zoom": 2.0, "fov_deg": 30.0}}  # fmt: skip
    spot = Geodesic.WGS84.Direct(JIADING[1], JIADING[0], 90.0, 200.0)
    a = ptz.aim("c", cam, spot["lon2"], spot["lat2"])
    assert a is not None and abs(a.pan_deg - 90.0) < 1e-6
    assert a.tilt_deg == pytest.approx(-math.degrees(math.atan2(20, 200)), abs=1e-3)
    # 40 m across at 200 m is ~11.4°: the camera's 60° at zoom 1 gives ~5.3×
    assert a.zoom == pytest.approx(60 / math.degrees(2 * math.atan2(20, 200)), rel=1e-3)
    no_height = ptz.aim("c", {**cam, "height_m": None}, spot["lon2"], spot["lat2"])
    assert no_height is not None and no_height.tilt_deg is None and "tilt_deg" not in no_height.command()
    assert ptz.aim("c", {"location": None}, *JIADING) is None


def test_point_here_takes_the_online_ptz_cameras_within_the_radius_nearest_first():
    def cam(east_m: float, **kw):
        p = Geodesic.WGS84.Direct(JIADING[1], JIADING[0], 90.0, east_m)
        return {"location": {"lon": p["lon2"], "lat": p["lat2"]}, "ptz": True, "status": "online", **kw}

    cams = {"far": cam(700), "near": cam(100), "mid": cam(300), "fixed": cam(50, ptz=False),
            "dark": cam(60, status="offline"), "nowhere": {"ptz": True, "status": "online", "location": None}}  # fmt: skip
    got = ptz.point_here(cams, cams, *JIADING, 500)
    assert [a.camera for a in got] == ["near", "mid"]
    assert all(abs(a.pan_deg - 270.0) < 0.01 for a in got)  # they look back west at the spot
    box = ptz.candidates_box(*JIADING, 500)
    for a in got:
        loc = cams[a.camera]["location"]
        assert box[0] <= loc["lon"] <= box[2] and box[1] <= loc["lat"] <= box[3]


def test_a_drag_becomes_speeds_with_a_dead_zone_and_its_direction():
    assert ptz.speeds(0.02, -0.03) == (0.0, 0.0)
    pan, tilt = ptz.speeds(0.5, -1.5)
    assert 0 < pan < 0.5 and tilt == -1.0
    assert ptz.speeds(-0.3, 0.3)[0] == -ptz.speeds(0.3, 0.3)[0]


# --- the reference backend's virtual domes ------------------------------------------------


@pytest.mark.parametrize("pan,tilt", [(0.0, 0.0), (359.9, -64.0), (123.4, -8.0), (270.0, 10.0)])
def test_the_bearing_strip_reads_back_what_it_encodes(pan, tilt):
    import numpy as np

    img = np.zeros((360, 640), np.uint8)
    cells = domes.strip_cells(pan, tilt)
    band = img[360 - 360 // 16 :]
    for i, bit in enumerate(cells):
        band[:, round(i * 640 / 24) : round((i + 1) * 640 / 24)] = 255 * bit
    assert domes.read_strip(img) == (round(pan, 1) % 360, tilt)
    band[:, 100:140] = 255 - band[:, 100:140]  # a damaged strip is not misread
    assert domes.read_strip(img) is None


def _desk():
    cams = {
        "d": {"ptz": True, "ptz_state": {"pan_deg": 10.0, "tilt_deg": -8.0, "zoom": 1.0, "fov_deg": 60.0},
              "ptz_presets": [{"id": "1", "name": "全景"}, {"id": "2", "name": "路口"}]},
        "f": {"ptz": False},
    }  # fmt: skip
    sent: list[tuple[str, dict]] = []
    return domes.PtzDesk(cams, lambda t, d: sent.append((t, d)) or len(sent)), sent


def test_a_dome_turns_while_moved_and_stops_by_itself_a_second_after_the_last_move():
    desk, sent = _desk()
    desk.move("d", "指挥长", 1.0, 0.0, 0.0)
    t0 = desk.domes["d"].moved_at
    for k in range(1, 60):  # 1.18 s of ticks, the move never repeated
        desk.step(t0 + k * 0.02, 0.02)
    d = desk.domes["d"]
    assert not d.moving and 10 + 80 < d.pan < 10 + 95  # ~1 s at 90°/s
    assert sent[-1][1]["by"] == "指挥长" and sent[-1][1]["pan_deg"] == round(d.pan, 2)
    assert 4 <= len(sent) <= 7  # at most 5 a second while moving, and once when it stops


def test_one_controller_at_a_time_unknown_presets_and_fixed_cameras_are_refused():
    desk, _ = _desk()
    desk.move("d", "指挥长", 0.5, 0.0, 0.0)
    with pytest.raises(domes.PtzError) as exc:
        desk.move("d", "实施", 0.5, 0.0, 0.0)
    assert exc.value.code == "ptz_locked" and exc.value.message == "指挥长"
    with pytest.raises(domes.PtzError) as exc:
        desk.goto("d", "指挥长", "9")
    assert exc.value.code == "bad_request"
    with pytest.raises(domes.PtzError) as exc:
        desk.move("f", "指挥长", 0.5, 0.0, 0.0)
    assert exc.value.code == "not_ptz"
    with pytest.raises(domes.PtzError) as exc:
        desk.stop("x", "指挥长")
    assert exc.value.code == "unknown_camera"
    desk.domes["d"].held_at -= domes.LOCK_S + 0.1  # ten seconds later it is free again
    desk.goto("d", "实施", "2")
    assert desk.domes["d"].target == (100.0, -12.0, 2.0)


def test_an_absolute_move_slews_and_ends_exactly_where_it_was_sent():
    desk, sent = _desk()
    desk.absolute("d", "指挥长", 350.0, -20.0, 4.0)
    t = 0.0
    while desk.domes["d"].moving and t < 5:
        t += 0.02
        desk.step(t, 0.02)
    assert desk.domes["d"].state() == {"pan_deg": 350.0, "tilt_deg": -20.0, "zoom": 4.0, "fov_deg": 15.0}
    assert 0.1 < t < 1.05  # 20° the short way round at 180°/s; the zoom ×4 takes a second
    assert sent[-1][1]["pan_deg"] == 350.0
