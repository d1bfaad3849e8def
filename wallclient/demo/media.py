"""The demo's cameras: real H.264 served live over HTTP (MPEG-TS) and RTSP (over TCP).

Each camera's clip is made once by ffmpeg (test pattern, the camera's name and a
running clock burned in, H.264 with a 1 s GOP; ``sub`` 640×360, ``main``
1280×720) and then played in a loop, in real time, for every stream that is being
watched — no re-encoding.

- HTTP-TS: ``GET /live/<camera>/<sub|main>.ts`` — the clip, remuxed to MPEG-TS once,
  looped by this process (``wallclient.demo.tsloop``: a start costs no process), and
  every viewer of that stream gets the same bytes.
- RTSP: ``rtsp://host:port/live/<camera>/<sub|main>`` — ffmpeg packetises RTP
  (its ``rtp`` muxer) to a loopback UDP port; this server speaks RTSP 1.0 and
  relays the packets interleaved on the RTSP TCP connection (RFC 2326 §10.12).
  Only TCP transport is offered (``461`` for UDP): wall PCs sit behind NAT and
  firewalls, where RTSP over TCP is what works.

Faults for tests: ``set_mode("hang")`` accepts and never answers, ``"garbage"``
answers with noise, ``"normal"`` serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wallclient import paths
from wallclient.demo.tsloop import TsLoop, ensure_ts

log = logging.getLogger(__name__)

PROFILES = {"sub": (640, 360), "main": (1280, 720), "cif": (352, 288)}
BITRATE_K = {"sub": 800, "main": 2500, "cif": 400}  # about what real cameras send
CLIP_SECONDS = 10
FPS = 25
FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
]
LINGER_S = 5.0  # keep a source running this long after its last viewer leaves
HLS_IDLE_S = 15.0  # an HLS stream nobody polled for this long is stopped
# The URL forms a GB/T 28181 platform (ZLMediaKit behind WVP) hands out, by the path's
# tail after /live/<camera>/<sub|main|cif>: docs/video.md, "URL forms".
HTTP_FORMS = {
    ".ts": "ts",  # HTTP-TS, shared (joins mid-GOP)
    ".live.flv": "flv",  # HTTP-FLV, H.264 only
    "-aac.live.flv": "flv-aac",  # HTTP-FLV, H.264 + AAC
    "-silent.live.flv": "flv-silent",  # HTTP-FLV announcing an audio track that never comes
    ".live.mp4": "fmp4",  # fragmented MP4 over HTTP
}


def _prctl() -> Any:
    """libc's prctl, looked up once, here, in the parent (see _die_with_parent)."""
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl() if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, be killed when the server dies, even by
    SIGKILL (no feeder is left streaming with nobody to stop it). Nothing is imported or
    looked up here: the child of a process with threads (the PTZ feeders) inherits their
    locks as they were at the fork — an import here once waited forever for the import
    lock a feeder thread held."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


CHILD: dict[str, Any] = {"preexec_fn": _die_with_parent} if sys.platform.startswith("linux") else {}


def ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        raise RuntimeError("ffmpeg is not installed (make demo installs it)")
    return path


def _font() -> str | None:
    return next((f for f in FONT_CANDIDATES if os.path.exists(f)), None)


