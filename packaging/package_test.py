"""``make package-test``: the offline bundle on fresh machines with the network cut.

For each release the bundle carries (Debian 12 and 13): a copy of a pristine
``debootstrap --variant=minbase`` system, the bundle copied in as from a USB stick, and a
network namespace with only ``lo`` (brought up) — proved cut before anything is installed.
Inside it, as an installer and the wall would: install.sh; ``ldd`` of every shared object
of the product; ``wallclient doctor --json``; ``layout preview`` (compared pixel by pixel
with the checkout's: the Chinese text must be there); ``wallclient serve-demo`` and
``wallclient run --headless`` from the installed product, live within 10 s; the full wall
offscreen, its start to live timed against the checkout's; ``wallclient demo``; an upgrade
to VERSION+1 keeping an edited wall.toml and the cache, a downgrade back, a purge that
keeps /var/lib/wallclient. Results: out/package-test/<release>.json.

    python packaging/package_test.py [--releases bookworm,trixie] [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import offline  # noqa: E402  (packaging/ is a folder of scripts, not a package)

ROOT = offline.ROOT
DIST = ROOT / "dist"
OUT = ROOT / "out" / "package-test"
LAYOUT = "/usr/share/wallclient/layouts/district-3x2.json"
TOKENS = "demo-commander commander 指挥长\ndemo-admin admin admin\n"
# doctor's checks that a machine with no display fails by nature (and nothing else may)
NO_DISPLAY = {"screens", "screen blanking"}


class Failed(Exception):
    pass


def expect(ok: bool, what: str) -> None:
    if not ok:
        raise Failed(what)
    print(f"  ok  {what}", flush=True)


class Machine:
    """A fresh minbase system of one release, in its own network and mount namespaces
    (a ``sleep`` holds them; every command enters them with nsenter, then chroots)."""

    def __init__(self, release: str, work: Path) -> None:
        self.release = release
        self.root = work / "root"
        offline.copy_tree(offline.rootfs(release), self.root)
        # the holder sets its own namespaces up and says so: nothing enters them before
        # lo is up and the system's /proc, /sys and /dev are mounted inside them
        r = shlex.quote(str(self.root))
        setup = (f"ip link set lo up && mount -t proc proc {r}/proc && mount -t sysfs sys {r}/sys && "
                 f"mount --rbind /dev {r}/dev && echo ready && exec sleep infinity")  # fmt: skip
        self.holder = subprocess.Popen(["unshare", "--net", "--mount", "--propagation", "private",
                                        "sh", "-c", setup], stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert self.holder.stdout is not None
        if self.holder.stdout.readline().strip() != "ready":
            self.close()
            raise Failed("the machine's namespaces could not be set up")
        self.enter = ["nsenter", "-t", str(self.holder.pid), "--net", "--mount"]

    def host(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        """A command of this machine's (the host's) tools, inside the namespaces."""
        return subprocess.run([*self.enter, *cmd], capture_output=True, text=True)

    def _inside(self, script: str, user: str | None) -> list[str]:
        """``script`` run by sh inside the system, as ``user`` (else root), with a clean
        environment: what an installer's shell on that machine would have."""
        inner = ["runuser", "-u", user, "--", "sh", "-c", script] if user else ["sh", "-c", script]
        return [*self.enter, "chroot", str(self.root), "env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                "LANG=C.UTF-8", "HOME=/root", "QT_QPA_PLATFORM=offscreen", *inner]  # fmt: skip

    def sh(
        self, script: str, timeout: float = 300, user: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """A shell script inside the system, to its end."""
        return subprocess.run(
            self._inside(script, user), capture_output=True, text=True, timeout=timeout
        )

    def popen(self, script: str, log: Path, user: str | None = None) -> subprocess.Popen[str]:
        """A process inside the system in the background, its stderr into ``log``."""
        with log.open("ab") as err:
            return subprocess.Popen(self._inside(script, user), stdout=subprocess.PIPE, stderr=err, text=True,
                                    start_new_session=True)  # fmt: skip

    def close(self) -> None:
        self.holder.kill()
        self.holder.wait()


def stop(proc: subprocess.Popen[str]) -> None:
    """Stop a process started with popen, and everything it started."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def timed(
    fn: Callable[[], subprocess.CompletedProcess[str]],
) -> tuple[subprocess.CompletedProcess[str], float]:
    t0 = time.monotonic()
    done = fn()
    return done, time.monotonic() - t0


def show(done: subprocess.CompletedProcess[str]) -> str:
    return (done.stdout[-1500:] + "\n" + done.stderr[-2500:]).strip()


# --- the steps ------------------------------------------------------------------------------


def prove_cut(m: Machine) -> None:
    links = m.host("ip", "-o", "link").stdout.split("\n")
    names = sorted(line.split(":")[1].strip() for line in links if line.strip())
    lo = m.host("ip", "-o", "-4", "addr", "show", "lo").stdout
    expect(
        names == ["lo"] and "127.0.0.1/8" in lo,
        f"the machine's network is lo alone ({names}), up, 127.0.0.1",
    )
    addr = socket.gethostbyname("deb.debian.org")
    reach = f"exec 3<>/dev/tcp/{addr}/80 && echo connected"
    on_host = subprocess.run(["bash", "-c", reach], capture_output=True, text=True, timeout=10)
    inside = m.sh(f"timeout 10 bash -c '{reach}'")
    expect("connected" in on_host.stdout and "connected" not in inside.stdout and inside.returncode != 0,
           f"deb.debian.org ({addr}) is reachable from the host and not from inside: "
           f"{(inside.stderr.strip().splitlines() or [''])[-1][-60:]}")  # fmt: skip
    expect(m.sh("getent hosts deb.debian.org").returncode != 0, "no name resolves inside")


def install(m: Machine, bundle: Path, results: dict[str, Any]) -> None:
    usb = m.root / "media/usb"
    usb.mkdir(parents=True)
    shutil.copytree(bundle, usb / "offline")
    done, secs = timed(lambda: m.sh("/media/usb/offline/install.sh", timeout=600))
    expect(
        done.returncode == 0,
        f"install.sh from the bundle alone ({secs:.0f} s)\n"
        + (show(done) if done.returncode else ""),
    )
    results["install_s"] = round(secs, 1)
    version = m.sh("dpkg-query -W -f='${Version}' wallclient").stdout
    expect(version == results["version"], f"wallclient {version} installed")
    unpacked = m.sh("du -sk /opt/wallclient").stdout.split()[0]
    results["installed_mb"] = round(int(unpacked) / 1024)


def ldd_clean(m: Machine) -> None:
    done = m.sh("find /opt/wallclient -type f \\( -name '*.so' -o -name '*.so.*' -o -path '*/bin/python3*' \\) "
                "| while read f; do ldd \"$f\" 2>&1 | grep 'not found' | sed \"s|^|$f: |\"; done; "
                "find /opt/wallclient -type f \\( -name '*.so' -o -name '*.so.*' \\) | wc -l")  # fmt: skip
    lines = done.stdout.strip().splitlines()
    missing = lines[:-1]
    expect(
        not missing and int(lines[-1]) > 100,
        f"ldd of all {lines[-1]} shared objects inside: nothing not found"
        + "".join(f"\n    {x}" for x in missing[:20]),
    )


def start_backend(m: Machine) -> tuple[subprocess.Popen[str], str]:
    (m.root / "srv/demo").mkdir(parents=True, exist_ok=True)
    (m.root / "srv/demo/tokens").write_text(TOKENS, encoding="utf-8")
    proc = m.popen("exec wallclient serve-demo --port 0 --media-port 0 --rtsp-port 0 --playback-port 0 "
                   "--tokens /srv/demo/tokens --record-dir /tmp/recordings --platform wvp",
                   m.root.parent / "backend.log")  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    expect(line.startswith("{"), "wallclient serve-demo from the installed product is up")
    return proc, json.loads(line)["ws"]


def wall_token(m: Machine) -> None:
    m.sh("printf 'demo-commander\\n' > /etc/wallclient/token && chown wallclient /etc/wallclient/token && "
         "chmod 600 /etc/wallclient/token; printf 'ctl-secret\\n' > /etc/wallclient/control-token && "
         "chown wallclient /etc/wallclient/control-token && chmod 600 /etc/wallclient/control-token")  # fmt: skip


def doctor(m: Machine, ws: str, results: dict[str, Any]) -> None:
    done, secs = timed(lambda: m.sh(f"wallclient doctor --json --server {ws} --token-file /etc/wallclient/token",
                                    user="wallclient"))  # fmt: skip
    try:
        checks = json.loads(done.stdout)
    except ValueError:
        raise Failed("doctor --json printed no JSON\n" + show(done)) from None
    failed = sorted(c["check"] for c in checks if not c["ok"])
    if set(failed) - NO_DISPLAY:  # said with what the machine's network was at that moment
        net = m.host("ip", "-o", "addr")
        print(
            f"    (network inside: {net.stdout} {net.stderr} holder alive: {m.holder.poll() is None})"
        )
    details = "".join(
        f"\n    {c['check']}: {c['detail']}"
        for c in checks
        if not c["ok"] and c["check"] not in NO_DISPLAY
    )
    expect(done.returncode in (0, 1) and set(failed) <= NO_DISPLAY and (done.returncode == 1) == bool(failed),
           f"wallclient doctor --json: exit {done.returncode}, failures {failed or 'none'} "
           f"(only what no display fails) in {secs:.1f} s" + details)  # fmt: skip
    results["doctor_s"] = round(secs, 2)


def preview(m: Machine, results: dict[str, Any]) -> None:
    done = m.sh(f"wallclient layout preview {LAYOUT} --out /tmp/preview --lang zh_CN", timeout=120)
    shots = sorted((m.root / "tmp/preview").glob("*.png"))
    expect(
        done.returncode == 0 and len(shots) == 6,
        f"layout preview wrote {len(shots)} PNGs\n" + (show(done) if done.returncode else ""),
    )
    ref = Path(tempfile.mkdtemp(prefix="preview-ref-"))
    try:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "wallclient", "layout", "preview",
                        str(ROOT / "layouts/district-3x2.json"), "--out", str(ref), "--lang", "zh_CN"],
                       check=True, capture_output=True, env=env, cwd=ROOT)  # fmt: skip
        diffs = compare(shots, sorted(ref.glob("*.png")))
    finally:
        shutil.rmtree(ref, ignore_errors=True)
    results["preview_diff"] = diffs
    expect(
        all(d["differ"] < 0.05 and d["title_differ"] < 0.02 and d["title_px"] > 200 for d in diffs),
        "every screen as the checkout draws it (< 5 % of pixels differ: live data), its Chinese titles "
        "there (< 2 % of the title band differs): "
        + ", ".join(
            f"{d['screen']} {d['differ']:.2%} / {d['title_differ']:.2%} of {d['title_px']} title px"
            for d in diffs
        ),
    )


def compare(ours: list[Path], theirs: list[Path]) -> list[dict[str, Any]]:
    """Per screen, against the checkout's rendering: the share of pixels that differ (> 48
    in a channel) over the screen and over its top band, where the region titles are
    drawn in Chinese (a missing CJK font draws other glyphs there, or boxes), and the
    bright pixels of that band (the titles are there at all)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QImage

    rgb = QImage.Format.Format_RGB32
    out: list[dict[str, Any]] = []
    for a, b in zip(ours, theirs, strict=True):
        ia, ib = QImage(str(a)).convertToFormat(rgb), QImage(str(b)).convertToFormat(rgb)
        if ia.size() != ib.size():
            out.append({"screen": a.stem, "differ": 1.0, "title_differ": 1.0, "title_px": 0})
            continue
        w, h = ia.width(), ia.height()
        pa = bytes(ia.constBits())[: w * h * 4]  # type: ignore[call-overload]
        pb = bytes(ib.constBits())[: w * h * 4]  # type: ignore[call-overload]
        step = 2  # every other pixel of every other row: a quarter of the screen
        seen = {"all": [0, 0], "title": [0, 0]}  # [pixels, differing]
        bright = 0
        for y in range(0, h, step):
            band = ("all", "title") if y < h // 12 else ("all",)
            for x in range(0, w, step):
                i = (y * w + x) * 4
                off = (
                    max(abs(pa[i] - pb[i]), abs(pa[i + 1] - pb[i + 1]), abs(pa[i + 2] - pb[i + 2]))
                    > 48
                )
                for k in band:
                    seen[k][0] += 1
                    seen[k][1] += off
                if len(band) == 2 and pa[i] + pa[i + 1] + pa[i + 2] > 500:
                    bright += 1
        out.append({"screen": a.stem, "differ": round(seen["all"][1] / seen["all"][0], 4),
                    "title_differ": round(seen["title"][1] / seen["title"][0], 4), "title_px": bright})  # fmt: skip
    return out


def headless_live(m: Machine, ws: str, results: dict[str, Any]) -> None:
    shutil.copy2(ROOT / "packaging/live_probe.py", m.root / "tmp/live_probe.py")
    done = m.sh("/opt/wallclient/python/bin/python3 /tmp/live_probe.py --control-port 7801 "
                "--control-token-file /etc/wallclient/control-token --timeout 10 -- wallclient run --headless "
                f"--server {ws} --token-file /etc/wallclient/token --control-port 7801 "
                "--control-token-file /etc/wallclient/control-token", user="wallclient", timeout=60)  # fmt: skip
    live = (
        json.loads(done.stdout.strip().splitlines()[-1]).get("live_s")
        if done.stdout.strip()
        else None
    )
    expect(live is not None and live <= 10, f"wallclient run --headless live in {live} s (≤ 10)\n"
           + ("" if live is not None else show(done)))  # fmt: skip
    results["headless_live_s"] = live
    cache = m.root / "var/lib/wallclient/cache.sqlite"
    expect(
        cache.exists() and cache.stat().st_size > 0, "the wall's cache is in /var/lib/wallclient"
    )


def full_wall_live(m: Machine, ws: str, results: dict[str, Any], runs: int = 5) -> None:
    """The whole wall, offscreen, six screens: start to live, installed vs the checkout."""
    args = ("run --offscreen --layout {layout} --server {ws} --token-file {token} "
            "--cache {cache} --control-port 7802 --control-token-file {ctl}")  # fmt: skip
    ours: list[float | None] = []
    why = ""
    for i in range(runs):
        cmd = ("/opt/wallclient/python/bin/python3 /tmp/live_probe.py --control-port 7802 "
               "--control-token-file /etc/wallclient/control-token --timeout 30 -- wallclient "
               + args.format(layout=LAYOUT, ws=ws, token="/etc/wallclient/token", cache=f"/var/lib/wallclient/full{i}.sqlite",
                             ctl="/etc/wallclient/control-token"))  # fmt: skip
        done = m.sh("QT_QPA_PLATFORM=offscreen " + cmd, user="wallclient", timeout=90)
        ours.append(
            json.loads(done.stdout.strip().splitlines()[-1])["live_s"]
            if done.stdout.strip()
            else None
        )
        why = "" if ours[-1] is not None else "\n" + show(done)
    theirs = []
    backend, host_ws, work = host_backend()
    try:
        for i in range(runs):
            cmd = [str(ROOT / ".venv/bin/python"), str(ROOT / "packaging/live_probe.py"), "--control-port", "7803",
                   "--control-token-file", str(work / "ctl"), "--timeout", "30", "--",
                   str(ROOT / ".venv/bin/python"), "-m", "wallclient"] + args.format(
                layout=ROOT / "layouts/district-3x2.json", ws=host_ws, token=work / "token",
                cache=work / f"full{i}.sqlite", ctl=work / "ctl").replace("7802", "7803").split()  # fmt: skip
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=90, cwd=ROOT,
                                  env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))  # fmt: skip
            theirs.append(
                json.loads(done.stdout.strip().splitlines()[-1])["live_s"]
                if done.stdout.strip()
                else None
            )
    finally:
        stop(backend)
        shutil.rmtree(work, ignore_errors=True)
    results["full_wall_live_s"] = {"installed": ours, "checkout": theirs}
    expect(
        None not in ours and None not in theirs,
        f"the whole wall live: installed {ours}, checkout {theirs}" + why,
    )
    a, b = statistics.median(ours), statistics.median(theirs)  # type: ignore[type-var]
    expect(
        a <= b + 1.0,
        f"installed wall's start to live {a:.2f} s ≤ the checkout's {b:.2f} s + 1 s (median of {runs})",
    )


