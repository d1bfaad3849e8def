"""The reference backend's recorder under a crowd of asks: its cap holds when many cameras
are wanted at once (a preset switch, a burst of incidents), not only one after another."""

import asyncio
import subprocess

from tests.helpers import async_wait_for, timeout
from wallclient.demo.recorder import Recorder


def test_cameras_wanted_all_at_once_are_recorded_within_the_cap(tmp_path):
    clip = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi",
                    "-i", "testsrc2=size=320x180:rate=25:duration=2", "-c:v", "libx264",
                    "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", str(clip)],
                   check=True)  # fmt: skip

    async def clip_for(_camera: str):
        await asyncio.sleep(0.05)  # (the demo's clips may be cut first: the ask yields)
        return clip

    async def body() -> list[str]:
        rec = await Recorder(tmp_path / "rec", clip_for, tokens={}, max_cameras=3).start()
        try:
            for n in range(12):
                rec.want(f"cam-{n:02d}")
            await async_wait_for(lambda: not rec._starting or None, timeout(20), "every ask answered")
            return rec.recording()
        finally:
            await rec.stop()

    recorded = asyncio.run(body())
    assert len(recorded) == 3, recorded  # the last three asked for: the cap, not twelve
    assert recorded == ["cam-09", "cam-10", "cam-11"]
