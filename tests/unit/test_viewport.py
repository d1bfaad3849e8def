"""The map's one projection (wallclient.viewport): what fits, where a place falls, and where a
picture drawn for one view goes on another (the map shows the last scene moved while its
layers are redrawn: a wrong move would put markers on the wrong street for a moment)."""

import math
import random

import pytest

from wallclient.viewport import M_PER_DEG, Viewport

JIADING = (121.10, 31.25, 121.40, 31.45)  # west, south, east, north


def test_the_box_fits_inside_the_margin_and_is_centred():
    v = Viewport.fitting(JIADING, 1920, 1080, margin=30)
    x0, y0 = v.xy(JIADING[0], JIADING[3])
    x1, y1 = v.xy(JIADING[2], JIADING[1])
    assert x0 >= 30 - 1e-6 and y0 >= 30 - 1e-6 and x1 <= 1890 + 1e-6 and y1 <= 1050 + 1e-6
    assert min(y0 - 30, x0 - 30) == pytest.approx(0, abs=1e-6)  # one side touches the margin
    assert (x0 + x1) / 2 == pytest.approx(960) and (y0 + y1) / 2 == pytest.approx(540)
    # a degree of longitude is cos φ₀ of a degree of latitude on the screen
    assert v.kx == pytest.approx(math.cos(math.radians(31.35)))


def test_lonlat_undoes_xy_and_the_box_is_what_is_seen():
    v = Viewport.fitting(JIADING, 1280, 720, margin=0, zoom=7.0, centre=(121.27, 31.38))
    rng = random.Random(1)
    for _ in range(100):
        lon, lat = rng.uniform(121.2, 121.3), rng.uniform(31.3, 31.4)
        assert v.lonlat(*v.xy(lon, lat)) == pytest.approx((lon, lat), abs=1e-12)
    west, south, east, north = v.box()
    assert v.xy(west, north) == pytest.approx((0, 0), abs=1e-6) and v.xy(east, south) == pytest.approx((1280, 720))
    assert v.xy(121.27, 31.38) == pytest.approx((640, 360))


def test_metres_and_the_world_in_pixels():
    v = Viewport.fitting(JIADING, 1920, 1080, zoom=4.0)
    # 1 km north–south is k / 111.195 pixels
    assert v.px(1000) == pytest.approx(v.k * 1000 / M_PER_DEG)
    lon, lat = v.lon, v.lat
    _, y0 = v.xy(lon, lat)
    _, y1 = v.xy(lon, lat + 1000 / M_PER_DEG)
    assert y0 - y1 == pytest.approx(v.px(1000))
    assert v.world_px() == pytest.approx(360 * v.k * v.kx)


def test_a_picture_drawn_for_one_view_lands_where_the_other_view_draws_the_same_places():
    rng = random.Random(2)
    old = Viewport.fitting(JIADING, 1920, 1080, zoom=3.0, centre=(121.25, 31.35))
    for new in (
        old.panned(37, -12),
        Viewport.fitting(JIADING, 1920, 1080, zoom=3.0 * 1.25, centre=(121.26, 31.34)),
        Viewport.fitting(JIADING, 1920, 1080, zoom=1.5, centre=(121.20, 31.40)),
        Viewport.fitting(JIADING, 1280, 720, zoom=3.0, centre=(121.25, 31.35)),  # resized
    ):
        s, dx, dy = new.moved_from(old)
        for _ in range(50):
            lon, lat = rng.uniform(121.1, 121.4), rng.uniform(31.25, 31.45)
            x, y = old.xy(lon, lat)
            assert (s * x + dx, s * y + dy) == pytest.approx(new.xy(lon, lat), abs=1e-6)


def test_another_scopes_proportions_cannot_be_moved_onto():
    here = Viewport.fitting(JIADING, 1920, 1080)
    north = Viewport.fitting((121.1, 45.0, 121.4, 45.2), 1920, 1080)
    assert north.moved_from(here) is None
    assert here.moved_from(here) == pytest.approx((1.0, 0.0, 0.0), abs=1e-6)


def test_panning_moves_the_ground_by_the_pixels_asked():
    v = Viewport.fitting(JIADING, 1920, 1080, zoom=5.0)
    moved = v.panned(100, -40)
    place = (121.3, 31.33)
    x0, y0 = v.xy(*place)
    x1, y1 = moved.xy(*place)
    assert (x1 - x0, y1 - y0) == pytest.approx((100, -40))
    assert moved.key != v.key and Viewport.fitting(JIADING, 1920, 1080, zoom=5.0).key == v.key
