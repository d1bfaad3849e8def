"""What a tile learns from a player that draws into its own window (frames counted by
polling), and which platforms get native windows."""

from wallclient.edges.video import FrameCount, native_kind, native_output, native_window, vout_args


def test_frames_counted_from_polls_give_rate_age_and_no_double_counting():
    fc = FrameCount(640, 360)
    assert fc.frames == 0 and fc.last_frame_at is None and fc.fps(0.0) == 0.0
    for i in range(21):  # polled five times a second while libvlc shows 25 fps
        fc.seen(5 * i, 100.0 + 0.2 * i)
    assert fc.frames == 100 and fc.last_frame_at == 104.0
    assert abs(fc.fps(104.0) - 25.0) < 0.01
    fc.seen(100, 104.2)  # no new frame: the last frame's time stays (the tile ages it)
    assert fc.last_frame_at == 104.0
    assert fc.fps(110.0) == 0.0  # nothing shown for longer than the window: no rate
    assert fc.take() is False  # nothing for Qt to paint
    fc.reset()
    assert fc.frames == 0 and fc.last_frame_at is None


def test_native_windows_where_the_platform_has_them():
    assert native_kind("xcb") == "xwindow"
    assert native_kind("windows") == "hwnd"
    assert native_kind("cocoa") == "nsobject"
    assert native_kind("offscreen") is None and native_kind("wayland") is None


def test_x11_output_without_opengl_unless_asked(monkeypatch):
    monkeypatch.delenv("WALLCLIENT_VLC_VOUT", raising=False)
    assert vout_args() == ["--vout=xcb_x11", "--gl=none", "--gles2=none"]
    monkeypatch.setenv("WALLCLIENT_VLC_VOUT", "gl")
    assert vout_args() == []


def test_doctor_says_callbacks_without_a_display(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    ok, detail = native_output(display=False)
    assert ok and "callbacks" in detail


def _placed(win_w: int, win_h: int, src_w: int, src_h: int) -> tuple[int, int]:
    """Where libvlc 3 places a picture in a window (vout_display_PlacePicture, square pixels)."""
    scaled_w = src_w * win_h // src_h
    if scaled_w <= win_w:
        return scaled_w, win_h
    return win_w, src_h * win_w // src_w


def test_native_windows_make_libvlc_scale_to_an_even_width_at_the_pictures_aspect():
    # an odd width sends swscale down its full-chroma C path (twice the cost of scaling)
    for src in ((640, 360), (1280, 720), (352, 288), (704, 576), (1920, 1080), (640, 480)):
        for area_w in range(300, 1000, 7):
            for area_h in range(150, 600, 5):
                w, h = native_window(area_w, area_h, *src)
                assert w <= area_w and h <= area_h
                pw, ph = _placed(w, h, *src)
                assert pw % 2 == 0, (src, area_w, area_h, w, h, pw)
                # the window is the picture: at most a few pixels of libvlc's own bars
                assert w - pw <= 2 and h - ph <= 3, (src, area_w, area_h, w, h, pw, ph)
                assert abs(pw / ph - src[0] / src[1]) < 0.02 * src[0] / src[1]
