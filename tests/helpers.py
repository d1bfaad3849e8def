"""Shared test helpers: waiting for conditions (never for fixed times), processes, ports."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from websockets.asyncio.client import connect

from wallclient.demo.media import CHILD
from wallclient.replay import rfc3339

SCALE = float(os.environ.get("WALLCLIENT_TEST_TIMEOUT_SCALE", "1"))


def timeout(seconds: float) -> float:
    """A timeout scaled for slow machines (WALLCLIENT_TEST_TIMEOUT_SCALE)."""
    return seconds * SCALE


def _poll(cond: Callable[[], Any], deadline: float, seconds: float, what: str) -> Any:
    """``cond()`` if truthy, else None; AssertionError once ``deadline`` has passed."""
    value = cond()
    if value:
        return value
    if time.monotonic() > deadline:
        raise AssertionError(f"timed out after {timeout(seconds):g}s waiting for {what}")
    return None


def wait_for(cond: Callable[[], Any], seconds: float = 10, what: str = "condition") -> Any:
    """Poll ``cond`` until truthy; fail with ``what`` after the (scaled) timeout."""
    deadline = time.monotonic() + timeout(seconds)
    while (value := _poll(cond, deadline, seconds, what)) is None:
        time.sleep(0.05)
    return value


async def async_wait_for(
    cond: Callable[[], Any], seconds: float = 10, what: str = "condition"
) -> Any:
    """``wait_for`` inside a running event loop."""
    deadline = time.monotonic() + timeout(seconds)
    while (value := _poll(cond, deadline, seconds, what)) is None:
        await asyncio.sleep(0.02)
    return value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DemoServer:
    """``wallclient serve-demo`` as a real process, on ports it picks itself."""

    def __init__(self, tmp: Path, *args: str, state: bool = True, record: bool = False,
                 units: int = 0) -> None:  # fmt: skip
        self.tmp = tmp
        # the recorder (ffmpeg per camera watched) only where a test looks back in time;
        # units (a batch of positions every 2 s) only where a test watches them move
        rec = ["--record-dir", str(tmp / "recordings"), "--playback-port", "0"]
        self.args = list(args) + (rec if record else ["--no-record"]) + ["--units", str(units)]
        self.state_file = tmp / "backend-state.json" if state else None
        self.tokens = tmp / "tokens"
        self.tokens.write_text(
            "tok-viewer viewer 值班员\ntok-commander commander 指挥长\ntok-installer installer 实施\n"
            "tok-admin admin admin\n",
            encoding="utf-8",
        )
        self.proc: subprocess.Popen[str] | None = None
        self.ready: dict[str, Any] = {}
        self.port: int | None = None
        self.nice = 0  # > 0: the backend, its cameras and recorder yield the CPU (benches)

    def start(self) -> DemoServer:
        args = [sys.executable, "-m", "wallclient", "serve-demo", "--tokens", str(self.tokens),
                "--port", str(self.port or 0), "--media-port", "0", "--rtsp-port", "0",
                "--clip-dir", str(clip_dir()), *self.args]  # fmt: skip
        if self.state_file is not None:
            args += ["--state", str(self.state_file)]
        if self.nice:
            args = ["nice", "-n", str(self.nice), *args]
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=open(self.tmp / "server.log", "a"),  # noqa: SIM115
            text=True,
            **CHILD,  # dies with the test or benchmark, even a crashed one
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(
                "serve-demo did not start: " + (self.tmp / "server.log").read_text()[-2000:]
            )
        self.ready = json.loads(line)
        self.port = self.ready["port"]  # a restart comes back on the same port, as a backend would
        return self

    @property
    def url(self) -> str:
        return self.ready["ws"]

    def stop(self, kill: bool = False) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill() if kill else self.proc.terminate()
            self.proc.wait(timeout(20))
        self.proc = None

    def admin(self, cmd: str, **args: Any) -> Any:
        async def go() -> Any:
            async with connect(
                self.url.replace("/wall/v1", "/admin"),
                additional_headers={"Authorization": "Bearer tok-admin"},
                max_size=None,
            ) as ws:
                await ws.send(json.dumps({"id": "1", "cmd": cmd, "args": args}))
                reply = json.loads(await ws.recv())
                assert reply["ok"], reply
                return reply["data"]

        return run_apart(go())


def run_apart(coro: Any) -> Any:
    """Run a coroutine to its end from synchronous code — on a thread of its own, so that
    callers inside a running loop (benches, Playwright's sync API) can use it too."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def h264_ts(path: Path, size: str, seconds: int = 20) -> str:
    """A test-pattern H.264 clip in MPEG-TS (1-s GOP) at ``path``, made by a real ffmpeg."""
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
                    f"testsrc=size={size}:rate=25", "-t", str(seconds), "-c:v", "libx264", "-g", "25",
                    "-pix_fmt", "yuv420p", "-f", "mpegts", str(path)], check=True)  # fmt: skip
    return str(path)


def clip_dir() -> Path:
    """Clips are made once per machine and shared by every test run."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "wallclient" / "test-clips"


def run_cli(*args: str, check: bool = False, **kw: Any) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "wallclient", *args],
        capture_output=True,
        text=True,
        timeout=timeout(60),
        **kw,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"wallclient {' '.join(args)} failed: {proc.stderr[-2000:]}")
    return proc


def cache_view(path: Path) -> dict[str, Any]:
    out = run_cli("cache", "show", "--cache", str(path), "--json", check=True)
    return dict(json.loads(out.stdout))


class Control:
    """A client of a running wallclient's control API (docs/control-api.md)."""

    def __init__(self, port: int, token: str) -> None:
        self.url = f"ws://127.0.0.1:{port}/control"
        self.token = token

    def __call__(self, cmd: str, **args: Any) -> dict[str, Any]:
        async def go() -> dict[str, Any]:
            async with connect(
                self.url, additional_headers={"Authorization": f"Bearer {self.token}"}
            ) as ws:
                await ws.send(json.dumps({"id": "t", "cmd": cmd, "args": args}))
                return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout(30))))

        return dict(run_apart(go()))

    def ok(self, cmd: str, **args: Any) -> Any:
        reply = self(cmd, **args)
        assert reply["ok"], reply
        return reply["data"]

    def reachable(self) -> bool:
        try:
            self("status")
            return True
        except OSError:
            return False


