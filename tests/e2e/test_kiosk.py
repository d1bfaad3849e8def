"""Kiosk operation: doctor's checks with their fixes, a supervisor that restarts a hung or
dead wall, screens kept awake (X11, on a real Xvfb), the systemd unit and autostart file."""

import configparser
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import DemoServer, WallProcess, run_cli, timeout, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _doctor(*args, env=None):
    out = run_cli("doctor", "--json", *args, env=env)
    return out.returncode, {c["check"]: c for c in json.loads(out.stdout)}


def test_doctor_checks_the_backend_token_clock_cache_and_files(tmp_path):
    server = DemoServer(tmp_path, "--no-media").start()
    try:
        token = tmp_path / "token"
        token.write_text("tok-viewer\n")
        token.chmod(0o600)
        code, checks = _doctor("--server", server.url, "--token-file", str(token),
                               "--cache", str(tmp_path / "none.sqlite"))  # fmt: skip
        assert checks["backend"]["ok"] and "viewer" in checks["backend"]["detail"]
        assert checks["clock"]["ok"] and re.search(r"[+-]\d+\.\d\d s", checks["clock"]["detail"])
        assert (
            checks["fonts (Chinese)"]["ok"] and checks["token file"]["ok"] and checks["cache"]["ok"]
        )
        # a wrong token, a token file others can read, a broken cache: each failed with a fix
        token.write_text("tok-wrong\n")
        token.chmod(0o644)
        broken = tmp_path / "broken.sqlite"
        broken.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
        code, checks = _doctor(
            "--server", server.url, "--token-file", str(token), "--cache", str(broken)
        )
        assert code == 1
        for name in ("backend", "token file", "cache"):
            assert not checks[name]["ok"] and checks[name]["fix"], checks[name]
        assert "401" in checks["backend"]["detail"] and "chmod 600" in checks["token file"]["fix"]
    finally:
        server.stop()
    # nothing listening: said, with a fix
    code, checks = _doctor("--server", "ws://127.0.0.1:9/wall/v1", "--token-file", str(token))
    assert code == 1 and not checks["backend"]["ok"] and checks["backend"]["fix"]


def _started(proc, seen):
    """The pids the supervisor says it started, read from its output as they come."""
    line = proc.stdout.readline()
    m = re.search(r"started pid (\d+)", line)
    if m:
        seen.append(int(m.group(1)))
    return line


def test_supervise_restarts_a_hung_and_a_dead_wall(tmp_path):
    server = DemoServer(tmp_path, "--no-media").start()
    wall = WallProcess(tmp_path, server.url, "tok-viewer", "--layout", "layouts/street-4k.json")
    argv = wall.args[wall.args.index("run") :]
    sup = subprocess.Popen([sys.executable, "-m", "wallclient", "supervise", "--watchdog", "4", "--backoff", "0.5",
                            "--", *argv], stdout=subprocess.PIPE, stderr=open(tmp_path / "sup.log", "w"), text=True)  # noqa: SIM115  # fmt: skip
    pids: list[int] = []
    try:
        while not pids:
            _started(sup, pids)
        wait_for(lambda: wall.control.reachable(), timeout(30), "the wall under the supervisor")
        wait_for(lambda: wall.conn()["state"] == "live", timeout(30), "live")
        os.kill(pids[0], signal.SIGSTOP)  # hung: alive, but its GUI no longer beats
        hung_at = time.monotonic()
        while len(pids) < 2:
            line = _started(sup, pids)
            assert "hung" in line or "started" in line or line, "supervisor gone"
        assert time.monotonic() - hung_at < 4 + 6
        wait_for(
            lambda: wall.control.reachable() and wall.conn()["state"] == "live",
            timeout(40),
            "restarted",
        )
        assert (
            not Path(f"/proc/{pids[0]}").exists()
            or "Z" in Path(f"/proc/{pids[0]}/stat").read_text().split()[2]
        )
        os.kill(pids[1], signal.SIGKILL)  # dead
        while len(pids) < 3:
            _started(sup, pids)
        wait_for(lambda: wall.control.reachable(), timeout(40), "restarted after a kill")
    finally:
        sup.terminate()
        sup.wait(timeout(30))
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        server.stop()
    assert not any(
        Path(f"/proc/{pid}/cmdline").exists() and Path(f"/proc/{pid}/cmdline").read_bytes()
        for pid in pids
    )  # fmt: skip  -- no wall left behind


def test_screens_kept_awake_on_x11_and_given_back(tmp_path):
    """Xvfb ignores screen-saver settings (xset q reports its defaults whatever is set),
    so the X server here is stood in for by an ``xset`` that keeps its state in a file:
    this proves which settings the wall changes and that it gives them back."""
    state = tmp_path / "xstate.json"
    state.write_text(json.dumps({"timeout": 600, "dpms": True}))
    fake = tmp_path / "bin" / "xset"
    fake.parent.mkdir()
    fake.write_text(f"""#!{sys.executable}
import json, sys
p = {str(state)!r}
st = json.load(open(p))
a = sys.argv[1:]
if a == ["q"]:
    print("Screen Saver:\\n  timeout:  %d    cycle:  600" % st["timeout"])
    print("DPMS is Enabled" if st["dpms"] else "DPMS is Disabled")
elif a == ["s", "off"]: st["timeout"] = 0
elif a == ["s", "on"]: st["timeout"] = 600
elif a == ["-dpms"]: st["dpms"] = False
elif a == ["+dpms"]: st["dpms"] = True
json.dump(st, open(p, "w"))
""")
    fake.chmod(0o755)
    env = dict(os.environ, DISPLAY=":0", PATH=f"{fake.parent}:{os.environ['PATH']}")
    code = (
        "from wallclient.edges.kiosk import keep_awake, xset_state\n"
        "before = xset_state(); undo = keep_awake(); during = xset_state(); undo()\n"
        "print(__import__('json').dumps([before, during, xset_state()]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    before, during, after = json.loads(out.stdout.strip().splitlines()[-1])
    assert before == {"screensaver": True, "dpms": True}
    assert during == {"screensaver": False, "dpms": False}
    assert after == before


def test_the_systemd_unit_and_the_autostart_file_are_valid(tmp_path):
    unit = (ROOT / "resources/systemd/wallclient.service").read_text()
    exe = shutil.which("wallclient", path=str(Path(sys.executable).parent)) or sys.executable
    local = tmp_path / "wallclient.service"
    local.write_text(unit.replace("%h/.local/bin/wallclient", exe))
    parsed = configparser.ConfigParser(strict=False, interpolation=None)
    parsed.read_string(unit)
    svc = parsed["Service"]
    assert svc["Type"] == "notify" and svc["Restart"] == "always" and int(svc["WatchdogSec"]) > 0
    assert "MALLOC_ARENA_MAX=2" in svc["Environment"] and "--kiosk" in svc["ExecStart"]
    if shutil.which("systemd-analyze"):  # the real checker, where the machine has systemd
        out = subprocess.run(
            ["systemd-analyze", "verify", str(local)], capture_output=True, text=True
        )
        assert out.returncode == 0 and not out.stderr.strip(), out.stderr
    desktop = configparser.ConfigParser(interpolation=None)
    desktop.optionxform = str
    desktop.read(ROOT / "resources/autostart/wallclient.desktop")
    entry = desktop["Desktop Entry"]
    assert (
        entry["Type"] == "Application"
        and "supervise" in entry["Exec"]
        and "--kiosk" in entry["Exec"]
    )
