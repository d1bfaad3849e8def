"""The local control API (docs/control-api.md): a WebSocket on loopback only.

Requests ``{"id", "cmd", "args"}`` are dispatched to handlers the composition
root registers; replies are ``{"id", "ok", "data"}`` or ``{"id", "ok": false,
"error": {"code", "message"}}``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from wallclient.errors import CommandError

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[Any]]
LOOPBACK = "127.0.0.1"


class ControlServer:
    """Serves the control API for one running client."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self._token = token
        self.handlers: dict[str, Handler] = {}
        self.server: Server | None = None

    def register(self, cmd: str, handler: Handler) -> None:
        self.handlers[cmd] = handler

    def _process(self, conn: ServerConnection, request: Request) -> Response | None:
        if request.path.split("?", 1)[0] != "/control":
            return conn.respond(HTTPStatus.NOT_FOUND, "no such path\n")
        if request.headers.get("Origin") is not None:
            # a browser's page (any page, on this PC or driven from afar) never drives the
            # wall: programs on this PC do, and they send no Origin (docs/tablet.md)
            log.warning("control API: a browser's connection refused (Origin given)")
            return conn.respond(HTTPStatus.FORBIDDEN, "no browser pages here\n")
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header.startswith("Bearer ") else ""
        if not given or not hmac.compare_digest(given.encode(), self._token.encode()):
            return conn.respond(HTTPStatus.UNAUTHORIZED, "bad or missing bearer token\n")
        return None

    async def _serve(self, ws: ServerConnection) -> None:
        try:
            async for frame in ws:
                await ws.send(json.dumps(await self._dispatch(frame), ensure_ascii=False))
        except ConnectionClosed:
            pass

    async def _dispatch(self, frame: str | bytes) -> dict[str, Any]:
        try:
            req = json.loads(frame)
            if not isinstance(req, dict):
                raise ValueError("request must be an object")
        except ValueError as exc:
            return {"id": None, "ok": False, "error": {"code": "bad_request", "message": str(exc)}}
        rid = req.get("id")
        cmd = req.get("cmd")
        args = req.get("args") or {}
        handler = self.handlers.get(cmd) if isinstance(cmd, str) else None
        if handler is None or not isinstance(args, dict):
            msg = f"unknown command {cmd!r}" if handler is None else "args must be an object"
            return {"id": rid, "ok": False, "error": {"code": "bad_request", "message": msg}}
        try:
            return {"id": rid, "ok": True, "data": await handler(args)}
        except CommandError as exc:
            return {"id": rid, "ok": False, "error": {"code": exc.code, "message": exc.message}}
        except (KeyError, TypeError, ValueError) as exc:
            return {"id": rid, "ok": False, "error": {"code": "bad_request", "message": str(exc)}}
        except Exception as exc:
            log.exception("control command %s failed", cmd)
            return {"id": rid, "ok": False, "error": {"code": "internal", "message": str(exc)}}

    async def start(self) -> int:
        self.server = await serve(self._serve, LOOPBACK, self.port, process_request=self._process)
        self.port = int(next(iter(self.server.sockets)).getsockname()[1])
        log.info("control API on ws://%s:%d/control", LOOPBACK, self.port)
        return self.port

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def call(port: int, token: str, cmd: str, args: dict[str, Any]) -> dict[str, Any]:
    """One command to a running wall's control API, as a program on this PC sends it
    (``doctor``, ``tablet pair``): its whole reply."""
    from websockets.asyncio.client import connect

    async with connect(f"ws://{LOOPBACK}:{port}/control", open_timeout=5,
                       additional_headers={"Authorization": f"Bearer {token}"}) as ws:  # fmt: skip
        await ws.send(json.dumps({"id": "cli", "cmd": cmd, "args": args}))
        async with asyncio.timeout(10):
            reply: dict[str, Any] = json.loads(await ws.recv())
    return reply
