"""Build ``dist/wallclient_<version>_amd64.deb``: the wall with its own Python inside.

The package is a relocated CPython (this machine's, the one the test suite runs) under
``/opt/wallclient/python``, the pinned wheels of packaging/requirements.txt installed into
it, and the application tree under ``/opt/wallclient/app`` as it is in a checkout (so
``sys.executable -m wallclient`` works for the demo's children, as in a checkout).
The shared libraries the interpreter's own modules need (OpenSSL, libffi, SQLite, …) go
inside with it; what belongs to the OS — glibc, libvlc and its plugins, X/EGL, fonts —
is ``Depends:``. docs/packaging.md says why each choice was made.

    python packaging/build.py [--version V] [--out dist]
"""

from __future__ import annotations

import argparse
import compileall
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "packaging"
CACHE = ROOT / ".cache" / "package"
OPT = Path("opt/wallclient")
PY = f"python{sys.version_info.major}.{sys.version_info.minor}"

# glibc's own libraries: the one thing every target has (and must not be bundled)
GLIBC = re.compile(
    r"^(libc|libm|libdl|libpthread|librt|libresolv|libutil|libanl|ld-linux[-\w]*)\.so"
)
# the wheels asked of PyPI: manylinux up to glibc 2.34 (PySide6 6.11's own tag); the
# package's glibc floor is then read off every ELF file inside (glibc_floor)
GLIBC_MINOR = 34
# interpreter modules a wall never imports (and whose libraries would come with them)
STDLIB_DROP = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "site-packages",
               "__pycache__", "config-" + sys.version[:4] + "-x86_64-linux-gnu"}  # fmt: skip
DYNLOAD_DROP = re.compile(
    r"^(_tkinter|_test\w*|xxlimited\w*|_xxtestfuzz|_ctypes_test|nis|_curses\w*|readline|_crypt)\."
)
# PySide6: the Qt modules the wall and pyqtgraph import; everything else (QML, Quick,
# Designer, WebSockets, Wayland compositors, the tools) stays out. Their libraries are
# the closure of what these need.
QT_MODULES = ["QtCore", "QtGui", "QtWidgets", "QtDBus", "QtNetwork", "QtOpenGL", "QtOpenGLWidgets",
              "QtSvg", "QtSvgWidgets", "QtTest", "QtPrintSupport", "QtXml", "QtConcurrent"]  # fmt: skip
QT_PLUGINS = ["platforms/libqxcb.so", "platforms/libqoffscreen.so", "platforms/libqminimal.so",
              "xcbglintegrations", "imageformats", "iconengines", "platforminputcontexts",
              "platformthemes", "tls", "networkinformation", "generic"]  # fmt: skip

# What the OS provides (Debian 12 names | Debian 13's t64 names): docs/packaging.md
DEPENDS = [
    "libvlc5", "vlc-plugin-base", "vlc-plugin-video-output",
    "libgl1", "libegl1", "libglib2.0-0t64 | libglib2.0-0", "libfontconfig1", "libfreetype6",
    "libdbus-1-3", "libxkbcommon0", "libxkbcommon-x11-0", "libx11-xcb1", "libxcb-cursor0",
    "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1", "libxcb-randr0", "libxcb-render-util0",
    "libxcb-shape0", "libxcb-xkb1", "libxcb-xinerama0", "fonts-wqy-microhei", "openssl", "passwd",
]  # fmt: skip
RECOMMENDS = ["ffmpeg", "x11-xserver-utils"]
SUGGESTS = ["xvfb", "nodejs"]


def run(*args: str | Path, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], check=True, text=True, **kw)  # type: ignore[call-overload]