class WallProcess:
    """``wallclient run`` as a real process, observed through its control API."""

    def __init__(self, tmp: Path, server_url: str, token: str = "tok-commander", *extra: str,
                 cache: Path | None = None, node: str = "node-1", headless: bool = False,
                 display: str | None = None) -> None:  # fmt: skip
        self.tmp = tmp
        self.cache = cache or tmp / f"{node}.sqlite"
        self.token_file = tmp / f"{node}.token"
        self.token_file.write_text(token + "\n", encoding="utf-8")
        self.token_file.chmod(0o600)
        self.control_token = tmp / "control.token"
        self.control_token.write_text("ctl-secret\n", encoding="utf-8")
        self.control_token.chmod(0o600)
        self.port = free_port()
        self.log = tmp / f"{node}.log"
        self.args = [sys.executable, "-m", "wallclient", "run", "--server", server_url,
                     "--token-file", str(self.token_file), "--cache", str(self.cache), "--wall", "wall-1",
                     "--node", node, "--control-port", str(self.port),
                     "--control-token-file", str(self.control_token), *extra]  # fmt: skip
        # on a real X server (``display``, e.g. from start_xvfb), else offscreen
        self.env = None
        if display is not None:
            self.env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
        else:
            self.args.append("--headless" if headless else "--offscreen")
        self.control = Control(self.port, "ctl-secret")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait: bool = True) -> WallProcess:
        self.proc = subprocess.Popen(
            self.args,
            stdout=subprocess.DEVNULL,
            stderr=open(self.log, "ab"),  # noqa: SIM115
            env=self.env,
            **CHILD,
        )
        if wait:
            wait_for(
                lambda: self.proc.poll() is not None or self.control.reachable(), 30, "control API"
            )
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
        return self

    def status(self) -> dict[str, Any]:
        return dict(self.control.ok("status"))

    def conn(self) -> dict[str, Any]:
        return dict(self.status()["connection"])

    def stop(self, kill: bool = False) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill() if kill else self.proc.terminate()
            self.proc.wait(timeout(30))
        self.proc = None


@contextlib.asynccontextmanager
async def feed_client(
    url: str, cache: Path, token: str = "tok-commander", last_seq: int | None = None
) -> AsyncIterator[tuple[Any, Any, Any]]:
    """The client's data spine (Session → WallState → CacheWriter) in this process."""
    from wallclient.edges.cache import Cache, CacheWriter
    from wallclient.edges.feed import Feed
    from wallclient.session import Session
    from wallclient.state import WallState

    state = WallState("wall-1")
    writer = CacheWriter(Cache(cache).open())
    writer.start()
    session = Session(
        wall="wall-1", node="n1", scope={"level": "district", "code": "310114"}, last_seq=last_seq
    )
    feed = Feed(url=url, token=token, session=session, state=state, writer=writer)
    task = asyncio.create_task(feed.run())
    try:
        yield feed, state, writer
    finally:
        feed.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        writer.stop()


def http(url: str, token: str | None = "tok-viewer") -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout(10)) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def recorded(server: DemoServer, cam: str, seconds: float) -> list[dict]:
    """Wait until ``cam`` has ``seconds`` of recording; its spans."""
    base = server.ready["playback"]

    def enough() -> list[dict] | None:
        now = time.time()
        code, _, body = http(f"{base}/list?path={cam}&start={quote(rfc3339(now - 3600))}"
                             f"&end={quote(rfc3339(now))}")  # fmt: skip
        spans = json.loads(body) if code == 200 else []
        return spans if spans and sum(s["duration"] for s in spans) >= seconds else None

    return wait_for(enough, timeout(seconds + 30), f"{seconds} s of {cam} recorded")


def write_layout(tmp: Path, layout: dict[str, Any], name: str = "layout.json") -> Path:
    """A layout dict as a file the wall can be pointed at."""
    path = tmp / name
    path.write_text(json.dumps(layout, ensure_ascii=False), encoding="utf-8")
    return path


@contextlib.contextmanager
def live(*walls: WallProcess, seconds: float = 30) -> Iterator[tuple[WallProcess, ...]]:
    """Start ``walls``, wait until each is live; stop them all on the way out."""
    try:
        for w in walls:
            w.start()
        for w in walls:
            wait_for(
                lambda w=w: w.conn()["state"] == "live", timeout(seconds), f"{w.log.stem} live"
            )
        yield walls
    finally:
        for w in walls:
            w.stop()


def start_xvfb(tmp: Path, size: str = "1920x1080") -> tuple[subprocess.Popen[bytes], str]:
    """A real X server of our own (Xvfb) on a free display: (process, ":N"). It tells
    its display number once it is ready (-displayfd), so no waiting by guesswork."""
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{size}x24", "-nolisten", "tcp",
         "-auth", str(tmp / "xauth-none")],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=open(tmp / "xvfb.log", "ab"),  # noqa: SIM115
        **CHILD,
    )  # fmt: skip
    os.close(write)
    with os.fdopen(read) as f:
        number = f.readline().strip()
    if not number:
        proc.kill()
        raise AssertionError("Xvfb did not start: " + (tmp / "xvfb.log").read_text()[-2000:])
    return proc, f":{number}"
