"""What a tile learns from a player that draws into its own window (frames counted by
polling), and which platforms get native windows."""

from wallclient.edges.video import FrameCount, native_kind, native_output, vout_args


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
