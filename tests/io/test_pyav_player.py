"""The FFmpeg (PyAV) route on real H.264: a damaged stretch of a stream costs frames, not the tile."""

import random
import subprocess
import time
from pathlib import Path

import av

from wallclient.edges.video import AvPlayer


def refused(data: bytes, path: Path) -> int:
    """How many of the stream's packets its decoder refuses (FFmpeg's own answer)."""
    path.write_bytes(data)
    bad = 0
    with av.open(str(path)) as c:
        for packet in c.demux(c.streams.video[0]):
            try:
                packet.decode()
            except av.error.InvalidDataError:
                bad += 1
    return bad


def test_packets_the_decoder_refuses_are_skipped_and_the_tile_plays_on(tmp_path):
    clip = tmp_path / "clip.ts"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=25",
                    "-t", "4", "-c:v", "libx264", "-g", "25", "-pix_fmt", "yuv420p", "-f", "mpegts",
                    str(clip)], check=True)  # fmt: skip
    good = clip.read_bytes()
    damaged = tmp_path / "damaged.ts"
    for seed in range(50):  # bits flipped in the second quarter, until FFmpeg refuses a packet
        data = bytearray(good)
        rng = random.Random(seed)
        n = len(data) // 188
        for k in range(n // 4, n // 2):
            if rng.random() < 0.3:
                for _ in range(20):
                    data[k * 188 + rng.randrange(4, 188)] ^= 1 << rng.randrange(8)
        if refused(bytes(data), damaged):
            break
    else:
        raise AssertionError("no damage FFmpeg refuses: the test proves nothing")
    player = AvPlayer(320, 180)
    try:
        player.play(str(damaged))  # a file plays at its own rate: 4 s
        deadline = time.monotonic() + 20
        while player.state in ("connecting", "playing") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert player.state == "ended", (player.state, player.error)
        assert player.slot.frames >= 70  # of 100: a few lost around the damage, not the rest
    finally:
        player.close()