def host_backend() -> tuple[subprocess.Popen[str], str, Path]:
    work = Path(tempfile.mkdtemp(prefix="package-test-"))
    (work / "tokens").write_text(TOKENS, encoding="utf-8")
    for name, text in (("token", "demo-commander\n"), ("ctl", "ctl-secret\n")):
        (work / name).write_text(text, encoding="utf-8")
        (work / name).chmod(0o600)
    proc = subprocess.Popen([str(ROOT / ".venv/bin/python"), "-m", "wallclient", "serve-demo", "--port", "0",
                             "--media-port", "0", "--rtsp-port", "0", "--playback-port", "0", "--tokens",
                             str(work / "tokens"), "--record-dir", str(work / "rec"), "--platform", "wvp"],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True)  # fmt: skip
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())["ws"], work


def demo(m: Machine) -> None:
    done = m.sh("wallclient demo --offscreen --duration 20 --screenshots /tmp/demo-shots",
                user="wallclient", timeout=240)  # fmt: skip
    shots = sorted((m.root / "tmp/demo-shots").glob("*.png"))
    expect(
        done.returncode == 0 and len(shots) >= 6,
        f"wallclient demo from the package: {len(shots)} screenshots\n"
        + (show(done) if done.returncode else ""),
    )
    keep = OUT / f"{m.release}-demo"  # to look at: the packaged wall's own screens
    shutil.rmtree(keep, ignore_errors=True)
    keep.mkdir(parents=True)
    for shot in shots:
        shutil.copy2(shot, keep / shot.name)


