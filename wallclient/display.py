"""The display a wall runs on: whether one can be reached (X11, Wayland) or Qt's offscreen
platform stands in, the offscreen screens a layout asks for, what Qt sees of the physical
screens, and the QApplication with the wall's language."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from wallclient import paths
from wallclient.errors import ConfigError
from wallclient.layout import Layout

log = logging.getLogger(__name__)
RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def node_screens(lay: Layout, names: str) -> list[str] | None:
    """The layout screens this node drives (None: all of them); unknown names are errors."""
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    if not wanted:
        return None
    known = {s.name for s in lay.screens}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ConfigError(f"--screens: no screen {', '.join(unknown)} in layout {lay.name} "
                          f"(it has {', '.join(sorted(known))})")  # fmt: skip
    return wanted


def configure_offscreen(lay: Layout, only: list[str] | None = None) -> None:
    """Qt's offscreen platform with exactly the layout's screens (before QApplication exists)."""
    screens = [
        {
            "name": s.name,
            "x": s.x,
            "y": s.y,
            "width": s.width,
            "height": s.height,
            "logicalDpi": 96,
            "dpr": 1,
        }
        for s in lay.screens
        if only is None or s.name in only
    ]
    # one file per set of screens, named by its content (a temporary one per start was
    # left behind by every offscreen run: 347 after a day of tests), written whole: a file
    # of that name is these screens
    text = json.dumps({"screens": screens}, sort_keys=True)
    digest = hashlib.sha1(text.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"wallclient-screens-{os.getuid()}-{digest}.json"
    if not path.exists():
        tmp = paths.temp_beside(path)
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={path}"


_translator: Any = None  # the wall's zh_CN translator while installed (one per process)


def make_app(lang: str) -> Any:
    """The QApplication with the wall's language: zh_CN installs its translator and
    locale once; any other language takes them away again. The QApplication is one per
    process, so the language is whatever the last call said, never what an earlier
    caller left behind (a test, a preview, the doctor)."""
    from PySide6.QtCore import QLocale, QTranslator
    from PySide6.QtWidgets import QApplication

    global _translator
    app = QApplication.instance() or QApplication(sys.argv[:1])
    if lang != "zh_CN":
        reset_language()
        return app
    if _translator is None:
        translator = QTranslator(app)
        qm = RESOURCES / "translations" / "wallclient_zh_CN.qm"
        if translator.load(str(qm)):
            app.installTranslator(translator)
            _translator = translator
        else:
            log.warning("translation %s not built (make builds it); showing English", qm)
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    return app


def reset_language() -> None:
    """English again: the translator removed, the default locale back to C."""
    from PySide6.QtCore import QLocale
    from PySide6.QtWidgets import QApplication

    global _translator
    app = QApplication.instance()
    if _translator is not None and app is not None:
        app.removeTranslator(_translator)
    _translator = None
    QLocale.setDefault(QLocale.c())


def no_display() -> bool:
    """On Linux with no X11 or Wayland display to reach, and no platform chosen: Qt
    would abort (an unreachable ``DISPLAY`` too: said in the log)."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    if os.environ.get("WAYLAND_DISPLAY"):
        return False
    display = os.environ.get("DISPLAY")
    if not display:
        return True
    if not x11_reachable(display):
        log.warning("display %s cannot be reached", display)
        return True
    return False


def x11_reachable(display: str) -> bool:
    """Does an X server answer at ``display`` (":0", "unix:1", "host:0.0")? A local
    one is a socket in /tmp/.X11-unix, a remote one TCP port 6000 + n."""
    import socket

    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return False
    if host not in ("", "unix"):
        try:
            socket.create_connection((host, 6000 + int(number)), timeout=1.0).close()
            return True
        except OSError:
            return False
    # Xorg on Linux listens on an abstract socket as well as the file (containers often
    # see only the abstract one): either will do
    for address in (f"\0/tmp/.X11-unix/X{number}", f"/tmp/.X11-unix/X{number}"):
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(1.0)
                s.connect(address)
            return True
        except OSError:
            continue
    return False


def headless_fallback() -> bool:
    """Use Qt's offscreen platform when there is no display (say so); True if it did."""
    if no_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        log.warning("no display (DISPLAY / WAYLAND_DISPLAY unset): using Qt's offscreen platform")
        return True
    return False


def describe_screens() -> list[dict[str, Any]]:
    """What Qt knows of each connected screen (for installers: `wallclient screens`)."""
    from PySide6.QtGui import QGuiApplication

    primary = QGuiApplication.primaryScreen()
    out = []
    for sc in QGuiApplication.screens():
        g = sc.geometry()
        out.append({
            "name": sc.name(), "manufacturer": sc.manufacturer() or None, "model": sc.model() or None,
            "serial": sc.serialNumber() or None, "geometry": [g.x(), g.y(), g.width(), g.height()],
            "device_pixel_ratio": sc.devicePixelRatio(), "refresh_hz": round(sc.refreshRate(), 1),
            "physical_mm": [round(sc.physicalSize().width()), round(sc.physicalSize().height())],
            "primary": sc is primary,
        })  # fmt: skip
    return out
