"""A camera's clip as a live MPEG-TS stream, looped in real time without a process.

The demo's HTTP-TS cameras were one ``ffmpeg -re -stream_loop -1 -c copy`` each. Cheap
once running, but each start costs ~70 ms of CPU (the process and its libraries), and a
platform that starts 18 cameras at once spent a second or more of the wall's two cores on
it — work a real camera does on its own chip. Here the clip is remuxed to MPEG-TS once
(``ensure_ts``) and looped by this module: every loop is the same packets with their clocks
(PCR, PTS, DTS) moved on by the clip's length and their continuity counters moved on by
the packets per PID, so a decoder sees one unbroken stream, as from ffmpeg's loop.

Sans-I/O at its core: ``TsLoop`` turns the file's bytes into timed chunks
(``chunks()``: ``(seconds from the start, bytes)``); the media server's pump sleeps and
sends them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wallclient import paths

PACKET = 188
CLOCK = 90_000  # the 90-kHz clock of PTS, DTS and PCR's base
WRAP = 1 << 33
CHUNK_S = 0.1  # packets due within this much are sent together (ffmpeg's pipe: ~3 frames)


def read_pts(b: bytes | bytearray, at: int) -> int:
    return (
        ((b[at] >> 1) & 0x07) << 30
        | b[at + 1] << 22
        | (b[at + 2] >> 1) << 15
        | b[at + 3] << 7
        | b[at + 4] >> 1
    )


def write_pts(b: bytearray, at: int, value: int) -> None:
    value %= WRAP
    b[at] = (b[at] & 0xF1) | ((value >> 29) & 0x0E)
    b[at + 1] = (value >> 22) & 0xFF
    b[at + 2] = (((value >> 15) & 0x7F) << 1) | 1
    b[at + 3] = (value >> 7) & 0xFF
    b[at + 4] = ((value & 0x7F) << 1) | 1


def read_pcr_base(b: bytes | bytearray, at: int) -> int:
    return b[at] << 25 | b[at + 1] << 17 | b[at + 2] << 9 | b[at + 3] << 1 | b[at + 4] >> 7


def write_pcr_base(b: bytearray, at: int, value: int) -> None:
    value %= WRAP
    b[at] = (value >> 25) & 0xFF
    b[at + 1] = (value >> 17) & 0xFF
    b[at + 2] = (value >> 9) & 0xFF
    b[at + 3] = (value >> 1) & 0xFF
    b[at + 4] = (b[at + 4] & 0x7F) | ((value & 1) << 7)


class TsLoop:
    """One clip's MPEG-TS, indexed once: where its clocks and counters are, when each
    packet is due. ``chunks()`` yields the loop forever."""

    def __init__(self, data: bytes) -> None:
        n = len(data) - len(data) % PACKET
        if n == 0 or data[0] != 0x47:
            raise ValueError("not an MPEG-TS file")
        self.data = data[:n]
        self.pts: list[int] = []  # byte offsets of PTS and DTS fields
        self.pcr: list[int] = []  # byte offsets of PCR fields
        self.cc_step: dict[int, int] = {}  # PID → packets carrying a payload in one loop
        due: list[int] = []  # per packet: its PES's decoding time, 90 kHz
        first: int | None = None
        last = 0
        steps: list[int] = []
        for i in range(0, n, PACKET):
            b1, b3 = data[i + 1], data[i + 3]
            pid = ((b1 & 0x1F) << 8) | data[i + 2]
            at = i + 4
            if b3 & 0x20:  # an adaptation field
                length = data[i + 4]
                if length and data[i + 5] & 0x10:
                    self.pcr.append(i + 6)
                at += 1 + length
            if b3 & 0x10:
                self.cc_step[pid] = self.cc_step.get(pid, 0) + 1
                if b1 & 0x40 and data[at : at + 3] == b"\x00\x00\x01" and data[at + 3] >= 0xE0:
                    flags = data[at + 7] >> 6
                    if flags & 0x2:
                        self.pts.append(at + 9)
                        dts = read_pts(data, at + 9)
                        if flags == 0x3:
                            self.pts.append(at + 14)
                            dts = read_pts(data, at + 14)
                        if first is None:
                            first = dts
                        elif dts > last:
                            steps.append(dts - last)
                        last = dts
            due.append(last if first is not None else 0)
        if first is None:
            raise ValueError("no video timestamps in the clip")
        frame = sorted(steps)[len(steps) // 2] if steps else CLOCK // 25
        self.period = last - first + frame  # one loop, in 90-kHz ticks
        self.due = [max(0, t - first) / CLOCK for t in due]

    def loop(self, k: int) -> bytes:
        """The clip's bytes as its ``k``-th loop: clocks + k × period, counters on."""
        if k == 0:
            return self.data
        b = bytearray(self.data)
        shift = k * self.period
        for at in self.pts:
            write_pts(b, at, read_pts(b, at) + shift)
        for at in self.pcr:
            write_pcr_base(b, at, read_pcr_base(b, at) + shift)
        moved = {pid: (k * step) % 16 for pid, step in self.cc_step.items() if (k * step) % 16}
        if moved:
            for i in range(0, len(b), PACKET):
                d = moved.get(((b[i + 1] & 0x1F) << 8) | b[i + 2])
                if d:
                    b[i + 3] = (b[i + 3] & 0xF0) | (((b[i + 3] & 0x0F) + d) & 0x0F)
        return bytes(b)

    def chunks(self) -> Iterator[tuple[float, bytes]]:
        """``(seconds from the start, bytes)`` forever, packets due within ``CHUNK_S``
        of a chunk's first sent with it."""
        span = self.period / CLOCK
        count = len(self.due)
        k = 0
        while True:
            data = self.loop(k)
            i = 0
            while i < count:
                t = self.due[i]
                j = i + 1
                while j < count and self.due[j] < t + CHUNK_S:
                    j += 1
                yield k * span + t, data[i * PACKET : j * PACKET]
                i = j
            k += 1


async def ensure_ts(clip: Path, ffmpeg: str, **child: Any) -> Path:
    """The clip remuxed to MPEG-TS beside it (once; later calls find it on disk)."""
    out = clip.with_suffix(".ts")
    if out.exists():
        return out
    tmp = paths.temp_beside(out)
    proc = await asyncio.create_subprocess_exec(
        ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-i", str(clip), "-c", "copy", "-an",
        "-f", "mpegts", "-muxdelay", "0", str(tmp),
        stderr=asyncio.subprocess.PIPE, **child,
    )  # fmt: skip
    _, err = await proc.communicate()
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"ffmpeg could not remux {clip.name}: {err.decode(errors='replace')[-300:]}")
    tmp.replace(out)
    return out
