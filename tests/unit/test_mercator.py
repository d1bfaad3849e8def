"""Web Mercator tiles and the GCJ-02 datum, checked against published values."""

import math

from wallclient.geo import distance_m
from wallclient.mercator import gcj_to_wgs, lonlat, tile_box, tile_of, tiles_for, wgs_to_gcj, world

# A published WGS-84 ↔ GCJ-02 pair in Shanghai (浦东)
WGS = (121.5272106, 31.1774276)
GCJ = (121.531541859, 31.175303984)


def test_gcj02_matches_the_published_pair_both_ways():
    lon, lat = wgs_to_gcj(*WGS)
    assert distance_m(lon, lat, *GCJ) < 0.5  # the published digits: well within 5 m
    lon, lat = gcj_to_wgs(*GCJ)
    assert distance_m(lon, lat, *WGS) < 0.5
    # the offset is real: ~450 m in Shanghai, not a no-op
    assert 300 < distance_m(*WGS, *GCJ) < 700


def test_gcj02_round_trips_and_is_the_identity_outside_china():
    for lon, lat in ((121.25, 31.38), (116.39, 39.91), (113.26, 23.13)):
        back = gcj_to_wgs(*wgs_to_gcj(lon, lat))
        assert distance_m(*back, lon, lat) < 0.001
    assert wgs_to_gcj(2.35, 48.85) == (2.35, 48.85)  # Paris


def test_tiles_follow_the_openstreetmap_formula():
    # the slippy-map formula of the OSM wiki, written independently (asinh ∘ tan)
    def osm(lon: float, lat: float, z: int) -> tuple[int, int]:
        n = 2**z
        return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

    for lon, lat in ((121.4737, 31.2304), (121.25, 31.38), (-0.1276, 51.5072), (151.2093, -33.8688)):
        for z in (0, 5, 10, 15, 17):
            assert tile_of(lon, lat, z) == osm(lon, lat, z)
    assert tile_of(121.4737, 31.2304, 10) == (857, 418)  # Shanghai's z10 tile
    west, south, east, north = tile_box(10, 857, 418)
    assert west <= 121.4737 <= east and south <= 31.2304 <= north


def test_world_units_round_trip_and_tiles_cover_a_view():
    for lon, lat in ((121.25, 31.38), (0, 0), (-70.5, -33.4)):
        back = lonlat(*world(lon, lat))
        assert abs(back[0] - lon) < 1e-9 and abs(back[1] - lat) < 1e-9
    x0, y0 = world(121.1, 31.45)
    x1, y1 = world(121.4, 31.25)
    got = list(tiles_for(x0, y0, x1, y1, 12))
    want = {(x, y) for x in range(tile_of(121.1, 31.45, 12)[0], tile_of(121.4, 31.25, 12)[0] + 1)
            for y in range(tile_of(121.1, 31.45, 12)[1], tile_of(121.4, 31.25, 12)[1] + 1)}  # fmt: skip
    assert set(got) == want and len(got) == len(want)
    ringed = list(tiles_for(x0, y0, x1, y1, 12, ring=1))
    assert set(ringed) > want and len(ringed) == (len({x for x, _ in want}) + 2) * (len({y for _, y in want}) + 2)
