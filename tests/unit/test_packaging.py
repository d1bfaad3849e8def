"""The installed product's edges that a checkout can prove: the shipped wall.toml, where
the installed wall reads its config and keeps its data, and the offline installer's
refusals — run for real (install.sh, apt-get, dpkg-deb) against small bundles made here.
The whole bundle on fresh systems is ``make package-test`` (minutes; docs/packaging.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wallclient import config, paths
from wallclient.cli import parser as build_parser

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "packaging" / "install.sh"


def test_the_shipped_wall_toml_is_all_defaults_and_reads_clean() -> None:
    shipped = config.load(ROOT / "packaging" / "files" / "wall.toml")
    assert shipped == config.Config(node=shipped.node)


def test_the_installed_wall_reads_etc_and_keeps_its_data_where_it_is_told(
    monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv(paths.DATA_ENV, str(tmp_path / "var-lib"))
    assert paths.user_data_dir() == tmp_path / "var-lib"
    assert paths.default_cache() == tmp_path / "var-lib" / "cache.sqlite"
    monkeypatch.setenv(config.CONFIG_ENV, str(tmp_path / "wall.toml"))
    for argv in (["doctor"], ["run"]):
        assert build_parser().parse_args(argv).config == tmp_path / "wall.toml"
    monkeypatch.delenv(config.CONFIG_ENV)
    assert build_parser().parse_args(["doctor"]).config is None


def bundle(tmp_path: Path, depends: str = "") -> Path:
    """A bundle laid out as packaging/offline.py lays it out, holding one tiny 'wallclient'."""
    out = tmp_path / "offline"
    pkg = tmp_path / "pkg"
    (pkg / "DEBIAN").mkdir(parents=True)
    control = "Package: wallclient\nVersion: 0.0.1\nArchitecture: all\nMaintainer: t <t@example.invalid>\nDescription: t\n"
    (pkg / "DEBIAN" / "control").write_text(control + (f"Depends: {depends}\n" if depends else ""))
    (out / "debian-12").mkdir(parents=True)
    deb = tmp_path / "wallclient_0.0.1_all.deb"
    subprocess.run(
        ["dpkg-deb", "-Zgzip", "--build", str(pkg), str(deb)], check=True, capture_output=True
    )
    sys.path.insert(0, str(ROOT / "packaging"))
    try:
        import offline
    finally:
        sys.path.remove(str(ROOT / "packaging"))
    offline.swap_wallclient(out, deb)
    shutil.copy2(INSTALL, out / "install.sh")  # it finds its folders beside itself
    return out


def install_sh(out: Path, os_release: str, *args: str) -> subprocess.CompletedProcess[str]:
    (out.parent / "os-release").write_text(os_release)
    env = dict(os.environ, WALLCLIENT_OS_RELEASE=str(out.parent / "os-release"))
    return subprocess.run(
        [str(out / "install.sh"), *args], capture_output=True, text=True, env=env, timeout=120
    )


def installed(name: str) -> bool:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True
    )
    return "install ok installed" in done.stdout


DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'


def test_the_installer_refuses_a_system_it_carries_nothing_for(tmp_path) -> None:
    out = bundle(tmp_path)
    done = install_sh(out, 'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nID=ubuntu\nVERSION_ID="22.04"\n')
    assert done.returncode == 1
    assert "Ubuntu 22.04.4 LTS" in done.stderr and "debian-12" in done.stderr
    assert "Nothing was changed" in done.stderr and not installed("wallclient")


@pytest.mark.skipif(
    os.geteuid() != 0, reason="apt-get and dpkg need root: make test runs as root in CI"
)
def test_the_installer_says_what_is_missing_and_changes_nothing(tmp_path) -> None:
    out = bundle(tmp_path, depends="wallclient-test-absent-dependency")
    done = install_sh(out, DEBIAN_12)
    assert done.returncode == 1, done.stderr
    assert "wallclient-test-absent-dependency" in done.stderr
    assert "not in this bundle" in done.stderr and not installed("wallclient")


@pytest.mark.skipif(
    os.geteuid() != 0, reason="apt-get and dpkg need root: make test runs as root in CI"
)
def test_the_installer_checks_a_complete_bundle_without_installing(tmp_path) -> None:
    out = bundle(tmp_path)
    done = install_sh(out, DEBIAN_12, "--check")
    assert done.returncode == 0, done.stderr
    assert "check passed" in done.stderr and not installed("wallclient")
