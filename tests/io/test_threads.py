"""libvlc's own threads behind the GUI thread (``[video] decoder_nice``): real libvlc
decoding real H.264 through the C frame sink, priorities read back from the kernel."""

import contextlib
import os
import threading

import pytest

from tests.helpers import h264_ts, wait_for
from wallclient.edges.video import PlayerPool, sink
from wallclient.edges.video.threads import NativeThreads, nice_of


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return h264_ts(tmp_path_factory.mktemp("clip") / "clip.ts", "640x360")


def test_decoder_threads_are_lowered_and_python_threads_keep_their_priority(clip):
    assert sink.library() is not None, "the C frame sink is built by make setup"
    base = nice_of(os.getpid())
    busy = threading.Event()
    worker = threading.Thread(target=busy.wait, name="a-python-worker", daemon=True)
    worker.start()
    pool = PlayerPool(max_live=2)
    keeper = NativeThreads(5)
    try:
        p = pool.acquire(clip, 640, 360)
        wait_for(lambda: p.frames() > 10, 20, "frames decoded")
        assert keeper.tick() > 0  # libvlc's input, decoder and output threads
        assert keeper.tick() == 0  # each once
        for tid in keeper.lowered:
            assert nice_of(tid) == min(19, base + 5), f"thread {tid} not lowered"
        for t in threading.enumerate():  # the GUI (main) thread and every Python thread
            assert t.native_id not in keeper.lowered and nice_of(t.native_id) == base, t.name
        # the pictures keep coming from the lowered threads
        seen = p.frames()
        wait_for(lambda: p.frames() > seen + 25, 10, "frames after lowering")
        pool.release(p)
    finally:
        busy.set()
        pool.close()
        for tid in keeper.lowered:  # libvlc's instance lives on in this process: no leak
            with contextlib.suppress(OSError):  # (back up needs the privilege tests run with)
                os.setpriority(os.PRIO_PROCESS, tid, base)