def needed(path: Path) -> list[str]:
    """The sonames an ELF file asks for (its DT_NEEDED), or [] for a file that is not ELF."""
    out = subprocess.run(["readelf", "-dW", str(path)], capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def resolved(path: Path) -> dict[str, str]:
    """soname → path on this machine, as the dynamic loader finds them for ``path``."""
    out = subprocess.run(["ldd", str(path)], capture_output=True, text=True).stdout
    return dict(re.findall(r"^\s*(\S+) => (/\S+)", out, re.M))


def is_elf(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


# --- the interpreter ------------------------------------------------------------------------


def stage_python(dest: Path) -> None:
    """This machine's CPython, relocated: stdlib, libpython and the libraries its own
    extension modules need, each found through $ORIGIN, never through the build's prefix."""
    base = Path(sys.base_prefix)
    (dest / "bin").mkdir(parents=True)
    shutil.copy2(base / "bin" / PY, dest / "bin" / PY)
    os.symlink(PY, dest / "bin" / "python3")
    lib = dest / "lib"
    libpython = Path(sysconfig.get_config_var("LIBDIR")) / sysconfig.get_config_var("INSTSONAME")
    lib.mkdir()
    shutil.copy2(libpython, lib / libpython.name)
    src = base / "lib" / PY
    shutil.copytree(src, lib / PY, symlinks=True,
                    ignore=lambda d, names: [n for n in names if (Path(d) == src and n in STDLIB_DROP)
                                             or n == "__pycache__" or DYNLOAD_DROP.match(n)])  # fmt: skip
    (lib / PY / "site-packages").mkdir()
    # the interpreter and libpython find each other and the bundled libraries by $ORIGIN
    run("patchelf", "--set-rpath", "$ORIGIN/../lib", dest / "bin" / PY)
    run("patchelf", "--set-rpath", "$ORIGIN", lib / libpython.name)
    for ext in (lib / PY / "lib-dynload").glob("*.so"):
        run("patchelf", "--set-rpath", "$ORIGIN/../..", ext)
    bundle_libraries(
        [dest / "bin" / PY, lib / libpython.name, *(lib / PY / "lib-dynload").glob("*.so")], lib
    )


def bundle_libraries(objects: list[Path], lib: Path) -> None:
    """Copy into ``lib`` every non-glibc library ``objects`` need, and what those need."""
    todo = list(objects)
    seen: set[str] = set()
    while todo:
        obj = todo.pop()
        for soname, found in resolved(obj).items():
            if (
                soname in seen
                or GLIBC.match(soname)
                or os.path.realpath(found).startswith(str(lib) + "/")
            ):
                continue
            seen.add(soname)
            target = lib / soname
            shutil.copy2(os.path.realpath(found), target)
            target.chmod(0o644)
            run("patchelf", "--set-rpath", "$ORIGIN", target)
            todo.append(target)


# --- the dependencies -----------------------------------------------------------------------


def wheels() -> Path:
    """The pinned wheels, downloaded once into .cache/package/wheels."""
    house = CACHE / "wheels"
    req = HERE / "requirements.txt"
    stamp = house / (hashlib.sha256(req.read_bytes()).hexdigest()[:16] + ".ok")
    if not stamp.exists():
        house.mkdir(parents=True, exist_ok=True)
        run(sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
            "--python-version", f"{sys.version_info.major}.{sys.version_info.minor}",
            *(f"--platform=manylinux_2_{n}_x86_64" for n in range(GLIBC_MINOR, 4, -1)),
            "--platform=manylinux2014_x86_64", "--platform=manylinux1_x86_64",
            "-r", req, "-d", house)  # fmt: skip
        stamp.touch()
    return house


def install_dependencies(site: Path) -> None:
    run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--no-compile",
        "--find-links", wheels(), "--target", site, "-r", HERE / "requirements.txt")  # fmt: skip
    shutil.rmtree(site / "bin", ignore_errors=True)  # console scripts with this machine's paths
    for d in [d for d in site.rglob("*") if d.is_dir() and d.name in ("tests", "examples")]:
        shutil.rmtree(
            d, ignore_errors=True
        )  # the libraries' own tests and examples (numpy's: 17 MB)
    trim_qt(site / "PySide6")


def trim_qt(pyside: Path) -> None:
    """PySide6 as the wall uses it: the modules of QT_MODULES and the plugins of QT_PLUGINS,
    with the Qt libraries they need, nothing else (no tools, QML, headers, stubs)."""
    qt = pyside / "Qt"
    keep_py = {f"{m}.abi3.so" for m in QT_MODULES}
    for f in pyside.iterdir():
        if f.is_file() and (
            f.suffix == ".pyi"
            or (f.name.endswith(".abi3.so") and f.name not in keep_py)
            or (is_elf(f) and not f.name.endswith(".so") and ".so." not in f.name)
        ):
            f.unlink()  # the modules we do not import, and the tools (designer, lupdate, …)
    for f in pyside.glob("libpyside6qml*"):
        f.unlink()  # QML's bindings (and through them QtQuick): the wall has no QML
    for d in ("include", "typesystems", "glue", "scripts", "examples", "doc"):
        shutil.rmtree(pyside / d, ignore_errors=True)
    for d in ("qml", "metatypes", "libexec"):
        shutil.rmtree(qt / d, ignore_errors=True)
    plugins = qt / "plugins"
    kept = {plugins / p for p in QT_PLUGINS}
    for sub in plugins.iterdir():
        if sub in kept:
            continue
        inside = [p for p in kept if p.parent == sub]
        if not inside:
            shutil.rmtree(sub)
            continue
        for f in sub.iterdir():
            if f not in kept:
                f.unlink()
    (plugins / "platforminputcontexts" / "libqtvirtualkeyboardplugin.so").unlink(
        missing_ok=True
    )  # QtQuick
    (plugins / "platformthemes" / "libqgtk3.so").unlink(
        missing_ok=True
    )  # GTK 3: not a wall's dependency
    for tr in (qt / "translations").glob("*.qm"):
        if not tr.name.startswith(("qtbase_zh_CN", "qtbase_en")):
            tr.unlink()
    # the Qt libraries: the closure of what the kept modules and plugins ask for
    libs = {p.name: p for p in (qt / "lib").glob("*.so*")}
    want: set[str] = set()
    todo = [p for p in pyside.glob("*.so*")] + [p for p in plugins.rglob("*.so")]
    todo += [p for p in (pyside.parent / "shiboken6").glob("*.so*")]
    while todo:
        for soname in needed(todo.pop()):
            if soname in libs and soname not in want:
                want.add(soname)
                todo.append(libs[soname])
    for name, path in libs.items():
        if name not in want:
            path.unlink()
    for plugin in plugins.rglob(
        "*.so"
    ):  # a plugin for a Qt module not in the wheel (libqpdf: QtPdf)
        if any(n.startswith("libQt6") and n not in libs for n in needed(plugin)):
            plugin.unlink()


# --- the application ------------------------------------------------------------------------


def stage_app(root: Path) -> None:
    app = root / OPT / "app"
    app.mkdir(parents=True)
    skip = shutil.ignore_patterns("__pycache__", "*.ts", "*.pyc")
    for d in ("wallclient", "panels", "resources"):
        shutil.copytree(ROOT / d, app / d, ignore=skip)
    layouts = root / "usr/share/wallclient/layouts"
    shutil.copytree(ROOT / "layouts", layouts, ignore=skip)
    os.symlink("/usr/share/wallclient/layouts", app / "layouts")
    site = root / OPT / "python/lib" / PY / "site-packages"
    (site / "wallclient-app.pth").write_text("/opt/wallclient/app\n", encoding="utf-8")
    # what the package itself lays down (docs/packaging.md, "What the package lays down")
    files = {
        "usr/bin/wallclient": ("wallclient.sh", 0o755),
        "etc/wallclient/wall.toml": ("wall.toml", 0o644),
        "usr/lib/systemd/user/wallclient.service": ("wallclient.service", 0o644),
        "etc/xdg/autostart/wallclient.desktop": ("wallclient.desktop", 0o644),
        "usr/share/lintian/overrides/wallclient": ("lintian-overrides", 0o644),
    }
    for target, (source, mode) in files.items():
        path = root / target
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(HERE / "files" / source, path)
        path.chmod(mode)
    doc = root / "usr/share/doc/wallclient"
    doc.mkdir(parents=True)
    shutil.copy2(HERE / "debian" / "copyright", doc / "copyright")
    for name in ("installers.md", "operators.md", "packaging.md", "tablet.md", "deployment.md"):
        if (ROOT / "docs" / name).exists():
            shutil.copy2(ROOT / "docs" / name, doc / name)


def changelog(version: str) -> bytes:
    when = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(source_date()))
    text = (f"wallclient ({version}) unstable; urgency=medium\n\n  * Built from the wallclient "
            f"repository.\n\n -- wallclient builders <wall@example.invalid>  {when}\n")  # fmt: skip
    return gzip.compress(text.encode(), mtime=0)


