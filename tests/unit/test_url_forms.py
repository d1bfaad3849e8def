"""The URL forms platforms hand out (ZLMediaKit's playing URLs as WVP gives them) and the
route each takes; the pacing of streams read faster than real time."""

import pytest

from wallclient.edges.video import Pacer, route_for, routes, url_form


@pytest.mark.parametrize(("url", "form", "route"), [
    ("http://10.0.0.5:80/rtp/34020000001320000001_34020000001320000001.live.flv", "http-flv", "pyav"),
    ("https://zlm.example/live/cam-1.live.flv?sign=abc", "http-flv", "pyav"),
    ("http://10.0.0.5/rtp/cam/hls.m3u8", "hls", "pyav"),
    ("http://10.0.0.5/rtp/cam.live.mp4", "http-fmp4", "libvlc"),
    ("http://10.0.0.5/rtp/cam.live.ts", "http-ts", "libvlc"),
    ("rtmp://10.0.0.5:1935/rtp/cam", "rtmp", "pyav"),
    ("file:///var/clips/a.mp4", "file", "libvlc"),
    ("/var/clips/a.mp4", "file", "libvlc"),
    ("udp://@239.0.0.1:1234", "other", "libvlc"),  # not a file: never paced as one
])  # fmt: skip
def test_each_form_is_recognised_and_routed(url, form, route):
    assert url_form(url) == form
    assert route_for(url, rtsp_in_vlc=False) == route


def test_rtsp_plays_in_libvlc_only_where_it_has_live555():
    url = "rtsp://admin:pw@10.0.0.5:554/rtp/cam"
    assert url_form(url) == "rtsp"
    assert route_for(url, rtsp_in_vlc=False) == "pyav"
    assert route_for(url, rtsp_in_vlc=True) == "libvlc"


def test_doctor_lists_every_form_with_its_route():
    listed = routes()
    forms = {name.split(" ")[0] for name in listed}
    assert {"http-ts", "http-fmp4", "http-flv", "hls", "rtmp", "rtsp"} <= forms
    assert all(route in ("libvlc", "pyav") for route in listed.values())


def test_pacer_holds_a_burst_to_real_time_and_restarts_on_a_jump():
    pace = Pacer()
    assert pace.delay(10.0, 100.0) == 0.0  # the first frame sets the clock
    # the rest of a segment read in one go: each frame waits for its time
    assert pace.delay(10.04, 100.001) == pytest.approx(0.039)
    assert pace.delay(10.5, 100.002) == pytest.approx(0.498)
    # timestamps jump (a loop, a camera's clock reset): no 30 s sleep, no racing
    assert pace.delay(40.0, 100.6) == 0.0
    assert pace.delay(40.04, 100.62) == pytest.approx(0.02)
    assert pace.delay(2.0, 100.7) == 0.0  # and backwards


def test_pictures_fit_their_tile_at_their_own_aspect():
    from wallclient.edges.video import fit, picture_aspect

    # libvlc hands over coded sizes, rounded up to 16-pixel blocks
    assert picture_aspect(640, 368) == (640, 360)
    assert picture_aspect(1920, 1088) == (1920, 1080)
    assert picture_aspect(352, 288) == (352, 288)  # CIF, 11:9
    assert picture_aspect(640, 480) == (640, 480)
    assert picture_aspect(1000, 300) == (1000, 300)  # no camera aspect near: as given
    # wider tiles are pillarboxed, taller ones letterboxed; even sizes, never stretched
    assert fit(640, 360, 474, 206) == (366, 206)
    assert fit(640, 360, 634, 470) == (634, 356)
    assert fit(1280, 720, 1914, 1010) == (1794, 1010)
    assert fit(352, 288, 100, 100) == (100, 80)
