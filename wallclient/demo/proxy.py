"""A fault-injecting TCP proxy for loopback tests of hostile networks (issue 7).

Between the wall client and the backend it forwards bytes both ways and, on command,
misbehaves the way shared centre networks do:

- ``latency``: each chunk is held back ``delay_s`` before it is forwarded;
- ``stall``: nothing is forwarded (either way) until the mode changes — the connection
  stays open and silent;
- ``half_open``: like stall, and the proxy never closes anything: the far side is gone
  without a FIN (a dead NAT entry, a cut cable behind a switch);
- ``reset``: every open connection is cut with a TCP RST after forwarding part of the
  next chunk (mid-frame);
- ``blackhole``: new connections are accepted and never answered (no upstream);
- ``pass``: normal forwarding.

It runs its own asyncio loop on a thread, so blocking test code can steer it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from typing import Any

MODES = ("pass", "latency", "stall", "half_open", "reset", "blackhole")


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.mode = "pass"
        self.delay_s = 0.2
        self.port = 0
        self.connections = 0  # accepted so far
        self.resets = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter | None]] = set()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fault-proxy", daemon=True
        )
        self._resume = asyncio.Event()

    # --- life -------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        self.port = fut.result(10)
        return self

    async def _start(self) -> int:
        self._resume = asyncio.Event()
        self._resume.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    def stop(self) -> None:
        async def go() -> None:
            if self._server is not None:
                self._server.close()
            for down, up in list(self._pairs):
                _abort(down)
                if up is not None:
                    _abort(up)

        asyncio.run_coroutine_threadsafe(go(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def set(self, mode: str, delay_s: float | None = None) -> None:
        """Change how the proxy behaves from now on."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")

        def apply() -> None:
            self.mode = mode
            if delay_s is not None:
                self.delay_s = delay_s
            if mode in ("stall", "half_open"):
                self._resume.clear()
            else:
                self._resume.set()

        self._loop.call_soon_threadsafe(apply)

    def cut(self) -> None:
        """Cut every open connection now, with a TCP RST."""

        def go() -> None:
            for down, up in list(self._pairs):
                _abort(down)
                if up is not None:
                    _abort(up)
            self._pairs.clear()

        self._loop.call_soon_threadsafe(go)

    # --- forwarding -------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.mode == "blackhole":
            self._pairs.add((writer, None))
            return  # accepted, never answered, never closed
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            _abort(writer)
            return
        pair = (writer, up_writer)
        self._pairs.add(pair)
        await asyncio.gather(self._pump(reader, up_writer, writer), self._pump(up_reader, writer, up_writer),
                             return_exceptions=True)  # fmt: skip
        self._pairs.discard(pair)

    async def _pump(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, other: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                data = await src.read(65536)
                if not data:
                    break
                await self._resume.wait()
                if self.mode == "latency":
                    await asyncio.sleep(self.delay_s)
                if self.mode == "reset":
                    dst.write(data[: max(1, len(data) // 2)])  # part of a frame, then RST
                    with contextlib.suppress(OSError):
                        await dst.drain()
                    self.resets += 1
                    _abort(dst)
                    _abort(other)
                    return
                dst.write(data)
                await dst.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            if self.mode != "half_open":
                with contextlib.suppress(OSError, RuntimeError):
                    dst.close()


def _abort(writer: Any) -> None:
    """Close with a TCP RST (SO_LINGER 0), not a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport = writer.transport
    with contextlib.suppress(OSError, RuntimeError):
        transport.abort()