def upgrade_and_back(m: Machine, bundle: Path, next_deb: Path, results: dict[str, Any]) -> None:
    edit = m.sh("sed -i 's/^# max_decoders = 16/max_decoders = 12/' /etc/wallclient/wall.toml && "
                "grep -c '^max_decoders = 12' /etc/wallclient/wall.toml")  # fmt: skip
    expect(edit.stdout.strip() == "1", "an installer edits /etc/wallclient/wall.toml")
    cache = m.root / "var/lib/wallclient/cache.sqlite"
    before = hashlib.sha256(cache.read_bytes()).hexdigest()
    nxt = m.root / "media/usb/offline-next"
    shutil.copytree(bundle, nxt)
    offline.swap_wallclient(nxt, next_deb)
    done = m.sh("/media/usb/offline-next/install.sh", timeout=600)
    version = m.sh("dpkg-query -W -f='${Version}' wallclient").stdout
    expect(
        done.returncode == 0 and version == results["next_version"],
        f"upgraded by the next bundle's install.sh to {version}\n"
        + (show(done) if done.returncode else ""),
    )

    def kept() -> bool:
        return m.sh("grep -c '^max_decoders = 12' /etc/wallclient/wall.toml").stdout.strip() == "1"

    expect(kept(), "the edited wall.toml kept")
    expect(
        hashlib.sha256(cache.read_bytes()).hexdigest() == before, "the cache kept, byte for byte"
    )
    expect(
        m.sh(f"wallclient layout validate {LAYOUT}").returncode == 0, "the upgraded wallclient runs"
    )
    old = results["version"]
    done = m.sh(f"dpkg -i --force-confold /media/usb/offline/wallclient/wallclient_{old}_amd64.deb")
    version = m.sh("dpkg-query -W -f='${Version}' wallclient").stdout
    expect(done.returncode == 0 and version == old, f"downgraded back to {version}")
    expect(
        kept() and hashlib.sha256(cache.read_bytes()).hexdigest() == before,
        "wall.toml and cache kept again",
    )
    done = m.sh("dpkg --purge wallclient")
    gone = m.sh(
        "test ! -e /opt/wallclient && test ! -e /usr/bin/wallclient && test ! -e /etc/wallclient/wall.toml"
    )
    expect(
        done.returncode == 0 and gone.returncode == 0,
        "purged: the product and its configuration gone",
    )
    expect(
        cache.exists() and hashlib.sha256(cache.read_bytes()).hexdigest() == before,
        "… and /var/lib/wallclient kept, the cache in it",
    )