def source_date() -> int:
    """The last commit's time (reproducible builds), else now."""
    out = subprocess.run(
        ["git", "-C", str(ROOT), "log", "-1", "--format=%ct"], capture_output=True, text=True
    )
    return int(out.stdout.strip() or time.time())


def glibc_floor(root: Path) -> tuple[str, list[str]]:
    """The newest GLIBC_2.x symbol version any ELF file inside asks for, and which ask."""
    floor, who = (2, 0), []
    for p in root.rglob("*"):
        if not p.is_file() or p.is_symlink() or not is_elf(p):
            continue
        out = subprocess.run(["objdump", "-T", str(p)], capture_output=True, text=True).stdout
        versions = {tuple(map(int, v.split("."))) for v in re.findall(r"GLIBC_(2\.\d+)", out)}
        top = max(versions, default=(2, 0))
        if top > floor:
            floor, who = top, []
        if top == floor:
            who.append(str(p.relative_to(root)))
    return ".".join(map(str, floor)), who


def control(root: Path, version: str) -> None:
    deb = root / "DEBIAN"
    deb.mkdir()
    glibc, who = glibc_floor(root)
    print(f"glibc >= {glibc}, asked by {len(who)} files, e.g. {', '.join(sorted(who)[:3])}")
    size = (
        sum(p.lstat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())
        // 1024
    )
    (deb / "control").write_text(
        f"Package: wallclient\nVersion: {version}\nArchitecture: amd64\n"
        f"Maintainer: wallclient builders <wall@example.invalid>\nInstalled-Size: {size}\n"
        f"Depends: libc6 (>= {glibc}), {', '.join(DEPENDS)}\nRecommends: {', '.join(RECOMMENDS)}\n"
        f"Suggests: {', '.join(SUGGESTS)}\nSection: video\nPriority: optional\n"
        "Homepage: https://example.invalid/wallclient\n"
        "Description: video wall client for city-operations centres\n"
        " Drives the video walls of city-operations centres: live camera presets, the\n"
        " city's indicators, the incident feed and emergency mode on every screen, from\n"
        " a backend over WebSocket, and runs on from its local cache when the backend is\n"
        " gone. This package carries its own Python and every Python library it uses.\n",
        encoding="utf-8",
    )  # fmt: skip
    (deb / "conffiles").write_text(
        "/etc/wallclient/wall.toml\n/etc/xdg/autostart/wallclient.desktop\n"
    )
    for script in ("postinst", "postrm"):
        shutil.copy2(HERE / "debian" / script, deb / script)
        (deb / script).chmod(0o755)
    sums = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if (
            p.is_file()
            and not p.is_symlink()
            and rel.parts[0] != "DEBIAN"
            and rel.parts[0] != "etc"
        ):
            sums.append(f"{hashlib.md5(p.read_bytes()).hexdigest()}  {rel}\n")
    (deb / "md5sums").write_text("".join(sums), encoding="utf-8")