async def make_clip(out: Path, label: str, profile: str) -> Path:
    """Encode one camera's clip (once; later calls find it on disk)."""
    if out.exists():
        return out
    w, h = PROFILES[profile]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = paths.temp_beside(out)  # servers of two tests may make one clip at once
    font = _font()
    size = max(16, h // 14)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as tf:
        tf.write(label)
        label_file = tf.name
    fontopt = f"fontfile={font}:" if font else ""
    vf = (
        f"drawtext={fontopt}textfile={label_file}:fontsize={size}:fontcolor=white:"
        f"box=1:boxcolor=black@0.6:x=20:y=20,"
        f"drawtext={fontopt}text='%{{pts\\:hms}}':fontsize={size}:fontcolor=yellow:"
        f"box=1:boxcolor=black@0.6:x=20:y=h-th-20"
    )
    args = [
        ffmpeg(), "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={w}x{h}:rate={FPS}:duration={CLIP_SECONDS}",
        "-vf", vf, "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
        "-b:v", f"{BITRATE_K[profile]}k", "-maxrate", f"{BITRATE_K[profile]}k",
        "-bufsize", f"{BITRATE_K[profile]}k", "-g", str(FPS), "-keyint_min", str(FPS), "-sc_threshold", "0", "-bf", "0",
        "-x264-params", "repeat-headers=1", "-pix_fmt", "yuv420p", "-an", "-movflags", "+faststart", str(tmp),
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(*args, stderr=asyncio.subprocess.PIPE, **CHILD)
    _, err = await proc.communicate()
    os.unlink(label_file)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(
            f"ffmpeg could not make {out.name}: {err.decode(errors='replace')[-300:]}"
        )
    tmp.replace(out)
    return out


class _GopCache:
    """What ZLMediaKit keeps of a stream for its next viewer (its GOP cache, 秒开): the
    stream's tables (PAT, PMT) and every MPEG-TS packet since the last key frame, so a
    viewer that comes through the platform decodes its first bytes at once instead of
    waiting up to a GOP for the next key frame."""

    LIMIT = 4 << 20  # a GOP longer than this is not kept whole

    def __init__(self) -> None:
        self.carry = b""  # the start of a packet split across reads (already fanned out)
        self.tables: dict[int, bytes] = {}
        self.pmt: set[int] = set()
        self.gop = bytearray()

    def feed(self, data: bytes) -> None:
        buf = self.carry + data
        n = len(buf) - len(buf) % 188
        self.carry = buf[n:]
        cut = None
        for i in range(0, n, 188):
            if buf[i] != 0x47 or not buf[i + 1] & 0x40:  # only a payload's first packet
                continue
            pid = ((buf[i + 1] & 0x1F) << 8) | buf[i + 2]
            if pid == 0 or pid in self.pmt:
                self.tables[pid] = buf[i : i + 188]
                if pid == 0:
                    self._pat(buf[i : i + 188])
            elif buf[i + 3] & 0x20 and buf[i + 4] and buf[i + 5] & 0x40:  # random access
                cut = i
        if cut is not None:
            self.gop = bytearray(buf[cut:n])
        elif len(self.gop) < self.LIMIT:
            self.gop += buf[:n]

    def _pat(self, pkt: bytes) -> None:
        at = 4 + (1 + pkt[4] if pkt[3] & 0x20 else 0)
        sec = pkt[at + 1 + pkt[at] :]
        if len(sec) < 12:
            return
        end = min(len(sec), 3 + (((sec[1] & 0x0F) << 8) | sec[2]) - 4)
        for j in range(8, end - 3, 4):
            if (sec[j] << 8) | sec[j + 1]:  # program 0 is the network's, not a PMT
                self.pmt.add(((sec[j + 2] & 0x1F) << 8) | sec[j + 3])

    def head(self) -> bytes:
        """A new viewer's first bytes: the tables, the GOP so far, the split packet's start."""
        if not self.gop:
            return b""
        return b"".join(self.tables.values()) + bytes(self.gop) + self.carry


@dataclass
class _Source:
    """One running ffmpeg fanning one stream out to its viewers."""

    proc: asyncio.subprocess.Process | None = None
    viewers: set[asyncio.Queue[bytes | None]] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    stopper: asyncio.TimerHandle | None = None
    sdp: str | None = None
    transport: asyncio.DatagramTransport | None = None
    dir: Path | None = None  # HLS: where its playlist and segments are written
    feeder: Any = None  # a PTZ camera's frame writer (wallclient.demo.ptz.Feeder)
    gop: _GopCache = field(default_factory=_GopCache)  # MPEG-TS sources: for platform viewers
    pinned: bool = False  # held up by the platform (a started WVP stream), viewers or not
    # set once its ffmpeg is started (or failed to): a second viewer asking meanwhile
    # waits for it, as a real server does, instead of an empty SDP
    started: asyncio.Event = field(default_factory=asyncio.Event)
    failed: bool = False


class _RtpSink(asyncio.DatagramProtocol):
    def __init__(self, deliver: Callable[[bytes], None]) -> None:
        self.deliver = deliver

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.deliver(data)


class MediaServer:
    """Real local cameras: HTTP-TS and RTSP/TCP on loopback."""

    def __init__(
        self,
        clip_dir: Path,
        labels: Callable[[str], str] | None = None,
        host: str = "127.0.0.1",
        http_port: int = 0,
        rtsp_port: int = 0,
    ) -> None:
        self.clip_dir = clip_dir
        self.labels = labels or (lambda cam: cam)
        self.host = host
        self.http_port = http_port
        self.rtsp_port = rtsp_port
        self.mode = "normal"
        self._sources: dict[tuple[str, str, str], _Source] = {}
        self._servers: list[asyncio.base_events.Server] = []
        self._clip_locks: dict[Path, asyncio.Lock] = {}
        self._conns: set[asyncio.StreamWriter] = set()
        self._own: dict[tuple[str, str, str], set[asyncio.StreamWriter]] = {}
        self.on_view: Callable[[str], None] | None = None  # a camera was asked for (recording)
        self.ptz: Any = None  # wallclient.demo.ptz.PtzDesk: its cameras are live panoramas
        self._pano: Any = None
        # a video platform's paths (/rtp/…, /openUrl/…): (path, "http"|"rtsp") →
        # (camera, profile, suffix) or the status refusing it (wallclient.demo.platform)
        self.gate: Callable[[str, str], tuple[str, str, str] | int] | None = None

    # --- life ---------------------------------------------------------------------------

    async def start(self) -> MediaServer:
        http = await asyncio.start_server(self._http, self.host, self.http_port)
        rtsp = await asyncio.start_server(self._rtsp, self.host, self.rtsp_port)
        self._servers = [http, rtsp]
        self.http_port = http.sockets[0].getsockname()[1]
        self.rtsp_port = rtsp.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        for s in self._servers:
            s.close()
        for w in list(self._conns):
            w.transport.abort()
        for key in list(self._sources):
            await self._stop_source(key)
        for s in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(s.wait_closed(), 2)
        self._servers = []

    def set_mode(self, mode: str) -> None:
        """``normal`` | ``hang`` | ``garbage`` | ``down`` (drop every viewer, refuse new ones)."""
        self.mode = mode
        if mode == "down":
            for w in list(self._conns):
                w.transport.abort()

    async def clip(self, cam: str, profile: str) -> Path:
        path = self.clip_dir / f"{cam}-{profile}.mp4"
        lock = self._clip_locks.setdefault(path, asyncio.Lock())
        async with lock:
            label = f"{self.labels(cam)}  {cam[-6:]}  {profile} {PROFILES[profile][0]}x{PROFILES[profile][1]}"
            return await make_clip(path, label, profile)

    def viewers(self) -> dict[str, int]:
        """How many viewers each camera has right now (all its streams and kinds)."""
        out: dict[str, int] = {}
        for (_kind, cam, _profile), src in self._sources.items():
            out[cam] = out.get(cam, 0) + len(src.viewers)
        for (_kind, cam, _profile), writers in self._own.items():
            if writers:
                out[cam] = out.get(cam, 0) + len(writers)
        return {cam: n for cam, n in out.items() if n}

    async def pin(self, cam: str, profile: str, wait_s: float = 3.0) -> None:
        """A platform's stream up before anyone watches it — WVP's ``play/start`` returns
        once the device's video flows into ZLMediaKit: its HTTP-TS source runs, and this
        returns once its first key frame is in the GOP cache (or after ``wait_s``). It runs
        until the platform closes it (``drop``); it counts as nobody's viewer."""
        key = ("http", cam, profile)
        src, q = await self._subscribe(*key)
        src.pinned = True
        self._unsubscribe(key, q)
        deadline = asyncio.get_running_loop().time() + wait_s
        while not src.gop.gop and asyncio.get_running_loop().time() < deadline and key in self._sources:
            await asyncio.sleep(0.01)

    # --- sources --------------------------------------------------------------------------

    async def _subscribe(
        self, kind: str, cam: str, profile: str
    ) -> tuple[_Source, asyncio.Queue[bytes | None]]:
        key = (kind, cam, profile)
        if self.on_view is not None:
            self.on_view(cam)
        src = self._sources.get(key)
        if src is None:
            src = _Source()
            self._sources[key] = src
            try:
                if self.ptz is not None and self.ptz.view(cam) is not None:
                    await self._start_ptz(key, src)
                else:
                    await self._start_source(key, src, await self.clip(cam, profile))
            except Exception:
                self._sources.pop(key, None)
                src.failed = True
                raise
            finally:
                src.started.set()
        else:
            await src.started.wait()
            if src.failed:
                raise RuntimeError(f"{cam}: the stream could not start")
        if src.stopper is not None:
            src.stopper.cancel()
            src.stopper = None
        q: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=2000)
        src.viewers.add(q)
        return src, q

    def _unsubscribe(self, key: tuple[str, str, str], q: asyncio.Queue[bytes | None]) -> None:
        src = self._sources.get(key)
        if src is None:
            return
        src.viewers.discard(q)
        if not src.viewers and src.stopper is None and not src.pinned:
            loop = asyncio.get_running_loop()
            src.stopper = loop.call_later(
                LINGER_S, lambda: asyncio.ensure_future(self._stop_source(key))
            )

    @staticmethod
    def _fan_out(src: _Source, data: bytes) -> None:
        for q in list(src.viewers):
            if q.full():  # a viewer that cannot keep up loses its stream, not everyone's
                src.viewers.discard(q)
                q.put_nowait(None) if not q.full() else None
                continue
            q.put_nowait(data)

    async def _start_source(self, key: tuple[str, str, str], src: _Source, clip: Path) -> None:
        if key[0] == "http":  # looped here, no process: a start costs no ffmpeg
            ts = await ensure_ts(clip, ffmpeg(), **CHILD)
            looped = await asyncio.to_thread(lambda: TsLoop(ts.read_bytes()))
            src.task = asyncio.create_task(self._pump_loop(src, looped))
            return
        base = [ffmpeg(), "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(clip),
                "-c", "copy", "-an"]  # fmt: skip
        await self._start_rtp(src, base)

    async def _start_rtp(
        self, src: _Source, base: list[str], stdin: int | None = None,
        spawned: Callable[[], None] = lambda: None,
    ) -> None:
        """ffmpeg packetises RTP to a loopback port of ours; the SDP it writes is served."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _RtpSink(lambda d: self._fan_out(src, d)), local_addr=("127.0.0.1", 0)
        )
        sock = transport.get_extra_info("socket")
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        src.transport = transport
        port = sock.getsockname()[1]
        sdp_path = Path(tempfile.mkdtemp(prefix="wallclient-sdp-")) / "s.sdp"
        src.proc = await asyncio.create_subprocess_exec(
            *base, "-f", "rtp", "-payload_type", "96",
            "-sdp_file", str(sdp_path), f"rtp://127.0.0.1:{port}?pkt_size=1200",
            stdin=stdin, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, **CHILD,
        )  # fmt: skip
        spawned()
        for _ in range(500):  # up to 10 s: an ffmpeg among sixteen starting on two cores
            if sdp_path.exists() and sdp_path.stat().st_size > 0:
                break
            await asyncio.sleep(0.02)
        sdp = sdp_path.read_text() if sdp_path.exists() else ""
        shutil.rmtree(sdp_path.parent, ignore_errors=True)
        if "m=video" not in sdp:
            raise RuntimeError("ffmpeg wrote no SDP")
        sdp = re.sub(r"m=video \d+", "m=video 0", sdp)
        sdp = re.sub(r"c=IN IP4 [\d.]+", "c=IN IP4 0.0.0.0", sdp)
        src.sdp = sdp.strip() + "\r\na=control:trackID=0\r\n"

    async def _start_ptz(self, key: tuple[str, str, str], src: _Source) -> None:
        """A PTZ camera: its window into the panorama, cut and encoded live
        (wallclient.demo.ptz); served like every other stream."""
        from wallclient.demo import ptz

        kind, cam, profile = key
        w, h = PROFILES[profile]
        if self._pano is None:
            self._pano = await asyncio.to_thread(ptz.panorama, self.clip_dir, ffmpeg(), _font())
        feeder = ptz.Feeder(ptz.View(self._pano, w, h), lambda: self.ptz.view(cam), FPS)
        args = [ffmpeg(), "-nostdin", "-loglevel", "error", *ptz.encoder_input(w, h, FPS),
                *ptz.encoder_output(FPS, BITRATE_K[profile], _font(), h)]  # fmt: skip
        src.feeder = feeder
        feeder.start()
        try:
            if kind == "http":
                src.proc = await asyncio.create_subprocess_exec(
                    *args, "-flush_packets", "1", "-f", "mpegts", "-muxdelay", "0", "pipe:1",
                    stdin=feeder.read_fd, stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.DEVNULL, **CHILD,
                )  # fmt: skip
                feeder.spawned()
                src.task = asyncio.create_task(self._pump_pipe(src))
            else:
                # the parameter sets in the SDP too (a live encode has them in-band only)
                await self._start_rtp(src, [*args, "-flags", "+global_header"],
                                      stdin=feeder.read_fd, spawned=feeder.spawned)  # fmt: skip
        finally:
            feeder.spawned()

    async def _pump_loop(self, src: _Source, looped: TsLoop) -> None:
        """The clip's packets to every viewer as they fall due (``-re``): late ones at once."""
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for when, data in looped.chunks():
            wait = t0 + when - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if self.gate is not None:  # only a platform's viewers are served from it
                src.gop.feed(data)
            self._fan_out(src, data)

    async def _pump_pipe(self, src: _Source) -> None:
        assert src.proc is not None and src.proc.stdout is not None
        while True:
            data = await src.proc.stdout.read(188 * 64)
            if not data:
                break
            if self.gate is not None:  # only a platform's viewers are served from it
                src.gop.feed(data)
            self._fan_out(src, data)
        for q in list(src.viewers):
            with contextlib.suppress(asyncio.QueueFull):
                q.put_nowait(None)

    async def _stop_source(self, key: tuple[str, str, str]) -> None:
        src = self._sources.pop(key, None)
        if src is None:
            return
        if src.stopper is not None:
            src.stopper.cancel()
        if src.transport is not None:
            src.transport.close()
        if src.feeder is not None:
            src.feeder.stop()
        if src.proc is not None and src.proc.returncode is None:
            src.proc.kill()
            await src.proc.wait()
        if src.task is not None:
            src.task.cancel()
        if src.dir is not None:
            shutil.rmtree(src.dir, ignore_errors=True)
        for q in src.viewers:
            with contextlib.suppress(asyncio.QueueFull):
                q.put_nowait(None)

    # --- HTTP-TS ----------------------------------------------------------------------------

    async def _fault(self, writer: asyncio.StreamWriter) -> bool:
        """Serve a fault mode; True when the connection was handled by it."""
        if self.mode == "normal":
            return False
        if self.mode == "hang":
            with contextlib.suppress(Exception):
                await asyncio.sleep(3600)
        elif self.mode == "garbage":
            with contextlib.suppress(Exception):
                for _ in range(200):
                    writer.write(os.urandom(4096))
                    await writer.drain()
                    await asyncio.sleep(0.05)
        writer.transport.abort()
        return True

    async def _http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._conns.add(writer)
        try:
            if await self._fault(writer):
                return
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            asked = head.split(b"\r\n", 1)[0].decode("latin-1")
            line = self._through_gate(asked)
            if line.startswith("HTTP/"):  # the platform refused it
                writer.write(line.encode() + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
                return
            m = re.match(r"GET /live/(\w+)/(sub|main|cif)(\S*?)(?:\?\S*)? HTTP/1\.[01]$", line)
            form = HTTP_FORMS.get(m.group(3)) if m else None
            if m and form is None and m.group(3).startswith("/hls/"):
                form = "hls"
            if m is None or form is None:
                await self._not_found(writer)
                return
            cam, profile = m.group(1), m.group(2)
            if form == "ts":  # through the platform: from its GOP cache, as ZLMediaKit serves
                await self._serve_ts(writer, cam, profile, gop=line != asked)
            elif form == "hls":
                await self._serve_hls(writer, cam, profile, m.group(3).rsplit("/", 1)[1])
            else:
                await self._serve_own(writer, cam, profile, form)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, RuntimeError) as exc:
            log.debug("http viewer gone: %s", exc)
        finally:
            self._conns.discard(writer)
            writer.transport.abort()

    def _through_gate(self, line: str) -> str:
        """A request for a platform's path, as the request for its camera's own stream it
        stands for — or the status line refusing it."""
        m = re.match(r"GET (/(?:rtp|openUrl)/\S+?)(?:\?\S*)? HTTP/1\.[01]$", line)
        if m is None or self.gate is None:
            return line
        got = self.gate(m.group(1), "http")
        if isinstance(got, int):
            return f"HTTP/1.1 {got} {'Forbidden' if got == 403 else 'Not Found'}"
        cam, profile, suffix = got
        return f"GET /live/{cam}/{profile}{suffix} HTTP/1.1"

    def drop(self, cam: str, profile: str) -> None:
        """The platform closed this stream: every viewer of it, whatever its kind, cut."""
        for key in [k for k in self._sources if k[1] == cam and k[2] == profile]:
            asyncio.ensure_future(self._stop_source(key))
        for key, writers in self._own.items():
            if key[1] == cam and key[2] == profile:
                for w in list(writers):
                    w.transport.abort()

    @staticmethod
    async def _not_found(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()

    async def _serve_ts(self, writer: asyncio.StreamWriter, cam: str, profile: str,
                        gop: bool = False) -> None:  # fmt: skip
        """One shared MPEG-TS per stream: a viewer joins wherever the stream is (its first
        packet is seldom a key frame, as with a real camera) — or, ``gop``, from the last
        key frame (a platform's media server)."""
        key = ("http", cam, profile)
        src, q = await self._subscribe(*key)
        try:
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: video/mp2t\r\nCache-Control: no-cache\r\n"
                b"Connection: close\r\n\r\n" + (src.gop.head() if gop else b"")
            )
            while True:
                data = await q.get()
                if data is None:
                    break
                writer.write(data)
                await writer.drain()
        finally:
            self._unsubscribe(key, q)

    async def _serve_own(
        self, writer: asyncio.StreamWriter, cam: str, profile: str, form: str
    ) -> None:
        """HTTP-FLV and fMP4: one ffmpeg per viewer (a viewer needs the stream's header
        first, as a real server keeps it for joiners), no video re-encoding."""
        clip = await self.clip(cam, profile)
        args = [
            ffmpeg(),
            "-nostdin",
            "-loglevel",
            "error",
            "-re",
            "-stream_loop",
            "-1",
            "-i",
            str(clip),
        ]
        if form == "flv-aac":  # a real camera's AAC track beside the H.264
            args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000",
                     "-map", "0:v", "-map", "1:a", "-c:a", "aac", "-b:a", "24k"]  # fmt: skip
        else:
            args += ["-an"]
        args += ["-c:v", "copy", "-flush_packets", "1"]
        if form == "fmp4":
            args += ["-f", "mp4", "-movflags", "frag_keyframe+empty_moov+default_base_moof",
                     "-frag_duration", "200000", "pipe:1"]  # fmt: skip
            ctype = b"video/mp4"
        else:
            args += ["-f", "flv", "pipe:1"]
            ctype = b"video/x-flv"
        proc = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, **CHILD
        )
        key = ("own", cam, profile)
        self._own.setdefault(key, set()).add(writer)
        try:
            assert proc.stdout is not None
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype +
                         b"\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n")  # fmt: skip
            first = True
            while True:
                data = await proc.stdout.read(65536)
                if not data:
                    break
                if first and form == "flv-silent" and data[:3] == b"FLV":
                    # The header announces an audio track that never comes (flags: audio +
                    # video): what cameras with audio switched off often send.
                    data = data[:4] + bytes([data[4] | 0x04]) + data[5:]
                first = False
                writer.write(data)
                await writer.drain()
        finally:
            self._own[key].discard(writer)
            if proc.returncode is None:
                proc.kill()
            await proc.wait()

    async def _serve_hls(
        self, writer: asyncio.StreamWriter, cam: str, profile: str, name: str
    ) -> None:
        """HLS as a real server writes it: 1 s segments kept while anyone polls the playlist."""
        key = ("hls", cam, profile)
        src = self._sources.get(key)
        if src is None:
            src = _Source()
            self._sources[key] = src
            src.dir = Path(tempfile.mkdtemp(prefix="wallclient-hls-"))
            clip = await self.clip(cam, profile)
            src.proc = await asyncio.create_subprocess_exec(
                ffmpeg(), "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(clip),
                "-c", "copy", "-an", "-f", "hls", "-hls_time", "1", "-hls_list_size", "4",
                "-hls_flags", "delete_segments+omit_endlist+independent_segments",
                "-hls_segment_filename", str(src.dir / "s%06d.ts"), str(src.dir / "index.m3u8"),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, **CHILD,
            )  # fmt: skip
        if src.stopper is not None:
            src.stopper.cancel()
        src.stopper = asyncio.get_running_loop().call_later(
            HLS_IDLE_S, lambda: asyncio.ensure_future(self._stop_source(key))
        )
        assert src.dir is not None
        path = src.dir / ("index.m3u8" if name.endswith(".m3u8") else os.path.basename(name))
        for _ in range(250):  # a new stream: its first segment is on disk within ~1 s
            if path.exists() and path.stat().st_size > 0:
                break
            await asyncio.sleep(0.02)
        try:
            body = path.read_bytes()
        except OSError:
            await self._not_found(writer)
            return
        ctype = b"application/vnd.apple.mpegurl" if name.endswith(".m3u8") else b"video/mp2t"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype + b"\r\nContent-Length: " +
                     str(len(body)).encode() + b"\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n" + body)  # fmt: skip
        await writer.drain()

    # --- RTSP over TCP -------------------------------------------------------------------------

    async def _rtsp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._conns.add(writer)
        key: tuple[str, str, str] | None = None
        q: asyncio.Queue[bytes | None] | None = None
        session = os.urandom(6).hex()
        relay: asyncio.Task[None] | None = None
        gated: tuple[str, str] | int | None = None  # a platform URL's camera, or its refusal
        try:
            if await self._fault(writer):
                return
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if head.startswith(b"$"):  # interleaved RTCP from the client: skip it
                    continue
                lines = head.decode("latin-1").split("\r\n")
                method, url, _ = (lines[0].split(" ") + ["", ""])[:3]
                headers = {}
                for ln in lines[1:]:
                    if ":" in ln:
                        k, v = ln.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                if int(headers.get("content-length", "0")):
                    await reader.readexactly(int(headers["content-length"]))
                cseq = headers.get("cseq", "0")
                if gated is None and method == "DESCRIBE" and self.gate is not None:
                    pm = re.match(r"rtsp://[^/]+(/(?:rtp|openUrl)/[^/?]+)", url)
                    if pm is not None:  # a platform's URL: asked once per connection
                        got = self.gate(pm.group(1), "rtsp")
                        gated = got if isinstance(got, int) else got[:2]
                if gated is not None:
                    if isinstance(gated, int):
                        m = None
                    else:
                        m = re.match(r"/live/(\w+)/(sub|main|cif)", f"/live/{gated[0]}/{gated[1]}")
                else:
                    m = re.match(r"rtsp://[^/]+/live/(\w+)/(sub|main|cif)(?:/trackID=\d+)?/?$", url)

                def reply(status: str, extra: str = "", body: str = "", cseq: str = cseq) -> None:
                    text = (
                        f"RTSP/1.0 {status}\r\nCSeq: {cseq}\r\nServer: wallclient-demo\r\n{extra}"
                    )
                    if body:
                        text += f"Content-Length: {len(body.encode())}\r\n"
                    writer.write((text + "\r\n" + body).encode())

                if method == "OPTIONS":
                    reply(
                        "200 OK",
                        "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER\r\n",
                    )
                elif method in ("GET_PARAMETER", "SET_PARAMETER"):
                    reply("200 OK", f"Session: {session}\r\n")
                elif m is None:
                    reply("403 Forbidden" if gated == 403 else "404 Not Found")
                elif method == "DESCRIBE":
                    key = ("rtsp", m.group(1), m.group(2))
                    if q is None:
                        try:
                            src, q = await self._subscribe(*key)
                        except Exception as exc:  # the stream could not start: said, not hung up
                            log.info("rtsp %s: %s", url, exc)
                            key = None
                            reply("503 Service Unavailable")
                            await writer.drain()
                            continue
                    src = self._sources[key]
                    base = url.rstrip("/") + "/"
                    reply(
                        "200 OK",
                        f"Content-Type: application/sdp\r\nContent-Base: {base}\r\n",
                        src.sdp or "",
                    )
                elif method == "SETUP":
                    transport = headers.get("transport", "")
                    if "TCP" not in transport.upper():
                        reply("461 Unsupported Transport")
                    else:
                        reply(
                            "200 OK",
                            f"Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: {session};timeout=60\r\n",
                        )
                elif method == "PLAY":
                    if q is None or key is None:
                        reply("455 Method Not Valid in This State")
                    else:
                        reply("200 OK", f"Session: {session}\r\nRange: npt=0.000-\r\n")
                        await writer.drain()
                        relay = (
                            asyncio.create_task(self._relay(q, writer)) if relay is None else relay
                        )
                elif method == "TEARDOWN":
                    reply("200 OK", f"Session: {session}\r\n")
                    await writer.drain()
                    break
                else:
                    reply("501 Not Implemented")
                await writer.drain()
        except (
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            RuntimeError,
        ) as exc:
            log.debug("rtsp viewer gone: %s", exc)
        finally:
            if relay is not None:
                relay.cancel()
            if key is not None and q is not None:
                self._unsubscribe(key, q)
            self._conns.discard(writer)
            writer.transport.abort()

    @staticmethod
    async def _relay(q: asyncio.Queue[bytes | None], writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while True:
                pkt = await q.get()
                if pkt is None:
                    writer.transport.abort()
                    return
                writer.write(b"$\x00" + len(pkt).to_bytes(2, "big") + pkt)
                await writer.drain()