def test_release(
    release: str, bundle: Path, next_deb: Path, results: dict[str, Any], keep: bool
) -> None:
    print(f"== {release}: a fresh minbase system, network cut", flush=True)
    work = Path(tempfile.mkdtemp(prefix=f"package-test-{release}-", dir=offline.ROOTFS))
    m = Machine(release, work)
    backend = None
    try:
        prove_cut(m)
        install(m, bundle, results)
        ldd_clean(m)
        wall_token(m)
        backend, ws = start_backend(m)
        doctor(m, ws, results)
        preview(m, results)
        headless_live(m, ws, results)
        full_wall_live(m, ws, results)
        stop(backend)
        backend = None
        demo(m)
        upgrade_and_back(m, bundle, next_deb, results)
    finally:
        if backend is not None:
            stop(backend)
        m.close()
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--releases", help="default: every release the bundle carries")
    p.add_argument("--bundle", type=Path, default=DIST / "offline")
    p.add_argument("--keep", action="store_true", help="keep each test system (for a look inside)")
    a = p.parse_args()
    debs = sorted((a.bundle / "wallclient").glob("wallclient_*_amd64.deb"))
    if len(debs) != 1:
        print(f"{a.bundle}: no bundle (make package first)", file=sys.stderr)
        return 1
    version = debs[0].name.split("_")[1]
    carried = [
        c for c, v in offline.RELEASES.items() if (a.bundle / f"debian-{v}" / "Packages").exists()
    ]
    releases = a.releases.split(",") if a.releases else carried
    next_version = f"{version}+1"
    next_deb = ROOT / ".cache/package/next" / f"wallclient_{next_version}_amd64.deb"
    if not next_deb.exists():
        print(f"building the upgrade, {next_version}", flush=True)
        subprocess.run([str(ROOT / ".venv/bin/python"), str(ROOT / "packaging/build.py"), "--version", next_version,
                        "--out", str(next_deb.parent)], check=True)  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    failed = []
    for release in releases:
        results: dict[str, Any] = {
            "release": release,
            "version": version,
            "next_version": next_version,
        }
        try:
            test_release(release, a.bundle, next_deb, results, a.keep)
            results["passed"] = True
        except (Failed, subprocess.SubprocessError, OSError, ValueError) as exc:
            results["passed"], results["failure"] = False, str(exc)
            failed.append(release)
            print(f"  FAIL {exc}", flush=True)
        (OUT / f"{release}.json").write_text(
            json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8"
        )
    print("package-test: " + ("all passed" if not failed else f"FAILED on {', '.join(failed)}"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