def build(version: str, out: Path) -> Path:
    stage = CACHE / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    root = stage / "root"
    t0 = time.monotonic()
    stage_python(root / OPT / "python")
    install_dependencies(root / OPT / "python/lib" / PY / "site-packages")
    stage_app(root)
    (root / "usr/share/doc/wallclient/changelog.gz").write_bytes(
        changelog(version)
    )  # a native package
    man = root / "usr/share/man/man1"
    man.mkdir(parents=True)
    (man / "wallclient.1.gz").write_bytes(
        gzip.compress((HERE / "files/wallclient.1").read_bytes(), mtime=0)
    )
    # bytecode made here, once: the installed tree is read-only to the wall's user
    compileall.compile_dir(root / OPT, quiet=2, workers=os.cpu_count() or 1, ddir=None)
    # modes: directories and the two programs 0755, everything else 0644 (libraries and
    # modules are loaded, never run: a stdlib module's shebang is not an entry point)
    programs = {root / "usr/bin/wallclient", root / OPT / "python/bin" / PY}
    for p in root.rglob("*"):
        if not p.is_symlink():
            p.chmod(0o755 if p.is_dir() or p in programs else 0o644)
    control(root, version)
    out.mkdir(parents=True, exist_ok=True)
    deb = out / f"wallclient_{version}_amd64.deb"
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(source_date()))
    run(
        "dpkg-deb",
        "--root-owner-group",
        "-Zxz",
        "-z9",
        "--build",
        root,
        deb,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    print(f"{deb}  ({deb.stat().st_size / 1e6:.1f} MB, built in {time.monotonic() - t0:.0f} s)")
    return deb


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--version", default=os.environ.get("VERSION") or None)
    p.add_argument("--out", type=Path, default=ROOT / "dist")
    a = p.parse_args()
    sys.path.insert(0, str(ROOT))
    from wallclient import __version__

    build(a.version or __version__, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
