"""Evidence (证据导出): a camera's range or an incident's window, packaged for handing on.

A package is a folder ``<dir>/<name>/`` holding an MP4 per camera and recorded span (cut by
the playback server's ffmpeg, stream copy: the recording's own bytes, not a re-encode), a
PNG of each tile as the wall showed it, the incident record with its history, and
``manifest.json`` with the SHA-256 of every file, the wall, the node, who and when. It is
written into a hidden folder beside its final place and renamed into place in one step:
a full disk, a read-only folder or a playback failure leaves no half-written package, and
the caller gets the reason. One audit line per export.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from wallclient.edges.playback import PlaybackClient, PlaybackError, Recording, playback_client
from wallclient.errors import CommandError
from wallclient.replay import epoch_of, rfc3339

log = logging.getLogger(__name__)

INCIDENT_BEFORE_S = 60.0  # an incident's window: from this long before its report …
INCIDENT_AFTER_S = 300.0  # … to this long after it (or now, if that is sooner)
MAX_SPAN_S = 3600.0  # one export covers at most an hour
# the server cuts a whole window before it sends a byte (moov first): minutes of a main
# stream take it seconds, so an export waits longer than a replay's window fetch
EXPORT_TIMEOUT_S = 60.0


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_clips(client: PlaybackClient, camera: str, start: float, end: float,
                into: Path) -> list[dict[str, Any]]:  # fmt: skip
    """Every recorded span of ``camera`` within [start, end] as MP4 files in ``into``."""
    out = []
    t = start
    n = 0
    for span in client.list(start, end):
        t = max(start, span.start)
        stop = min(end, span.end)
        while t < stop - 0.05:
            length = min(600.0, stop - t)
            data, first = client.get(t, length)
            n += 1
            name = f"{_safe(camera)}-{n:02d}.mp4"
            (into / name).write_bytes(data)
            out.append({"file": name, "camera": camera, "recorded_start": rfc3339(first),
                        "asked": [rfc3339(t), rfc3339(t + length)]})  # fmt: skip
            t += length
    return out


def _safe(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text)[:80] or "x"


class Exporter:
    """``export`` for the control API and the incident card."""

    def __init__(
        self,
        *,
        recording: Callable[[str], Recording],
        cameras_for: Callable[[str], list[str]],
        incident: Callable[[str], dict[str, Any] | None],
        history: Callable[[str], list[tuple[float, str]]],
        snapshot: Callable[[str, Path], bool],
        who: Callable[[], dict[str, Any]],
        audit: Callable[[dict[str, Any]], None],
    ) -> None:
        self.recording = recording  # camera → where its recording is read (CommandError if none)
        self.cameras_for = cameras_for  # incident → its nearest cameras
        self.incident = incident
        self.history = history
        self.snapshot = snapshot  # (camera, png path) → True if a tile showed it
        self.who = who  # user, role, wall, node
        self.audit = audit
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="export")

    async def export(self, args: dict[str, Any]) -> dict[str, Any]:
        target = Path(str(args.get("dir") or ""))
        if not str(target) or not target.is_absolute():
            raise CommandError("bad_request", "dir must be an absolute folder")
        record: dict[str, Any] | None = None
        if "incident" in args:
            iid = str(args["incident"])
            record = self.incident(iid)
            if record is None:
                raise CommandError("not_found", f"no incident {iid}")
            reported = epoch_of(record["reported_at"])
            start = reported - float(args.get("before_s", INCIDENT_BEFORE_S))
            end = min(time.time(), reported + float(args.get("after_s", INCIDENT_AFTER_S)))
            cameras = self.cameras_for(iid)
            name = f"incident-{_safe(iid)}-{time.strftime('%Y%m%d-%H%M%S')}"
        else:
            try:
                cameras = [str(args["camera"])]
                start = epoch_of(str(args["start"]))
                end = start + float(args["duration_s"])
            except (KeyError, ValueError, TypeError):
                raise CommandError("bad_request", "camera, start and duration_s are needed") from None
            name = f"camera-{_safe(cameras[0])}-{time.strftime('%Y%m%d-%H%M%S')}"
        if not 0 < end - start <= MAX_SPAN_S:
            raise CommandError("bad_request", f"a window of 0 … {MAX_SPAN_S:g} s")
        recs = {cam: self.recording(cam) for cam in cameras}  # refused before anything is written
        who = self.who()
        row = {"user": who.get("user"), "role": who.get("role"), "node": who.get("node"),
               "action": "export", "args": {**args, "cameras": cameras}}  # fmt: skip
        tmp = target / f".partial-{name}"
        final = target / name
        started = time.perf_counter()
        try:
            target.mkdir(parents=True, exist_ok=True)
            tmp.mkdir()
            files: list[dict[str, Any]] = []
            for cam in cameras:  # the tiles as the wall shows them now (GUI thread)
                png = tmp / f"{_safe(cam)}.png"
                if self.snapshot(cam, png):
                    files.append({"file": png.name, "camera": cam, "kind": "snapshot"})
            loop = asyncio.get_running_loop()
            jobs = [loop.run_in_executor(self._pool, fetch_clips, playback_client(recs[cam], EXPORT_TIMEOUT_S),
                                         cam, start, end, tmp) for cam in cameras]  # fmt: skip
            for got in await asyncio.gather(*jobs):
                files.extend({**f, "kind": "clip"} for f in got)
            if record is not None:
                history = [{"at": rfc3339(t), "status": s} for t, s in self.history(record["id"])]
                (tmp / "incident.json").write_text(json.dumps(
                    {"incident": record, "history": history}, ensure_ascii=False, indent=2),
                    encoding="utf-8")  # fmt: skip
                files.append({"file": "incident.json", "kind": "incident"})
            for f in files:
                path = tmp / f["file"]
                f["sha256"], f["bytes"] = sha256(path), path.stat().st_size
            manifest = {
                "wall": who.get("wall"), "node": who.get("node"), "user": who.get("user"),
                "role": who.get("role"), "created": rfc3339(time.time()),
                "range": [rfc3339(start), rfc3339(end)], "cameras": cameras,
                "incident": record["id"] if record else None, "files": files,
                "hash": "sha256",
            }  # fmt: skip
            (tmp / "manifest.json").write_text(
                json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
            )
            with open(tmp / "manifest.json", "rb") as fh:
                os.fsync(fh.fileno())
            os.rename(tmp, final)  # the package appears whole, or not at all
        except (OSError, PlaybackError, CommandError) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            reason = exc.message if isinstance(exc, CommandError) else str(exc)
            if isinstance(exc, OSError):
                reason = f"{exc.strerror or exc} ({exc.filename or target})"
            self.audit({**row, "outcome": "failed", "detail": reason})
            raise CommandError("export_failed", reason) from None
        self.audit({**row, "outcome": "ok", "detail": str(final)})
        log.info("export %s: %d files in %.1f s", final, len(files), time.perf_counter() - started)
        return {"dir": str(final), "files": [str(final / f["file"]) for f in files],
                "manifest": str(final / "manifest.json"),
                "seconds": round(time.perf_counter() - started, 2)}  # fmt: skip
