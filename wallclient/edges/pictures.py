"""Incident pictures (告警图片): fetched with the wall's token, kept, decoded — never on
the GUI thread.

A picture (``incident.upsert.media[].url``) is fetched over HTTP(S) with
``Authorization: Bearer`` (a redirect to another host is refused), at most
``MAX_BYTES`` and within ``TIMEOUT_S``, checked for its size in pixels from the header
before it is decoded (``MAX_PIXELS``), decoded by FFmpeg (PyAV) to RGB, and kept on disk
beside the cache (``<cache>.media/``, least recently used out past ``KEEP_BYTES``),
indexed in the cache's ``media`` table — so a wall that lost its backend still shows the
pictures it had. A picture that cannot be had says why (``Picture.error``); it never
holds anything up: ``fetch`` answers through a callback from a worker thread.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import io
import logging
import os
import struct
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wallclient import paths
from wallclient.edges.fetch import same_host_opener

log = logging.getLogger(__name__)

TIMEOUT_S = 5.0
MAX_BYTES = 8 * 1024 * 1024  # a snapshot is a few hundred kB; 8 MB is generous
MAX_PIXELS = 40_000_000  # 8K × 5K: anything larger is refused before it is decoded
KEEP_BYTES = 200 * 1024 * 1024
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/bmp", "application/octet-stream")


@dataclass(frozen=True)
class Picture:
    """A decoded picture (RGB888 rows), or why there is none."""

    url: str
    width: int = 0
    height: int = 0
    rgb: bytes = b""
    error: str | None = None
    cached: bool = False  # read from this wall's own store (the backend may be away)


class PictureError(Exception):
    pass


_opener = same_host_opener(PictureError)


def download(url: str, token: str, timeout: float = TIMEOUT_S, max_bytes: int = MAX_BYTES) -> bytes:
    """The picture's bytes, or PictureError with the reason."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise PictureError("not an http(s) URL")
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        resp = _opener.open(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise PictureError({401: "token refused (401)", 403: "forbidden (403)",
                            404: "no such picture (404)"}.get(exc.code, f"server answered {exc.code}")) from None  # fmt: skip
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, PictureError):
            raise reason from None
        if isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError):
            raise PictureError("server did not answer") from None
        raise PictureError("server unreachable") from None
    try:
        ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype and ctype not in IMAGE_TYPES:
            raise PictureError(f"not a picture ({ctype})")
        size = int(resp.headers.get("Content-Length") or 0)
        if size > max_bytes:
            raise PictureError(f"too large ({size / 1e6:.0f} MB)")
        chunks, total = [], 0
        while chunk := resp.read(1 << 16):
            total += len(chunk)
            if total > max_bytes:
                raise PictureError(f"too large (over {max_bytes / 1e6:.0f} MB)")
            chunks.append(chunk)
        return b"".join(chunks)
    except (OSError, TimeoutError):
        raise PictureError("server did not answer") from None
    finally:
        resp.close()


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) as a PNG's or JPEG's header says, before anything is decoded."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            length = struct.unpack(">H", data[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return w, h
            i += 2 + length
    return None


def decode(data: bytes, max_pixels: int = MAX_PIXELS) -> tuple[int, int, bytes]:
    """(width, height, RGB888) of a JPEG/PNG/WebP, its size checked from the header first."""
    import av

    size = header_size(data)
    if size is not None and size[0] * size[1] > max_pixels:
        raise PictureError(f"too many pixels ({size[0]} × {size[1]})")

    try:
        with av.open(io.BytesIO(data), mode="r") as c:
            if not c.streams.video:  # bytes that FFmpeg took for some other format
                raise PictureError("not a readable picture")
            ctx = c.streams.video[0].codec_context
            if ctx.width * ctx.height > max_pixels:
                raise PictureError(f"too many pixels ({ctx.width} × {ctx.height})")
            for frame in c.decode(video=0):
                if frame.width * frame.height > max_pixels:
                    raise PictureError(f"too many pixels ({frame.width} × {frame.height})")
                rgb = frame.to_ndarray(format="rgb24")
                return frame.width, frame.height, rgb.tobytes()
    except PictureError:
        raise
    except (av.error.FFmpegError, ValueError, OSError, MemoryError) as exc:
        raise PictureError(f"not a readable picture ({type(exc).__name__})") from None
    raise PictureError("not a readable picture")


class PictureStore:
    """Fetch, keep and decode incident pictures (two worker threads)."""

    def __init__(self, folder: Path, token: str, index: Any = None, keep_bytes: int = KEEP_BYTES) -> None:
        self.folder = folder
        self.token = token
        self.index = index  # put(url, file, size) / get(url) / used(url) on the cache; None: files only
        self.keep_bytes = keep_bytes
        self._pool = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="pictures")
        self.fetched = self.failed = 0

    def path_of(self, url: str) -> Path:
        return self.folder / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".pic")

    def fetch(self, url: str, done: Callable[[Picture], None]) -> None:
        """``done(picture)`` from a worker thread, once the picture (or its failure) is known."""
        self._pool.submit(self._fetch, url, done)

    def _fetch(self, url: str, done: Callable[[Picture], None]) -> None:
        path = self.path_of(url)
        cached = False
        try:
            if path.exists():
                data, cached = path.read_bytes(), True
                os.utime(path)  # recently used
            else:
                data = download(url, self.token)
            w, h, rgb = decode(data)
            if not cached:
                self._keep(url, path, data)
            self.fetched += 1
            done(Picture(url, w, h, rgb, cached=cached))
        except PictureError as exc:
            self.failed += 1
            log.info("picture %s: %s", url, exc)
            done(Picture(url, error=str(exc)))
        except Exception as exc:  # a picture never takes the wall down
            self.failed += 1
            log.warning("picture %s: %s", url, exc)
            done(Picture(url, error="not a readable picture"))

    def _keep(self, url: str, path: Path, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = paths.temp_beside(path)  # two workers may fetch one picture at once
        tmp.write_bytes(data)
        tmp.replace(path)
        if self.index is not None:
            self.index(url, path.name, len(data))
        files = sorted(self.folder.glob("*.pic"), key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in files)
        while files and total > self.keep_bytes:  # least recently used out
            old = files.pop(0)
            total -= old.stat().st_size
            old.unlink(missing_ok=True)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
