"""Virtual PTZ cameras (云台) for the reference backend: honest ones.

A PTZ camera's picture is a window into one wide synthetic panorama — a 360° skyline
with its compass bearings, degree marks and tilt lines drawn in — cut out at the
camera's pan, tilt and zoom, 25 times a second, and encoded live by ffmpeg (H.264,
no B-frames, zero latency). So the picture on a tile really turns and zooms as
``ptz_state`` changes. A strip along the bottom of every frame encodes the bearing
and tilt the frame was cut at (``strip_cells``/``read_strip``), so a test reads what
the camera shows from a decoded frame, not from status.

``PtzDesk`` is the backend's side of protocol.md "PTZ": continuous moves with a
dead-man timer (1 s), presets, absolute moves slewed at a real dome's speed, one
controller at a time (``ptz_locked`` for 10 s after another user's last command),
``camera.ptz`` at most 5 times a second while a camera moves and once when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wallclient import paths

log = logging.getLogger(__name__)

PX_PER_DEG = 16  # the panorama's resolution: 5760 px around
TOP_DEG, BOTTOM_DEG = 20.0, -70.0  # what it shows above and below the horizon
PANO_W = 360 * PX_PER_DEG
PANO_H = int((TOP_DEG - BOTTOM_DEG) * PX_PER_DEG)
WIDE_FOV = 60.0  # horizontal field of view at zoom 1
MAX_ZOOM = 16.0
PAN_SPEED = 90.0  # °/s at full stick
TILT_SPEED = 45.0
SLEW_SPEED = 180.0  # °/s of an absolute move (a dome's preset speed)
DEAD_MAN_S = 1.0
LOCK_S = 10.0
PUBLISH_EVERY_S = 0.2  # camera.ptz at most 5 times a second
TICK_S = 0.02
CELLS = 24  # the bearing strip: sync 1 0, pan in tenths (12 bits), tilt + 64 (7 bits), parity, 0 1
PANO_VERSION = 2


def _bits(value: int, n: int) -> list[int]:
    return [(value >> (n - 1 - i)) & 1 for i in range(n)]


def strip_cells(pan_deg: float, tilt_deg: float) -> list[int]:
    """The strip's cells (1 white, 0 black) for a frame cut at ``pan_deg``/``tilt_deg``."""
    pan = round(pan_deg % 360 * 10) % 3600
    tilt = max(0, min(127, round(tilt_deg) + 64))
    data = _bits(pan, 12) + _bits(tilt, 7)
    return [1, 0] + data + [sum(data) % 2] + [0, 1]


