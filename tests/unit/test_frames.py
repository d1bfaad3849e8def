"""A frame slot shared by the readers a reused player has had (issue 30): once a new
stream begins, a stopped reader still finishing the last one changes nothing a tile shows."""

import ctypes

from wallclient.edges.video.frames import FrameSlot


def picture(w: int, h: int, value: int) -> ctypes.Array:
    return (ctypes.c_ubyte * (w * h * 4))(*([value] * (w * h * 4)))


def test_a_reader_of_an_older_stream_cannot_reshape_write_or_show_a_frame():
    slot = FrameSlot(640, 360)
    old = slot.begin()
    assert slot.reshape(1280, 720, session=old) == (640, 360)
    new = slot.begin()  # the player plays another camera, at another tile size
    slot.box = (480, 270)
    assert slot.reshape(1280, 720, session=old) is None  # the old reader's late first frame
    assert (slot.width, slot.height) == (640, 360)
    assert slot.reshape(1280, 720, session=new) == (480, 270)
    # the old reader's last picture, made at its size, lands nowhere
    stale = picture(640, 360, 7)
    assert not slot.write(stale, 640 * 4, 640, 360, session=old)
    slot.produced(session=old)
    assert slot.frames == 0 and not slot.take()
    # the new reader's picture is shown, whole (a decoder's rows may be padded)
    fresh = picture(500, 270, 9)
    assert slot.write(fresh, 500 * 4, 480, 270, session=new)
    slot.produced(session=new)
    assert slot.take()
    front, w, h, pitch = slot.front_frame()
    assert (w, h, pitch) == (480, 270, 480 * 4)
    assert bytes(front) == bytes([9]) * (480 * 270 * 4)


def test_a_picture_of_another_size_is_refused_even_in_its_own_session():
    slot = FrameSlot(320, 180)
    s = slot.begin()
    assert slot.reshape(320, 180, session=s) == (320, 180)
    big = picture(640, 360, 1)
    assert not slot.write(big, 640 * 4, 640, 360, session=s)
    assert slot.frames == 0
