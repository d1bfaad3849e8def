"""The reference backend's picture server: what raised a video-AI or IoT alarm.

``GET /media/<incident>.jpg`` with the wall's token (``Authorization: Bearer``; 401
without it, 404 for an incident without a picture) answers a JPEG rendered once by
ffmpeg from a frame of the incident's nearest camera's clip — the scene a real
analytics server would have cut its snapshot from. The boxes are the incident's
(``media[].boxes``): the client draws them.

Fault modes for tests (``mode``): ``garbage`` (bytes that are no image), ``huge`` (20 MB),
``giant`` (a valid PNG header saying 50,000 × 50,000 pixels), ``redirect`` (302 to another
host), ``hang`` (accepts and never answers), ``ctype`` (an HTML page), ``missing`` (404).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import struct
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from wallclient import paths
from wallclient.demo.media import CHILD, ffmpeg

log = logging.getLogger(__name__)

MODES = ("normal", "garbage", "huge", "giant", "redirect", "hang", "ctype", "missing")


def giant_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A small file whose header promises a picture far too large to decode."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


class PictureServer:
    """Serves incidents' pictures on loopback (the backend's ``https`` beside ``wss``)."""

    def __init__(
        self,
        cache_dir: Path,
        tokens: dict[str, Any],
        incident: Callable[[str], dict[str, Any] | None],
        clip: Callable[[str], Awaitable[Path]],
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.dir = cache_dir
        self.tokens = tokens
        self.incident = incident
        self.clip = clip
        self.host, self.port = host, port
        self.mode = "normal"
        self.served = 0
        self._server: asyncio.base_events.Server | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._cutting = asyncio.Semaphore(2)

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> PictureServer:
        self.dir.mkdir(parents=True, exist_ok=True)
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def render(self, iid: str) -> bytes | None:
        """The incident's picture (made once and kept), None when it has none."""
        path = self.dir / f"{iid}.jpg"
        if path.exists():
            return path.read_bytes()
        inc = self.incident(iid)
        media = next((m for m in (inc or {}).get("media") or [] if m.get("kind") == "image"), None)
        if media is None:
            return None
        lock = self._locks.setdefault(iid, asyncio.Lock())
        async with lock, self._cutting:  # at most two ffmpeg cutting at a time
            if path.exists():
                return path.read_bytes()
            src = ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=1"]
            if media.get("camera"):
                try:
                    clip = await self.clip(media["camera"])
                    src = ["-ss", f"{sum(map(ord, iid)) % 9 + 0.5:.1f}", "-i", str(clip)]
                except (OSError, RuntimeError) as exc:
                    log.info("picture of %s without its camera: %s", iid, exc)
            tmp = paths.temp_beside(path)
            proc = await asyncio.create_subprocess_exec(
                ffmpeg(), "-nostdin", "-loglevel", "error", "-y", *src, "-frames:v", "1",
                "-q:v", "4", str(tmp), stderr=asyncio.subprocess.DEVNULL, **CHILD,
            )  # fmt: skip
            await proc.wait()
            if proc.returncode != 0 or not tmp.exists():
                tmp.unlink(missing_ok=True)
                return None
            tmp.replace(path)
        return path.read_bytes()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            text = head.decode("latin-1")
            line = text.split("\r\n", 1)[0]
            auth = re.search(r"(?im)^authorization:\s*bearer\s+(\S+)", text)
            m = re.match(r"GET /media/(\w+)\.jpg(?:\?\S*)? HTTP/1\.[01]$", line)
            if auth is None or auth.group(1) not in self.tokens:
                await self._reply(writer, 401, b"text/plain", b"token required")
                return
            if m is None or self.mode == "missing":
                await self._reply(writer, 404, b"text/plain", b"no such picture")
                return
            if self.mode == "hang":
                await asyncio.sleep(3600)
                return
            if self.mode == "redirect":
                writer.write(b"HTTP/1.1 302 Found\r\nLocation: http://example.invalid/x.jpg\r\n"
                             b"Content-Length: 0\r\nConnection: close\r\n\r\n")  # fmt: skip
                await writer.drain()
                return
            body: bytes | None
            ctype = b"image/jpeg"
            if self.mode == "garbage":
                body = os.urandom(50_000)
            elif self.mode == "huge":
                body = b"\xff\xd8\xff" + os.urandom(20 * 1024 * 1024)
            elif self.mode == "giant":
                body, ctype = giant_png(), b"image/png"
            elif self.mode == "ctype":
                body, ctype = b"<html><body>login</body></html>", b"text/html"
            else:
                body = await self.render(m.group(1))
            if body is None:
                await self._reply(writer, 404, b"text/plain", b"no such picture")
                return
            self.served += 1
            await self._reply(writer, 200, ctype, body)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, asyncio.LimitOverrunError) as exc:
            log.debug("picture viewer gone: %s", exc)
        finally:
            writer.transport.abort()

    @staticmethod
    async def _reply(writer: asyncio.StreamWriter, code: int, ctype: bytes, body: bytes) -> None:
        reason = {200: b"OK", 401: b"Unauthorized", 404: b"Not Found"}.get(code, b"Error")
        writer.write(b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                     % (code, reason, ctype, len(body)) + body)  # fmt: skip
        await writer.drain()
