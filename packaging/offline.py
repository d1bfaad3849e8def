"""Build ``dist/offline/``: the .deb and, for each Debian release the bundle targets, every
Debian package it needs that the release's minimal system lacks — as apt itself resolves
them on a fresh ``debootstrap --variant=minbase`` of that release — in a local apt
repository per release, with ``install.sh`` beside them.

    python packaging/offline.py dist/wallclient_<version>_amd64.deb [--out dist/offline]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "packaging"
ROOTFS = ROOT / ".cache" / "package" / "rootfs"
MIRROR = "http://deb.debian.org/debian"
# codename → the VERSION_ID of /etc/os-release that install.sh matches to its folder
RELEASES = {"bookworm": "12", "trixie": "13"}


def run(*args: str | Path, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], check=True, text=True, **kw)  # type: ignore[call-overload]


def rootfs(release: str) -> Path:
    """A pristine minbase system of ``release``, made once (debootstrap) and kept in
    .cache/package/rootfs; callers copy it before changing anything inside."""
    path = ROOTFS / release
    if not (path / "etc" / "os-release").exists():
        tmp = ROOTFS / f"{release}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        ROOTFS.mkdir(parents=True, exist_ok=True)
        print(f"debootstrap --variant=minbase {release} (once; kept in {ROOTFS})", flush=True)
        run("debootstrap", "--variant=minbase", release, tmp, MIRROR, stdout=subprocess.DEVNULL)
        tmp.rename(path)
    return path


def copy_tree(src: Path, dest: Path) -> None:
    """``cp -a``: owners, modes, devices and hard links as they are (a root filesystem)."""
    run("cp", "-a", src, dest)


def needed_packages(release: str, deb: Path, into: Path) -> list[Path]:
    """Download, into ``into``, what ``apt-get install wallclient`` would fetch on a fresh
    minbase ``release`` (its Depends and Recommends, and theirs)."""
    with tempfile.TemporaryDirectory(prefix=f"wallclient-{release}-", dir=ROOTFS) as tmp:
        sysroot = Path(tmp) / "root"
        copy_tree(rootfs(release), sysroot)
        local = sysroot / "srv" / "wallclient"
        local.mkdir(parents=True)
        shutil.copy2(deb, local)
        scan(local)
        (sysroot / "etc/apt/sources.list.d/wallclient.list").write_text(
            "deb [trusted=yes] file:/srv/wallclient ./\n", encoding="utf-8"
        )
        shutil.copy2("/etc/resolv.conf", sysroot / "etc/resolv.conf")
        chroot = ["chroot", str(sysroot), "env", "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C.UTF-8"]
        run(*chroot, "apt-get", "-qq", "update", stdout=subprocess.DEVNULL)
        run(*chroot, "apt-get", "clean")  # debootstrap leaves the base system's own .debs there
        run(*chroot, "apt-get", "-qq", "-y", "--no-install-recommends", "--download-only", "install",
            *install_list(), stdout=subprocess.DEVNULL)  # fmt: skip
        archives = sysroot / "var/cache/apt/archives"
        got = []
        into.mkdir(parents=True, exist_ok=True)
        for f in sorted(archives.glob("*.deb")):
            if not f.name.startswith("wallclient_"):
                shutil.copy2(f, into / f.name)
                got.append(into / f.name)
        return got


def install_list() -> list[str]:
    """What install.sh installs (its PACKAGES line): the bundle carries exactly their closure."""
    for line in (HERE / "install.sh").read_text(encoding="utf-8").splitlines():
        if line.startswith("PACKAGES="):
            return line.split("=", 1)[1].strip('"').split()
    raise SystemExit("install.sh has no PACKAGES= line")


def scan(folder: Path) -> None:
    """A flat apt repository in ``folder``: Packages(.xz) and Release, by apt's own tool."""
    packages = run("apt-ftparchive", "packages", ".", cwd=folder, capture_output=True).stdout
    (folder / "Packages").write_text(packages, encoding="utf-8")
    release(folder)


def release(folder: Path) -> None:
    run("xz", "-k", "-f", folder / "Packages")
    text = run("apt-ftparchive", "-o", "APT::FTPArchive::Release::Origin=wallclient",
               "-o", "APT::FTPArchive::Release::Label=wallclient offline", "release", ".",
               cwd=folder, capture_output=True).stdout  # fmt: skip
    (folder / "Release").write_text(text, encoding="utf-8")


def build(deb: Path, out: Path, releases: list[str]) -> None:
    """``out``/wallclient/ holds the .deb once; ``out``/debian-N/ each release's packages.
    Each release folder is a flat repository rooted at ``out`` (``deb file:out debian-N/``),
    its Packages naming both its own files and the shared .deb."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for codename in releases:
        folder = out / f"debian-{RELEASES[codename]}"
        got = needed_packages(codename, deb, folder)
        size = sum(p.stat().st_size for p in got)
        print(f"{folder}: {len(got)} Debian packages, {size / 1e6:.0f} MB", flush=True)
    shutil.copy2(HERE / "install.sh", out / "install.sh")
    (out / "install.sh").chmod(0o755)
    swap_wallclient(out, deb)
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(
        f"{out}: {total / 1e6:.0f} MB in all ({deb.stat().st_size / 1e6:.0f} MB of it wallclient)",
        flush=True,
    )


def swap_wallclient(out: Path, deb: Path) -> None:
    """Put ``deb`` in the bundle ``out`` (in place of the one it had) and write each
    release's index again: a new version's bundle, from the same Debian packages."""
    shutil.rmtree(out / "wallclient", ignore_errors=True)
    (out / "wallclient").mkdir()
    shutil.copy2(deb, out / "wallclient" / deb.name)
    ours = run("apt-ftparchive", "packages", "wallclient", cwd=out, capture_output=True).stdout
    for folder in sorted(out.glob("debian-*")):
        theirs = run("apt-ftparchive", "packages", folder.name, cwd=out, capture_output=True).stdout
        (folder / "Packages").write_text(theirs + ours, encoding="utf-8")
        release(folder)
    sums = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(out)}\n"
            for p in sorted(out.rglob("*")) if p.is_file() and p.name != "SHA256SUMS"]  # fmt: skip
    (out / "SHA256SUMS").write_text("".join(sums), encoding="utf-8")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("deb", type=Path)
    p.add_argument("--out", type=Path, default=ROOT / "dist" / "offline")
    p.add_argument("--releases", default=",".join(RELEASES),
                   help="the Debian releases to carry (a centre's PCs run one: a smaller bundle)")  # fmt: skip
    a = p.parse_args()
    releases = a.releases.split(",")
    if not set(releases) <= set(RELEASES):
        print(f"offline.py: releases are {', '.join(RELEASES)}", file=sys.stderr)
        return 1
    if os.geteuid() != 0:
        print("offline.py: debootstrap and chroot need root", file=sys.stderr)
        return 1
    build(a.deb.resolve(), a.out, releases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
