"""The demo's cameras: real H.264 served live over HTTP (MPEG-TS) and RTSP (over TCP).

Each camera's clip is made once by ffmpeg (test pattern, the camera's name and a
running clock burned in, H.264 with a 1 s GOP; ``sub`` 640×360, ``main``
1280×720) and then played in a loop, in real time, by one ffmpeg per stream that
is being watched (``-re -stream_loop -1 -c copy``: no re-encoding, ~1 % CPU).

- HTTP-TS: ``GET /live/<camera>/<sub|main>.ts`` — ffmpeg writes MPEG-TS to a
  pipe and every viewer of that stream gets the same bytes.
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


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, be killed when the server dies, even by
    SIGKILL (no feeder is left streaming with nobody to stop it)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


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
    tmp = out.with_suffix(".tmp.mp4")
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
        raise RuntimeError(
            f"ffmpeg could not make {out.name}: {err.decode(errors='replace')[-300:]}"
        )
    tmp.replace(out)
    return out


@dataclass
class _Source:
    """One running ffmpeg fanning one stream out to its viewers."""

    proc: asyncio.subprocess.Process | None = None
    viewers: set[asyncio.Queue[bytes | None]] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    stopper: asyncio.TimerHandle | None = None
    sdp: str | None = None
    transport: asyncio.DatagramTransport | None = None


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
        return out

    # --- sources --------------------------------------------------------------------------

    async def _subscribe(
        self, kind: str, cam: str, profile: str
    ) -> tuple[_Source, asyncio.Queue[bytes | None]]:
        key = (kind, cam, profile)
        src = self._sources.get(key)
        if src is None:
            src = _Source()
            self._sources[key] = src
            try:
                await self._start_source(key, src, await self.clip(cam, profile))
            except Exception:
                self._sources.pop(key, None)
                raise
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
        if not src.viewers and src.stopper is None:
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
        kind = key[0]
        base = [ffmpeg(), "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(clip),
                "-c", "copy", "-an"]  # fmt: skip
        if kind == "http":
            src.proc = await asyncio.create_subprocess_exec(
                *base, "-f", "mpegts", "-muxdelay", "0", "pipe:1",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, **CHILD,
            )  # fmt: skip
            src.task = asyncio.create_task(self._pump_pipe(src))
            return
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
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, **CHILD,
        )  # fmt: skip
        for _ in range(100):
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

    async def _pump_pipe(self, src: _Source) -> None:
        assert src.proc is not None and src.proc.stdout is not None
        while True:
            data = await src.proc.stdout.read(188 * 64)
            if not data:
                break
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
        if src.proc is not None and src.proc.returncode is None:
            src.proc.kill()
            await src.proc.wait()
        if src.task is not None:
            src.task.cancel()
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
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            m = re.match(r"GET /live/(\w+)/(sub|main|cif)\.ts(?:\?\S*)? HTTP/1\.[01]$", line)
            if not m:
                writer.write(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                await writer.drain()
                return
            cam, profile = m.group(1), m.group(2)
            key = ("http", cam, profile)
            src, q = await self._subscribe(*key)
            try:
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: video/mp2t\r\nCache-Control: no-cache\r\n"
                    b"Connection: close\r\n\r\n"
                )
                while True:
                    data = await q.get()
                    if data is None:
                        break
                    writer.write(data)
                    await writer.drain()
            finally:
                self._unsubscribe(key, q)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, RuntimeError) as exc:
            log.debug("http viewer gone: %s", exc)
        finally:
            self._conns.discard(writer)
            writer.transport.abort()

    # --- RTSP over TCP -------------------------------------------------------------------------

    async def _rtsp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._conns.add(writer)
        key: tuple[str, str, str] | None = None
        q: asyncio.Queue[bytes | None] | None = None
        session = os.urandom(6).hex()
        relay: asyncio.Task[None] | None = None
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
                    reply("404 Not Found")
                elif method == "DESCRIBE":
                    key = ("rtsp", m.group(1), m.group(2))
                    if q is None:
                        src, q = await self._subscribe(*key)
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
