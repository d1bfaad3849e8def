"""Security, as an attacker on the same network or the same machine would try it:
wss:// verified against the configured CA (a wrong CA fails), the control API on
loopback with a token, secrets never in logs or status, private files, a warning for a
token file others can read."""

import json
import os
import stat
import subprocess

import pytest
from websockets.exceptions import InvalidStatus

from tests.helpers import Control, DemoServer, WallProcess, timeout, wait_for


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A local CA, a server certificate it signed (127.0.0.1, localhost), and a stranger CA."""
    d = tmp_path_factory.mktemp("pki")
    for ca in ("ca", "other-ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN=wallclient test {ca}",
                 "-keyout", f"{ca}.key", "-out", f"{ca}.pem", cwd=d)  # fmt: skip
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
             "-out", "server.csr", cwd=d)  # fmt: skip
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem", cwd=d)  # fmt: skip
    return d


def test_wss_is_verified_against_the_configured_ca(tmp_path, pki):
    server = DemoServer(tmp_path, "--no-media", "--tls-cert", str(pki / "server.pem"),
                        "--tls-key", str(pki / "server.key")).start()  # fmt: skip
    assert server.url.startswith("wss://")
    good = WallProcess(tmp_path, server.url, "tok-viewer", "--ca-file", str(pki / "ca.pem"),
                       node="good", headless=True)  # fmt: skip
    wrong = WallProcess(tmp_path, server.url, "tok-viewer", "--ca-file", str(pki / "other-ca.pem"),
                        node="wrong", headless=True)  # fmt: skip
    system = WallProcess(tmp_path, server.url, "tok-viewer", node="system", headless=True)
    try:
        for w in (good, wrong, system):
            w.start()
        wait_for(
            lambda: good.conn()["state"] == "live", timeout(30), "live over wss with the right CA"
        )
        for w in (wrong, system):  # a certificate from a CA we were not told to trust
            wait_for(
                lambda w=w: "certificate" in (w.conn()["error"] or "").lower(),
                timeout(20),
                "refused",
            )
            assert w.conn()["state"] == "offline" and w.conn()["last_seq"] is None
    finally:
        for w in (good, wrong, system):
            w.stop()
        server.stop()


def _listening_addresses(port):
    """Local addresses listening on ``port`` (from /proc/net/tcp and tcp6)."""
    out = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                addr, p = local.split(":")
                if int(p, 16) == port and state == "0A":
                    out.add(addr)
    return out


def test_control_api_loopback_token_and_no_secrets_in_logs_status_or_files(tmp_path):
    server = DemoServer(tmp_path).start()
    log_dir = tmp_path / "logs"
    wall = WallProcess(tmp_path, server.url, "tok-commander", "--layout", "layouts/desk-dual.json",
                       "--log-dir", str(log_dir))  # fmt: skip
    wall.token_file.chmod(0o644)  # others can read the token: the wall says so
    try:
        wall.start()
        wait_for(lambda: wall.conn()["state"] == "live", timeout(30))
        # loopback only: 127.0.0.1, nothing else
        assert _listening_addresses(wall.port) == {"0100007F"}
        # no token, a wrong token: HTTP 401
        for token in ("", "ctl-wrong"):
            with pytest.raises(InvalidStatus) as exc:
                Control(wall.port, token)("status")
            assert exc.value.response.status_code == 401
        # a full run: video playing, a switch, a snapshot, a focus
        wait_for(
            lambda: any(t["state"] == "playing" for t in wall.status()["tiles"]),
            timeout(40),
            "video",
        )
        presets = [p["id"] for p in server.admin("state")["presets"]]
        wall.control.ok("preset.activate", preset=presets[3])
        wall.control.ok("snapshot", dir=str(tmp_path / "shots"))
        status = json.dumps(wall.status(), ensure_ascii=False)
    finally:
        wall.stop()
        server.stop()
    logs = wall.log.read_text() + "".join(p.read_text() for p in log_dir.glob("wallclient.log*"))
    assert "readable by other users" in logs
    secrets = ("tok-commander", "ctl-secret", "Demo-2026", "admin:")  # tokens, stream credentials
    for secret in secrets:
        assert secret not in logs, secret
        assert secret not in status, secret
    # private files: the cache and the log 0600, the log directory 0700
    for path, mode in ((wall.cache, 0o600), (log_dir / "wallclient.log", 0o600), (log_dir, 0o700)):
        assert stat.S_IMODE(os.stat(path).st_mode) == mode, path
