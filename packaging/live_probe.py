"""Start a wall and say how long it took until its control API reports the backend live.

    python live_probe.py --control-port P --control-token-file F [--timeout 10] -- CMD…

CMD is started as given (it must serve the control API on P with the token in F); the
probe asks ``status`` every 50 ms, prints ``{"live_s": …}`` (seconds from the start of CMD
to ``connection.state == "live"``, or null) as JSON, then stops CMD (SIGTERM) and waits for
it. The same probe times the installed product and the checkout (make package-test).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from websockets.exceptions import WebSocketException

from wallclient.edges.control import call


async def wait_live(
    port: int, token: str, started: float, timeout: float, proc: subprocess.Popen[bytes]
) -> float | None:
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            return None
        try:
            reply = await call(port, token, "status", {})
        except (OSError, TimeoutError, WebSocketException):
            reply = {}  # not listening yet
        if (reply.get("data") or {}).get("connection", {}).get("state") == "live":
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    return None


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--control-port", type=int, required=True)
    p.add_argument("--control-token-file", type=Path, required=True)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    a = p.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    token = a.control_token_file.read_text(encoding="utf-8").strip()
    started = time.monotonic()
    proc = subprocess.Popen(cmd)
    try:
        live = asyncio.run(wait_live(a.control_port, token, started, a.timeout, proc))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    print(json.dumps({"live_s": None if live is None else round(live, 3), "exit": proc.returncode}))
    return 0 if live is not None else 1


if __name__ == "__main__":
    sys.exit(main())
