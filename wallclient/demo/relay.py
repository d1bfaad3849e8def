"""A real media relay on loopback for the deployment demo and tests: Node-Media-Server
(installed from the npm registry by `make`, into .cache/relay) running
resources/relay/relay.js. It knows every camera's own URL and pulls a camera (the
server's own relay session: ffmpeg, RTSP over TCP in, RTMP out, no re-encoding) only
while some wall watches it, letting go ``linger_s`` after the last viewer leaves. Each
camera is pulled once, however many walls watch it; every wall PC plays it from the relay:

- ``rtmp://127.0.0.1:<rtmp_port>/live/<camera>``
- ``http://127.0.0.1:<http_port>/live/<camera>.flv`` (HTTP-FLV)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RELAY_DIR = ROOT / ".cache" / "relay"
SCRIPT = ROOT / "resources" / "relay" / "relay.js"


def available() -> str | None:
    """Why the relay cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed (make installs nodejs)"
    if not (RELAY_DIR / "node_modules" / "node-media-server").is_dir():
        return f"node-media-server is not installed in {RELAY_DIR} (make installs it)"
    if shutil.which("ffmpeg") is None:
        return "ffmpeg is not installed"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


LINGER_S = 10.0  # a camera stays pulled this long after its last viewer (a tour coming back)


class Relay:
    def __init__(self, cameras: dict[str, str], linger_s: float = LINGER_S) -> None:
        self.cameras = cameras  # camera id → the camera's own URL (pulled while watched)
        self.linger_s = linger_s
        self.rtmp_port = _free_port()
        self.http_port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.dir = Path(tempfile.mkdtemp(prefix="wallclient-relay-"))

    def start(self, wait_s: float = 20.0) -> Relay:
        why = available()
        if why is not None:
            raise RuntimeError(why)
        conf = self.dir / "relay.json"
        conf.write_text(json.dumps({"rtmp_port": self.rtmp_port, "http_port": self.http_port,
                                    "ffmpeg": shutil.which("ffmpeg"), "linger_s": self.linger_s,
                                    "sources": self.cameras}))  # fmt: skip
        env = dict(os.environ, NODE_PATH=str(RELAY_DIR / "node_modules"))
        with open(self.dir / "relay.log", "wb") as out:  # its pulls, started and ended
            self.proc = subprocess.Popen(["node", str(SCRIPT), str(conf)], env=env, cwd=self.dir,
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        try:
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", self.rtmp_port), 0.5),
                ):
                    return self
                if self.proc.poll() is not None:
                    break
                time.sleep(0.2)
        except BaseException:  # interrupted while starting: leave no relay or puller behind
            self.stop()
            raise
        self.stop()
        raise RuntimeError(
            "the relay did not start: " + (self.dir / "relay.log").read_text()[-1500:]
        )

    def pulls(self) -> dict[str, int]:
        """How many pulls the relay started and ended so far (its log)."""
        out = {"start": 0, "end": 0}
        with contextlib.suppress(OSError):
            for line in (self.dir / "relay.log").read_text(errors="replace").splitlines():
                with contextlib.suppress(ValueError, AttributeError):
                    kind = json.loads(line).get("pull")
                    if kind in out:
                        out[kind] += 1
        return out

    def flv(self, camera: str) -> str:
        return f"http://127.0.0.1:{self.http_port}/live/{camera}.flv"

    def rtmp(self, camera: str) -> str:
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live/{camera}"

    def stop(self) -> None:
        """The relay and its pulls (its process group)."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # any pull left behind
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)
