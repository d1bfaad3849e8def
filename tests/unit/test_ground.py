"""Shanghai's district outlines decoded from echarts' compressed GeoJSON, in WGS-84."""

import math

from wallclient.demo.ground import JIADING, decode_ring, districts, outline
from wallclient.geo import distance_m, inside


def area_km2(ring):
    lat0 = sum(p[1] for p in ring) / len(ring)
    kx = 111.32 * math.cos(math.radians(lat0))
    s = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True))
    return abs(s) / 2 * kx * 110.57




def test_the_zigzag_deltas_decode_from_the_offset():
    # "@@" is a zero step: the first point is the offset itself, in 1/1024 degree
    assert decode_ring("@@AB", [124373, 31970]) == [(124373 / 1024, 31970 / 1024), (124372 / 1024, 31971 / 1024)]


def test_jiading_is_where_and_as_large_as_it_is():
    d = districts()
    # 15 of the 16 (崇明区 is written with its properties first: not needed here, not read)
    assert len(d) >= 15 and d[JIADING]["name"] == "嘉定区"
    ring = outline()
    assert len(ring) > 100
    # 嘉定区 is 464 km² (quantised to ~100 m, the outline gives about that)
    assert 400 < area_km2(ring) < 530
    # its town centre (嘉定镇街道, WGS-84 31.383 N 121.250 E) lies inside, Shanghai's centre not
    assert inside(ring, 121.250, 31.383) and not inside(ring, 121.4737, 31.2304)
    # converted from GCJ-02: the echarts label point moved by the datum's ~500 m
    cp = d[JIADING]["centre"]
    assert 300 < distance_m(*cp, 121.250333, 31.383524) < 8000
