"""The C frame sink (wallclient/edges/video/sink.c): libvlc's lock and display callbacks
without Python, driven here as libvlc drives them — from a thread of its own, through
the functions' addresses (CFUNCTYPE over the C code, no Python callback between)."""

from __future__ import annotations

import ctypes
import threading
import time

import pytest

from wallclient.edges.video.sink import SinkSlot, callbacks, library

LOCK = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p))
DISPLAY = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)


@pytest.fixture
def decoder():
    """(lock, display) as libvlc calls them: the C functions at their addresses."""
    assert library() is not None, "make setup builds wallclient/edges/video/_sink.so"
    lock, display = callbacks()
    return LOCK(lock), DISPLAY(display)


def picture(slot: SinkSlot, lock, display, value: int) -> None:
    """One picture as libvlc delivers it: lock → write into the plane → display."""
    planes = (ctypes.c_void_p * 3)()
    lock(slot.handle, planes)
    ctypes.memset(planes[0], value, slot.pitch * slot.height)
    display(slot.handle, None)


def test_a_picture_written_through_the_c_callbacks_is_the_one_the_gui_takes(decoder) -> None:
    lock, display = decoder
    slot = SinkSlot(64, 36)
    slot.want(1)
    slot.live(1)
    assert not slot.take() and slot.frames == 0 and slot.last_frame_at is None
    before = time.monotonic()
    picture(slot, lock, display, 0x11)
    assert slot.fresh and slot.frames == 1
    assert before <= slot.first_frame_at <= time.monotonic()  # the clock time.monotonic() reads
    assert slot.take() and not slot.take()  # taken once
    buf, w, h, pitch = slot.front_frame()
    assert (w, h, pitch) == (64, 36, 256) and bytes(buf)[:4] == b"\x11" * 4
    # two pictures before the GUI looks: it shows the newer, and counts one shown
    picture(slot, lock, display, 0x22)
    picture(slot, lock, display, 0x33)
    assert slot.take() and bytes(slot.front_frame()[0])[-4:] == b"\x33" * 4
    assert (slot.frames, slot.shown) == (3, 2)
    slot.free()


def test_a_late_picture_of_the_last_session_is_never_counted_or_shown(decoder) -> None:
    lock, display = decoder
    slot = SinkSlot(32, 18)
    slot.want(2)  # the GUI asked for the next camera; libvlc still plays session 1
    slot.live(1)
    picture(slot, lock, display, 0x44)
    assert slot.frames == 0 and not slot.take() and slot.last_frame_at is None
    slot.live(2)
    picture(slot, lock, display, 0x55)
    assert slot.frames == 1 and slot.take()
    slot.reset()  # a new stream on the same player: counts start again
    assert slot.frames == 0 and slot.first_frame_at is None and slot.fps(time.monotonic()) == 0.0
    slot.free()


def test_new_buffers_reach_the_decoder_and_the_rate_is_the_pictures(decoder) -> None:
    lock, display = decoder
    slot = SinkSlot(640, 360)
    slot.want(1)
    slot.live(1)
    assert slot.fitted(1280, 720) == (640, 360)
    slot.release_buffers()  # idle in the pool: the pictures' memory handed back
    assert slot.fitted(640, 360) == (640, 360)  # the next stream: buffers again
    planes = (ctypes.c_void_p * 1)()
    lock(slot.handle, planes)
    assert planes[0] in {ctypes.addressof(b) for b in slot.buffers}  # the new ones, not freed ones

    def decode() -> None:  # 25 pictures a second on a thread of its own, as libvlc's
        for _ in range(13):
            picture(slot, lock, display, 0x66)
            time.sleep(0.04)

    t = threading.Thread(target=decode)
    t.start()
    t.join()
    assert slot.frames == 13
    assert 20 <= slot.fps(time.monotonic()) <= 26
    slot.free()
    assert slot.frames == 0 and not slot.take()  # freed: nothing to read, nothing crashes
