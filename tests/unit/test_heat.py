"""The incident heatmap's arithmetic (panels.map.heat): which incidents make it, where the
warmth lands, and how it is coloured."""

import numpy as np

from panels.map.heat import FULL_AT, colourise, density, points
from wallclient.protocol import format_time


def _inc(t: float, lon=121.25, lat=31.38, region="310114001"):
    from datetime import datetime

    from wallclient.protocol import CST

    return {"reported_at": format_time(datetime.fromtimestamp(t, CST)), "location": {"lon": lon, "lat": lat},
            "region": region}


def test_only_incidents_of_the_last_hours_in_the_area_with_a_place_count():
    now = 1_800_000_000.0
    incs = [_inc(now - 60), _inc(now - 3 * 3600), _inc(now - 5 * 3600), _inc(now - 60, region="310114002"),
            {"reported_at": "garbage", "location": {"lon": 1, "lat": 2}}, {**_inc(now), "location": None},
            {**_inc(now), "location": {"lon": "x", "lat": 1}}, {**_inc(now), "location": {"lon": float("nan"), "lat": 1}}]
    lons, lats = points(incs, now, hours=4, covers=lambda region: region == "310114001")
    assert len(lons) == 2 and len(lats) == 2


def test_warmth_lands_on_the_incident_and_fades_with_distance():
    d = density(np.array([50.0]), np.array([40.0]), 100, 80, spread=6)
    assert np.unravel_index(np.argmax(d), d.shape) == (40, 50)
    assert d[40, 50] > d[40, 56] > d[40, 62] > d[40, 80] == 0.0
    # FULL_AT incidents on one spot are the hottest colour; one alone is not
    many = density(np.full(int(FULL_AT), 50.0), np.full(int(FULL_AT), 40.0), 100, 80, spread=6)
    assert many[40, 50] >= 0.95 and d[40, 50] < 0.5
    # off the grid: nothing, and no error
    assert density(np.array([-5.0, 500.0]), np.array([10.0, 10.0]), 100, 80, spread=6).max() == 0.0


def test_nothing_is_transparent_and_the_hottest_is_opaque_enough_to_see():
    c = colourise(np.array([[0.0, 0.5, 1.0]]))
    assert c[0, 0, 3] == 0 and c[0, 1, 3] > 100 and c[0, 2, 3] >= 200
    assert (c[..., :3] <= c[..., 3:4]).all()  # premultiplied: no channel above its alpha


def test_report_times_are_remembered_only_for_the_incidents_still_held():
    # a day of a busy feed is ~100,000 incidents, each read once: the times of those the
    # wall no longer holds must not pile up (a wall runs for months)
    from panels.map import heat

    now = 1_800_000_000.0
    day = [_inc(now - n) for n in range(20_000)]  # 20,000 distinct report times
    assert len(points(day, now)[0]) > 10_000
    held = day[:50]
    assert len(points(held, now)[0]) == 50
    assert len(heat._REPORTED) <= 2 * len(held) + 1024
