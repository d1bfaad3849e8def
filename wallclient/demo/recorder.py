"""The reference backend's recorder and its playback server (MediaMTX's playback API).

Recording: one ffmpeg per recorded camera reads the camera's main stream as the camera
sends it (its clip, looped in real time) and cuts it with ffmpeg's segment muxer —
stream copy, MP4 segments of SEGMENT_S seconds, each starting on a key frame — into
``<root>/<camera>/<t0 ms>/seg-NNNNNNNN.mp4`` with the segment list ffmpeg writes
beside them (``list.csv``: file, start, end in the stream's seconds). ``t0`` is the
wall-clock time of the stream's zero, taken when ffmpeg closes its first segment.
A stretch when no ffmpeg ran for a camera is a real gap.

Which cameras: every camera a wall has played (the media server says so) and the
nearest cameras of the newest priority-1 incidents, at most ``max_cameras`` at once
(the least recently wanted stops first); segments older than ``retention_s`` are
deleted, and the oldest beyond ``max_bytes``. Measured cost: docs/benchmarks.md ("Recording").

Playback (protocol.md, "Recording and playback"), with the wall's bearer token:

- ``GET /list?path=&start=&end=`` → ``[{start, duration, url}]``, the recorded spans
  overlapping the range (segments that touch are one span);
- ``GET /get?path=&start=&duration=&format=mp4|fmp4`` → the run of whole segments from
  the one holding ``start`` (or the first after it) to the first gap or the range's end,
  joined by ffmpeg (concat demuxer, stream copy; a single segment as ffmpeg wrote it,
  when ``mp4`` is asked for), ``X-Recorded-Start`` the
  first frame's recorded time; ``404`` when the range holds no recording.

For the demo video platform (``serve-demo --platform``, wallclient.demo.platform) a
recording is also handed out as a play URL of its own (``stream.resolve`` with ``kind:
playback``): ``grant`` makes a token path (``/rtp/{token}.live.mp4`` as WVP's ZLMediaKit
names a playback stream, ``/openUrl/{token}/playback.mp4`` as iSecure Center does) that
serves the range as ``/get`` would, without the bearer token (the path is the credential):
403 once used (single-use), expired or released.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from wallclient.demo.media import CHILD, ffmpeg
from wallclient.replay import Span, epoch_of, rfc3339

log = logging.getLogger(__name__)

SEGMENT_S = 2.0  # short: the recent past is readable a few seconds after it happened
RETENTION_S = 2 * 3600.0
MAX_CAMERAS = 32
MAX_BYTES = 20 * 10**9  # the oldest segments go first when the recordings pass this
GET_MAX_S = 600.0  # the longest window one /get serves
JOIN_S = 0.25  # segments closer than this are one span


@dataclass
class _Segment:
    file: Path
    start: float  # recorded (epoch) seconds
    end: float


@dataclass
class _Recording:
    """One ffmpeg run for one camera."""

    dir: Path
    proc: asyncio.subprocess.Process | None = None
    t0: float | None = None  # epoch seconds of the stream's zero


@dataclass
class _Grant:
    """A recording handed out as a platform play URL."""

    camera: str
    start: float
    end: float
    expires: float  # monotonic
    single_use: bool
    used: bool = False


@dataclass
class _Camera:
    runs: list[Path] = field(default_factory=list)
    live: _Recording | None = None
    wanted_at: float = 0.0


class Recorder:
    """Records cameras on demand and answers the playback API."""

    def __init__(
        self,
        root: Path,
        clip_for: Callable[[str], Awaitable[Path]],
        *,
        tokens: dict[str, tuple[str, str]],
        retention_s: float = RETENTION_S,
        max_cameras: int = MAX_CAMERAS,
        max_bytes: int = MAX_BYTES,
        watched: Callable[[str], bool] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.root = root
        self.clip_for = clip_for
        self.tokens = tokens
        self.retention_s = retention_s
        self.max_cameras = max_cameras
        self.max_bytes = max_bytes
        self.watched = watched or (lambda _cam: False)  # a wall plays it right now
        self.host = host
        self.port = port
        self.mode = "normal"  # tests: "down" | "hang" | "garbage-list"
        self._cams: dict[str, _Camera] = {}
        self._server: asyncio.base_events.Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._starting: set[str] = set()
        # one recording begun at a time: the cap is decided with the ones being started
        # counted (forty cameras wanted at once started forty ffmpegs past a cap of 32,
        # and the machine's two cores with them)
        self._gate = asyncio.Lock()
        self.gets = 0
        self.grants: dict[str, _Grant] = {}  # a platform's playback URLs, by token
        self.grant_refusals = 0

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- life -----------------------------------------------------------------------------

    async def start(self) -> Recorder:
        self.root.mkdir(parents=True, exist_ok=True)
        for cam_dir in self.root.iterdir():  # recordings kept from an earlier run
            if cam_dir.is_dir():
                runs = sorted(p for p in cam_dir.iterdir() if p.is_dir() and p.name.isdigit())
                self._cams.setdefault(cam_dir.name, _Camera()).runs.extend(runs)
        self._server = await asyncio.start_server(self._http, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._tasks.append(asyncio.create_task(self._prune_loop()))
        return self

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        if self._server is not None:
            self._server.close()
        for cam in self._cams.values():
            if cam.live is not None:
                await self._end(cam.live)
                cam.live = None

    # --- what is recorded ------------------------------------------------------------------

    def want(self, camera: str) -> None:
        """Record ``camera`` (a wall plays it, or it is near an incident)."""
        cam = self._cams.setdefault(camera, _Camera())
        cam.wanted_at = time.time()
        if cam.live is None and camera not in self._starting:
            self._starting.add(camera)
            self._tasks.append(asyncio.create_task(self._begin(camera)))

    def recording(self) -> list[str]:
        return sorted(c for c, cam in self._cams.items() if cam.live is not None)

    async def _begin(self, camera: str) -> None:
        async with self._gate:
            await self._begin_one(camera)

    async def _begin_one(self, camera: str) -> None:
        try:
            live = [c for c, cam in self._cams.items() if cam.live is not None]
            while len(live) >= self.max_cameras:
                # the least recently wanted gives way, a camera a wall is playing last
                oldest = min(live, key=lambda c: (self.watched(c), self._cams[c].wanted_at))
                if self.watched(oldest):
                    log.warning("not recording %s: %d cameras recorded, all watched",
                                camera, len(live))  # fmt: skip
                    return
                cam = self._cams[oldest]
                if cam.live is not None:
                    await self._end(cam.live)
                    cam.live = None
                live.remove(oldest)
            clip = await self.clip_for(camera)
            run = self.root / camera / str(int(time.time() * 1000))
            run.mkdir(parents=True)
            args = [
                ffmpeg(), "-nostdin", "-loglevel", "error",
                "-re", "-stream_loop", "-1", "-i", str(clip),
                "-map", "0:v", "-c", "copy",
                "-f", "segment", "-segment_time", str(SEGMENT_S), "-segment_format", "mp4",
                "-reset_timestamps", "1",
                "-segment_list", str(run / "list.csv"), "-segment_list_type", "csv",
                "-segment_list_flags", "+live",
                str(run / "seg-%08d.mp4"),
            ]  # fmt: skip
            proc = await asyncio.create_subprocess_exec(
                *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                **CHILD,
            )  # fmt: skip
            rec = _Recording(run, proc)
            cam = self._cams[camera]
            cam.live = rec
            cam.runs.append(run)
            self._tasks.append(asyncio.create_task(self._calibrate(rec)))
            log.info("recording %s", camera)
        except Exception as exc:  # a camera that cannot be recorded leaves a gap, never a crash
            log.warning("cannot record %s: %s", camera, exc)
        finally:
            self._starting.discard(camera)

    async def _calibrate(self, rec: _Recording) -> None:
        """The stream's zero in wall-clock time: ffmpeg lists a segment the moment it reads
        the next one's first packet, which -re reads at its own time."""
        listing = rec.dir / "list.csv"
        while rec.proc is not None and rec.proc.returncode is None:
            if listing.exists():
                line = listing.read_text().split("\n", 1)[0].strip()
                if line.count(",") >= 2:
                    end = float(line.rsplit(",", 1)[1])
                    rec.t0 = time.time() - end
                    (rec.dir / "t0").write_text(f"{rec.t0:.3f}")
                    return
            await asyncio.sleep(0.01)

    async def _end(self, rec: _Recording) -> None:
        proc, rec.proc = rec.proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 3)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    # --- the index --------------------------------------------------------------------------

    def segments(self, camera: str) -> list[_Segment]:
        """Every finished segment of a camera, in time order."""
        cam = self._cams.get(camera)
        if cam is None:
            return []
        out: list[_Segment] = []
        for run in cam.runs:
            t0_file, listing = run / "t0", run / "list.csv"
            if not t0_file.exists() or not listing.exists():
                continue
            t0 = float(t0_file.read_text())
            for line in listing.read_text().splitlines():
                parts = line.strip().rsplit(",", 2)
                if len(parts) != 3:
                    continue
                f = run / parts[0]
                if f.exists():
                    out.append(_Segment(f, t0 + float(parts[1]), t0 + float(parts[2])))
        out.sort(key=lambda s: s.start)
        return out

    def spans(self, camera: str, start: float, end: float) -> list[Span]:
        out: list[Span] = []
        for seg in self.segments(camera):
            if seg.end <= start or seg.start >= end:
                continue
            if out and seg.start - out[-1].end <= JOIN_S:
                out[-1] = Span(out[-1].start, seg.end - out[-1].start)
            else:
                out.append(Span(seg.start, seg.end - seg.start))
        return out

    def run_from(self, camera: str, start: float, end: float) -> list[_Segment]:
        """The segments a /get serves: from the one holding ``start`` (or the first after
        it) on, until a gap or ``end``."""
        out: list[_Segment] = []
        for seg in self.segments(camera):
            if seg.end <= start or seg.start >= end:
                continue
            if out and seg.start - out[-1].end > JOIN_S:
                break
            out.append(seg)
        return out

    async def _prune_loop(self) -> None:
        while True:
            await asyncio.sleep(30)
            self.prune()

    def prune(self) -> None:
        """Delete what is older than the retention, and the oldest beyond the disk cap."""
        horizon = time.time() - self.retention_s
        kept: list[_Segment] = []
        for name in self._cams:
            for seg in self.segments(name):
                if seg.end < horizon:
                    seg.file.unlink(missing_ok=True)
                else:
                    kept.append(seg)
        total = sum(seg.file.stat().st_size for seg in kept if seg.file.exists())
        for seg in sorted(kept, key=lambda s: s.start):
            if total <= self.max_bytes:
                break
            with contextlib.suppress(OSError):
                total -= seg.file.stat().st_size
                seg.file.unlink()
        for cam in self._cams.values():
            for run in list(cam.runs):
                live = cam.live is not None and cam.live.dir == run
                if not live and not any(run.glob("seg-*.mp4")):
                    shutil.rmtree(run, ignore_errors=True)
                    cam.runs.remove(run)

    # --- the platform's playback URLs -----------------------------------------------------

    def grant(self, camera: str, start: float, end: float, *, ttl: float, single_use: bool) -> str:
        """A token whose path serves ``camera``'s recording from ``start`` to ``end``."""
        now = time.monotonic()
        for old in [t for t, g in self.grants.items() if g.expires < now - 60]:
            del self.grants[old]
        token = secrets.token_hex(10)
        self.grants[token] = _Grant(camera, start, end, now + ttl, single_use)
        return token

    def ungrant(self, token: str) -> None:
        self.grants.pop(token, None)

    def _granted(self, path: str) -> _Grant | int:
        """The grant a platform path names, or the status refusing it."""
        if path.startswith("/rtp/") and path.endswith(".live.mp4"):
            token = path[len("/rtp/") : -len(".live.mp4")]
        elif path.startswith("/openUrl/") and path.endswith("/playback.mp4"):
            token = path[len("/openUrl/") : -len("/playback.mp4")]
        else:
            return 404
        g = self.grants.get(token)
        if g is None or g.used or time.monotonic() > g.expires:
            self.grant_refusals += 1
            return 403 if g is not None else 404
        if g.single_use:
            g.used = True
        return g

    # --- the playback API ---------------------------------------------------------------------

    def _authorized(self, headers: dict[str, str]) -> bool:
        auth = headers.get("authorization", "")
        return auth.startswith("Bearer ") and auth[7:].strip() in self.tokens

    async def _http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.mode == "down":
                return
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            if self.mode == "hang":
                await asyncio.sleep(3600)
                return
            lines = head.decode("latin-1").split("\r\n")
            method, target = (lines[0].split(" ") + ["", ""])[:2]
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            url = urlsplit(target)
            # a "+" of a time's offset sent unescaped reads as a space: taken back
            q = {k: v[-1].replace(" ", "+") for k, v in parse_qs(url.query).items()}
            if method == "GET" and url.path.startswith(("/rtp/", "/openUrl/")):
                g = self._granted(url.path)
                if isinstance(g, int):
                    await _reply(writer, g, b"no such play URL, or used up\n")
                else:
                    await self._get(writer, {"path": g.camera, "start": rfc3339(g.start),
                                             "duration": f"{g.end - g.start:.3f}", "format": "mp4"})  # fmt: skip
            elif method != "GET" or url.path not in ("/list", "/get"):
                await _reply(writer, 404, b"no such path\n")
            elif not self._authorized(headers):
                await _reply(writer, 401, b"bad or missing bearer token\n")
            elif url.path == "/list":
                await self._list(writer, q)
            else:
                await self._get(writer, q)
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
            log.debug("playback client gone: %s", exc)
        finally:
            writer.transport.abort()

    async def _list(self, writer: asyncio.StreamWriter, q: dict[str, str]) -> None:
        try:
            camera = q["path"]
            start = epoch_of(q.get("start", rfc3339(0)))
            end = epoch_of(q["end"]) if "end" in q else time.time()
        except (KeyError, ValueError):
            await _reply(writer, 400, b"path, start and end are needed\n")
            return
        if self.mode == "garbage-list":
            await _reply(writer, 200, b'[{"start": "yesterday", "duration": "long"}]')
            return
        spans = self.spans(camera, start, end)
        if not spans:
            await _reply(writer, 404, b"no recording in this range\n")
            return
        body = [{
            "start": rfc3339(s.start),
            "duration": round(s.duration, 3),
            "url": f"{self.base}/get?path={quote(camera)}&start={quote(rfc3339(s.start))}"
                   f"&duration={s.duration:.3f}&format=mp4",
        } for s in spans]  # fmt: skip
        await _reply(writer, 200, json.dumps(body).encode(), "application/json")

    async def _get(self, writer: asyncio.StreamWriter, q: dict[str, str]) -> None:
        try:
            camera = q["path"]
            start = epoch_of(q["start"])
            duration = min(GET_MAX_S, float(q["duration"]))
            fmt = q.get("format", "mp4")
            if fmt not in ("mp4", "fmp4") or duration <= 0:
                raise ValueError(fmt)
        except (KeyError, ValueError):
            await _reply(writer, 400, b"path, start, duration and format=mp4|fmp4 are needed\n")
            return
        run = self.run_from(camera, start, start + duration)
        if not run:
            await _reply(writer, 404, b"no recording in this range\n")
            return
        self.gets += 1
        first = run[0].start
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nX-Recorded-Start: {rfc3339(first)}\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n"
        )
        if fmt == "mp4" and len(run) == 1:
            # one whole segment is already the MP4 asked for: sent as ffmpeg wrote it, with
            # no process to join it (a seek's first window: ~110 ms less on this machine)
            try:
                data = await asyncio.to_thread(Path(run[0].file).read_bytes)
            except OSError:
                await _reply(writer, 404, b"no recording in this range\n")  # pruned meanwhile
                return
            writer.write(f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data)
            await writer.drain()
            return
        # whole segments: the first opens on a key frame at or before start (or after a
        # gap), the last is whole, so the next window a client asks for (from this one's
        # end) begins on a segment of its own and nothing is sent twice
        with tempfile.TemporaryDirectory(prefix="wallclient-get-") as tmp:
            listing = Path(tmp) / "list.txt"
            listing.write_text("".join(f"file '{s.file}'\n" for s in run))
            out = Path(tmp) / "out.mp4"
            movflags = "+faststart" if fmt == "mp4" else "frag_keyframe+empty_moov+default_base_moof"
            args = [
                ffmpeg(), "-nostdin", "-loglevel", "error", "-f", "concat", "-safe", "0",
                "-i", str(listing), "-c", "copy",
                "-movflags", movflags, "-f", "mp4",
                str(out) if fmt == "mp4" else "pipe:1",
            ]  # fmt: skip
            if fmt == "fmp4":  # sent as it is read
                proc = await asyncio.create_subprocess_exec(
                    *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
                    **CHILD,
                )  # fmt: skip
                assert proc.stdout is not None
                writer.write((head + "\r\n").encode())
                try:
                    while chunk := await proc.stdout.read(65536):
                        writer.write(chunk)
                        await writer.drain()
                finally:
                    if proc.returncode is None:
                        with contextlib.suppress(ProcessLookupError):
                            proc.kill()
                    await proc.wait()
                return
            proc = await asyncio.create_subprocess_exec(
                *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, **CHILD
            )
            _, err = await proc.communicate()
            if proc.returncode != 0 or not out.exists():
                log.warning("playback cut failed: %s", err.decode(errors="replace")[-200:])
                await _reply(writer, 500, b"the recording could not be read\n")
                return
            data = out.read_bytes()
        writer.write(f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data)
        await writer.drain()


async def _reply(
    writer: asyncio.StreamWriter, status: int, body: bytes, ctype: str = "text/plain"
) -> None:
    reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
              500: "Internal Server Error"}[status]  # fmt: skip
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
        f"Connection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()
