"""The demo cameras: real H.264 over HTTP-TS and RTSP/TCP, decoded by a real ffmpeg."""

import asyncio
import time

import pytest

from tests.helpers import clip_dir, timeout
from wallclient.demo.media import MediaServer

CAM = "31011400001320000001"


async def ffmpeg(*args: str) -> tuple[int, str, float]:
    start = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        "ffmpeg",
        "-nostdin",
        "-v",
        "error",
        *args,
        "-f",
        "null",
        "-",
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout(60))
    return proc.returncode, err.decode(errors="replace"), time.monotonic() - start


@pytest.fixture
def media_run():
    def run(body):
        async def go():
            server = await MediaServer(clip_dir(), labels=lambda c: "南翔镇测试路口").start()
            try:
                await server.clip(CAM, "sub")  # made once per machine, outside the timing
                return await body(server)
            finally:
                await server.stop()

        return asyncio.run(go())

    return run


def test_http_ts_is_live_h264(media_run):
    async def body(server):
        url = f"http://127.0.0.1:{server.http_port}/live/{CAM}/sub.ts"
        code, err, took = await ffmpeg("-i", url, "-frames:v", "75")
        assert code == 0, err
        assert (
            took > 1.5
        )  # paced in real time: 75 frames at 25 fps is a live stream, not a file dump

    media_run(body)


def test_http_ts_loops_as_one_unbroken_stream(media_run):
    """The clip is looped in this process (no ffmpeg per stream): past the loop point the
    decoder sees clocks running on and counters continuing, as from one live camera."""

    async def body(server):
        url = f"http://127.0.0.1:{server.http_port}/live/{CAM}/sub.ts"
        start = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            "ffprobe", "-v", "warning", "-select_streams", "v", "-read_intervals", "%+12",
            "-show_entries", "packet=dts_time", "-of", "csv=p=0", url,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), timeout(60))
        took = time.monotonic() - start
        dts = [float(x.strip(",")) for x in out.decode().split() if x.strip(",")]
        assert len(dts) > 275 and took > 10  # 12 s of a 10-s clip, in real time
        steps = {round(b - a, 3) for a, b in zip(dts, dts[1:], strict=False)}
        assert steps == {0.04}, f"timestamps jump at the loop: {sorted(steps)}"
        assert "continuity" not in err.decode() and "non monoton" not in err.decode(), err.decode()
        assert not [p for p in server._sources.values() if p.proc is not None]  # no ffmpeg

    media_run(body)


def test_rtsp_over_tcp_plays_past_the_clip_loop_and_refuses_udp(media_run):
    async def body(server):
        url = f"rtsp://admin:Demo-2026@127.0.0.1:{server.rtsp_port}/live/{CAM}/sub"
        # 12 s of a 10 s clip: the stream keeps going through the loop point
        code, err, took = await ffmpeg("-rtsp_transport", "tcp", "-i", url, "-frames:v", "300")
        assert code == 0, err
        assert took > 10
        code, _, _ = await ffmpeg("-rtsp_transport", "udp", "-i", url, "-frames:v", "5")
        assert code != 0

    media_run(body)


def test_down_and_back(media_run):
    async def body(server):
        url = f"http://127.0.0.1:{server.http_port}/live/{CAM}/sub.ts"
        server.set_mode("down")
        server.set_mode("garbage")
        code, _, _ = await ffmpeg("-i", url, "-frames:v", "10")
        assert code != 0
        server.set_mode("normal")
        code, err, _ = await ffmpeg("-i", url, "-frames:v", "10")
        assert code == 0, err

    media_run(body)


def test_viewers_arriving_together_all_get_the_stream(media_run):
    """Several viewers of a stream not started yet (a wall node and the recorder, or two
    nodes) each get it: the ones after the first wait for its ffmpeg, as a real server
    does, instead of an empty SDP (FFmpeg: "Invalid data found when processing input")."""

    async def body(server):
        url = f"rtsp://127.0.0.1:{server.rtsp_port}/live/{CAM}/sub"
        got = await asyncio.gather(*(ffmpeg("-rtsp_transport", "tcp", "-i", url, "-frames:v", "10")
                                     for _ in range(4)))  # fmt: skip
        assert all(code == 0 for code, _, _ in got), [err for _, err, _ in got]

    media_run(body)


def test_a_viewer_through_the_platform_starts_at_the_last_key_frame(media_run):
    """ZLMediaKit's GOP cache (秒开): a viewer of a platform's path gets the stream from
    its last key frame at once — its first 150 ms of bytes already hold a whole picture —
    while the camera's own URL joins wherever the stream is."""
    import io

    import av

    async def take(server, path: str, seconds: float) -> bytes:
        r, w = await asyncio.open_connection("127.0.0.1", server.http_port)
        w.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        await r.readuntil(b"\r\n\r\n")
        got, end = b"", time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                got += await asyncio.wait_for(r.read(1 << 16), left)
            except TimeoutError:
                break
        w.close()
        return got

    def first_packet_and_frames(data: bytes) -> tuple[bool, int]:
        with av.open(io.BytesIO(data), format="mpegts") as c:
            packets = [p for p in c.demux(c.streams.video[0]) if p.size]
            frames = 0
            for p in packets:
                with __import__("contextlib").suppress(av.error.InvalidDataError):
                    frames += len(p.decode())
            return bool(packets and packets[0].is_keyframe), frames

    async def body(server):
        server.gate = lambda path, hint: (CAM, "sub", ".ts")  # every /rtp/ path: this camera
        keeper = asyncio.ensure_future(take(server, f"/live/{CAM}/sub.ts", 4.0))  # keeps it running
        await asyncio.sleep(1.3)
        results = []
        for _ in range(3):  # at different points of the GOP
            results.append(first_packet_and_frames(await take(server, "/rtp/x.live.ts", 0.15)))
            await asyncio.sleep(0.31)
        await keeper
        return results

    for keyframe_first, frames in media_run(body):
        assert keyframe_first and frames >= 1, (keyframe_first, frames)