def read_strip(luma: Any) -> tuple[float, float] | None:
    """(pan_deg, tilt_deg) from a frame's luminance (rows × cols array), or None when
    the strip is not there or does not check (sync cells, parity)."""
    h, w = luma.shape[:2]
    strip_h = max(2, h // 16)
    row = luma[h - strip_h // 2 - 1]
    cells = [int(row[int((i + 0.5) * w / CELLS)] > 128) for i in range(CELLS)]
    if cells[:2] != [1, 0] or cells[-2:] != [0, 1] or sum(cells[2:21]) % 2 != cells[21]:
        return None
    pan = int("".join(map(str, cells[2:14])), 2) / 10
    tilt = int("".join(map(str, cells[14:21])), 2) - 64
    return pan, float(tilt)


def fov_of(zoom: float) -> float:
    return WIDE_FOV / max(1.0, zoom)


# --- the panorama -------------------------------------------------------------------------


def _scene(seed: int = 7) -> Any:
    """The panorama without its labels: sky, ground, a skyline, marks (RGBX, uint8)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    img = np.zeros((PANO_H, PANO_W, 4), np.uint8)
    horizon = int(TOP_DEG * PX_PER_DEG)
    t = np.linspace(0, 1, horizon)[:, None]
    img[:horizon, :, 0] = (18 + 40 * t).astype(np.uint8)
    img[:horizon, :, 1] = (30 + 60 * t).astype(np.uint8)
    img[:horizon, :, 2] = (70 + 90 * t).astype(np.uint8)
    g = np.linspace(0, 1, PANO_H - horizon)[:, None]
    img[horizon:, :, 0] = (52 - 30 * g).astype(np.uint8)
    img[horizon:, :, 1] = (60 - 30 * g).astype(np.uint8)
    img[horizon:, :, 2] = (48 - 26 * g).astype(np.uint8)
    # a skyline standing on the horizon, lit windows in it
    for _ in range(260):
        bw = int(rng.integers(30, 220))
        bh = int(rng.integers(20, 150))
        x = int(rng.integers(0, PANO_W - bw))
        shade = int(rng.integers(35, 95))
        img[horizon - bh : horizon, x : x + bw, :3] = (shade, shade + 4, shade + 12)
        win = rng.random((bh // 10, bw // 10)) < 0.3
        for r, c in zip(*np.nonzero(win), strict=True):
            y0, x0 = horizon - bh + 3 + r * 10, x + 3 + c * 10
            img[y0 : y0 + 4, x0 : x0 + 4, :3] = (230, 200, 90)
    # tilt lines every 10° below the horizon, and the horizon itself
    for d in range(0, int(-BOTTOM_DEG) + 1, 10):
        y = horizon + d * PX_PER_DEG
        if y < PANO_H:
            img[max(0, y - 1) : y + 2, :, :3] = (200, 200, 200) if d == 0 else (110, 120, 110)
    # bearings: a mark every degree, longer every 5°, a line across every 10°
    for deg in range(360):
        x = deg * PX_PER_DEG
        if deg % 10 == 0:
            img[:, x : x + 3, :3] = (235, 235, 235) if deg % 90 == 0 else (150, 150, 160)
        length = 60 if deg % 5 == 0 else 30
        img[horizon + 6 : horizon + 6 + length, x : x + 2, :3] = 255
    return img


def _labels() -> list[tuple[int, int, str, int]]:
    """(x, y, text, size) of the panorama's words: every 10° its bearing, large."""
    horizon = int(TOP_DEG * PX_PER_DEG)
    names = {0: "北 N", 90: "东 E", 180: "南 S", 270: "西 W"}
    out = []
    for deg in range(0, 360, 10):
        text = f"{names[deg]} {deg}°" if deg in names else f"{deg}°"
        out.append((deg * PX_PER_DEG + 10, horizon + 76, text, 56 if deg in names else 44))
    for d in range(10, int(-BOTTOM_DEG) + 1, 10):
        for deg in range(5, 360, 30):
            out.append((deg * PX_PER_DEG, horizon + d * PX_PER_DEG + 8, f"俯 {d}°", 36))
    return out


def panorama(cache_dir: Path, ffmpeg: str, font: str | None) -> Any:
    """The panorama (PANO_H × PANO_W, RGBX), drawn once and kept in ``cache_dir``.
    The words are ffmpeg's (drawtext: the machine's CJK font), the rest numpy's."""
    import numpy as np

    path = cache_dir / f"ptz-panorama-v{PANO_VERSION}.rgb0"
    size = PANO_W * PANO_H * 4
    if not (path.exists() and path.stat().st_size == size):
        if path.exists():  # not what this version draws: made again
            path.unlink(missing_ok=True)
        with paths.made_once(path) as tmp:  # every demo camera's server may ask at once
            if tmp is not None and not _draw(tmp, ffmpeg, font, size):
                return _scene()
    return np.fromfile(path, np.uint8).reshape(PANO_H, PANO_W, 4)


def _draw(out: Path, ffmpeg: str, font: str | None, size: int) -> bool:
    """The panorama with its words into ``out`` (False: ffmpeg could not draw them)."""
    scene = _scene()
    fontopt = f"fontfile={font}:" if font else ""
    chain = ",".join(
        f"drawtext={fontopt}text='{text}':fontsize={fs}:fontcolor=white:"
        f"borderw=3:bordercolor=black:x={x}:y={y}"
        for x, y, text, fs in _labels()
    )
    script = paths.temp_beside(out.with_name("ptz-panorama.filter"))
    script.write_text(chain, encoding="utf-8")
    args = [ffmpeg, "-nostdin", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb0", "-s", f"{PANO_W}x{PANO_H}", "-i", "pipe:0",
            "-filter_script:v", str(script), "-frames:v", "1",
            "-f", "rawvideo", "-pix_fmt", "rgb0", str(out)]  # fmt: skip
    try:
        done = subprocess.run(args, input=scene.tobytes(), capture_output=True, timeout=120)
    finally:
        script.unlink(missing_ok=True)
    if done.returncode != 0 or not out.exists() or out.stat().st_size != size:
        log.warning("panorama labels not drawn (%s): marks only",
                    done.stderr.decode(errors="replace")[-200:])  # fmt: skip
        out.unlink(missing_ok=True)
        return False
    return True


class View:
    """Cuts frames of one size out of the panorama (nearest neighbour: one gather)."""

    def __init__(self, pano: Any, width: int, height: int) -> None:
        import numpy as np

        self.np = np
        self.pano = pano.view(np.uint32).reshape(PANO_H, PANO_W)
        self.w, self.h = width, height
        self.u = (np.arange(width) + 0.5) / width - 0.5  # −0.5 … 0.5 across
        self.v = 0.5 - (np.arange(height) + 0.5) / height
        self.strip_h = max(2, height // 16)
        self._last: tuple[tuple[float, float, float], bytes] | None = None

    def frame(self, pan: float, tilt: float, zoom: float) -> bytes:
        """The frame at this position (a camera standing still costs one cut, not 25 a second)."""
        if self._last is not None and self._last[0] == (pan, tilt, zoom):
            return self._last[1]
        data = self._cut(pan, tilt, zoom)
        self._last = ((pan, tilt, zoom), data)
        return data

    def _cut(self, pan: float, tilt: float, zoom: float) -> bytes:
        np = self.np
        fov = fov_of(zoom)
        vfov = fov * self.h / self.w
        cols = (np.floor((pan + self.u * fov) * PX_PER_DEG).astype(np.int64)) % PANO_W
        rows = np.clip(np.floor((TOP_DEG - (tilt + self.v * vfov)) * PX_PER_DEG), 0, PANO_H - 1)
        out = self.pano[rows.astype(np.int64)[:, None], cols[None, :]]
        # the crosshair at the centre, and the bearing strip along the bottom
        cy, cx = self.h // 2, self.w // 2
        out[cy - 1 : cy + 1, cx - 20 : cx + 20] = 0xFF00FFFF
        out[cy - 20 : cy + 20, cx - 1 : cx + 1] = 0xFF00FFFF
        cells = strip_cells(pan, tilt)
        edges = [round(i * self.w / CELLS) for i in range(CELLS + 1)]
        band = out[self.h - self.strip_h :]
        for i, bit in enumerate(cells):
            band[:, edges[i] : edges[i + 1]] = 0xFFFFFFFF if bit else 0xFF000000
        return bytes(out.tobytes())


# --- the moving cameras ---------------------------------------------------------------------


@dataclass
class Dome:
    """One PTZ camera's mechanics."""

    pan: float
    tilt: float
    zoom: float
    speed: tuple[float, float, float] = (0.0, 0.0, 0.0)  # continuous move, −1…1 each
    target: tuple[float, float, float] | None = None  # an absolute move under way
    moved_at: float = 0.0  # the last ptz.move (the dead-man timer)
    holder: str | None = None
    held_at: float = -1e9
    published_at: float = 0.0
    by: str = ""
    presets: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    stopped_at: float | None = None  # epoch of the last ptz.stop (tests time the dead-man by it)

    @property
    def moving(self) -> bool:
        return self.target is not None or any(self.speed)

    def state(self) -> dict[str, float]:
        return {"pan_deg": round(self.pan % 360, 2), "tilt_deg": round(self.tilt, 2),
                "zoom": round(self.zoom, 3), "fov_deg": round(fov_of(self.zoom), 3)}  # fmt: skip


def _unit(v: float) -> float:
    return max(-1.0, min(1.0, float(v)))


class PtzError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class PtzDesk:
    """The backend's PTZ: commands in, camera positions out (``publish(type, data)``)."""

    def __init__(self, cameras: dict[str, Any], publish: Callable[[str, Any], int]) -> None:
        self.publish = publish
        self.domes: dict[str, Dome] = {}
        for cam_id, cam in cameras.items():
            if cam.get("ptz") and isinstance(cam.get("ptz_state"), dict):
                s = cam["ptz_state"]
                dome = Dome(float(s["pan_deg"]), float(s["tilt_deg"]), float(s["zoom"]))
                for k, p in enumerate(cam.get("ptz_presets") or []):  # where each one looks
                    dome.presets[p["id"]] = ((dome.pan + 90 * k) % 360, -8.0 - 4 * k, 1.0 + k)
                self.domes[cam_id] = dome
        self.cameras = cameras
        self._task: asyncio.Task[None] | None = None

    def motion(self) -> dict[str, Any]:
        """Each dome's speeds, holder and last stop (the admin command ``ptz``)."""
        return {cam: {"speed": list(d.speed), "moving": d.moving, "holder": d.holder,
                      "stopped_at": d.stopped_at} for cam, d in self.domes.items()}  # fmt: skip

    def view(self, cam: str) -> tuple[float, float, float] | None:
        """Where a camera looks now (the media pipeline's question), None if not PTZ."""
        d = self.domes.get(cam)
        return None if d is None else (d.pan, d.tilt, d.zoom)

    def _take(self, cam: str, user: str, now: float) -> Dome:
        if cam not in self.cameras:
            raise PtzError("unknown_camera", f"no camera {cam}")
        d = self.domes.get(cam)
        if d is None:
            raise PtzError("not_ptz", f"camera {cam} has no PTZ")
        if d.holder not in (None, user) and now - d.held_at < LOCK_S:
            raise PtzError("ptz_locked", f"{d.holder}")
        d.holder, d.held_at, d.by = user, now, user
        return d

    def move(self, cam: str, user: str, pan: float, tilt: float, zoom: float) -> None:
        now = time.monotonic()
        d = self._take(cam, user, now)
        d.speed, d.target, d.moved_at = (_unit(pan), _unit(tilt), _unit(zoom)), None, now

    def stop(self, cam: str, user: str) -> None:
        d = self._take(cam, user, time.monotonic())
        d.speed, d.target = (0.0, 0.0, 0.0), None
        d.stopped_at = time.time()
        self._publish(cam, d, time.monotonic())

    def goto(self, cam: str, user: str, preset: str) -> None:
        d = self._take(cam, user, time.monotonic())
        if preset not in d.presets:
            raise PtzError("bad_request", f"camera {cam} has no PTZ preset {preset}")
        d.speed, d.target = (0.0, 0.0, 0.0), d.presets[preset]

    def absolute(
        self, cam: str, user: str, pan: float, tilt: float | None, zoom: float | None
    ) -> None:
        d = self._take(cam, user, time.monotonic())
        d.speed = (0.0, 0.0, 0.0)
        d.target = (float(pan) % 360, d.tilt if tilt is None else max(-90.0, min(10.0, float(tilt))),
                    d.zoom if zoom is None else max(1.0, min(MAX_ZOOM, float(zoom))))  # fmt: skip

    def step(self, now: float, dt: float) -> None:
        for cam, d in self.domes.items():
            if not d.moving:
                continue
            if d.target is None:
                if now - d.moved_at > DEAD_MAN_S:  # the client stopped repeating: stop
                    d.speed = (0.0, 0.0, 0.0)
                    self._publish(cam, d, now)
                    continue
                sp, st, sz = d.speed
                d.pan = (d.pan + sp * PAN_SPEED / d.zoom * dt) % 360
                d.tilt = max(-90.0, min(10.0, d.tilt + st * TILT_SPEED / d.zoom * dt))
                d.zoom = max(1.0, min(MAX_ZOOM, d.zoom * 2 ** (sz * dt)))
            else:
                tp, tt, tz = d.target
                dp = (tp - d.pan + 180) % 360 - 180
                step = SLEW_SPEED * dt
                d.pan = (d.pan + max(-step, min(step, dp))) % 360
                d.tilt += max(-step / 2, min(step / 2, tt - d.tilt))
                d.zoom *= max(0.25**dt, min(4**dt, tz / d.zoom))
                if abs(dp) <= step and abs(tt - d.tilt) < 1e-6 and abs(tz - d.zoom) < 1e-3:
                    d.pan, d.tilt, d.zoom, d.target = tp, tt, tz, None
                    self._publish(cam, d, now)
                    continue
            if now - d.published_at >= PUBLISH_EVERY_S:
                self._publish(cam, d, now)

    def _publish(self, cam: str, d: Dome, now: float) -> None:
        d.published_at = now
        self.cameras[cam]["ptz_state"] = d.state()  # what a snapshot says from now on
        self.publish("camera.ptz", {"id": cam, **d.state(), "by": d.by})

    async def run(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            self.step(now, now - last)
            last = now


# --- the live picture ------------------------------------------------------------------------


class Feeder:
    """Writes one PTZ camera's frames, 25 a second, into an encoder's stdin (a pipe of
    our own: a thread writes it, blocking, while the event loop reads the encoder)."""

    def __init__(
        self, view: View, where: Callable[[], tuple[float, float, float] | None], fps: int
    ) -> None:
        self.view, self.where, self.fps = view, where, fps
        self.read_fd, self.write_fd = os.pipe()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ptz-feeder", daemon=True)

    def start(self) -> None:
        """Begin writing (the writes wait until an encoder reads: start it before the
        encoder, which may want frames before it says it is ready)."""
        self._thread.start()

    def spawned(self) -> None:
        """The encoder has its own copy of the pipe's read end (or failed): ours goes, so
        the feeder sees the pipe break when the encoder ends."""
        fd, self.read_fd = self.read_fd, -1  # once only: a second close could hit a reused number
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)

    def _run(self) -> None:
        period = 1.0 / self.fps
        due = time.monotonic()
        with contextlib.suppress(OSError), os.fdopen(self.write_fd, "wb", buffering=0) as out:
            while not self._stop.is_set():
                at = self.where()
                if at is None:
                    break
                out.write(self.view.frame(*at))
                due += period
                delay = due - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
                elif delay < -1.0:
                    due = time.monotonic()  # far behind (a stall): do not race to catch up

    def stop(self) -> None:
        self._stop.set()


def encoder_input(width: int, height: int, fps: int) -> list[str]:
    """ffmpeg's input options for a feeder's raw frames, and the live encode (a clock in
    the picture: the demo's cameras show absolute time)."""
    return ["-f", "rawvideo", "-pix_fmt", "rgb0", "-s", f"{width}x{height}", "-r", str(fps),
            "-i", "pipe:0"]  # fmt: skip


def encoder_output(fps: int, bitrate_k: int, font: str | None, height: int) -> list[str]:
    fontopt = f"fontfile={font}:" if font else ""
    size = max(14, height // 18)
    clock = (f"drawtext={fontopt}text='%{{localtime\\:%F %T}}':"
             f"fontsize={size}:fontcolor=yellow:box=1:boxcolor=black@0.6:x=w-tw-16:y=16")  # fmt: skip
    return ["-vf", clock, "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
            "-b:v", f"{bitrate_k}k", "-maxrate", f"{bitrate_k}k", "-bufsize", f"{bitrate_k}k",
            "-g", str(fps), "-keyint_min", str(fps), "-sc_threshold", "0", "-bf", "0",
            "-x264-params", "repeat-headers=1", "-pix_fmt", "yuv420p", "-an"]  # fmt: skip
