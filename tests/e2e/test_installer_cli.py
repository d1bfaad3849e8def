"""The installer's commands as an installer runs them (real processes, offscreen)."""

import json
import os

from PySide6.QtGui import QImage

from tests.helpers import run_cli

NO_DISPLAY = {
    k: v
    for k, v in os.environ.items()
    if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
}


def test_screens_identify_and_preview_work_without_a_display(tmp_path):
    out = run_cli("screens", "--json", env=NO_DISPLAY, check=True)
    data = json.loads(out.stdout)
    assert data["platform"] == "offscreen" and data["screens"]
    assert {"name", "geometry", "device_pixel_ratio", "serial"} <= set(data["screens"][0])
    assert "no display" in out.stderr  # said, not hidden
    ident = run_cli("identify", "--seconds", "0.1", "--layout", "layouts/street-4k.json",
                    "--out", str(tmp_path / "id"), env=NO_DISPLAY, check=True)  # fmt: skip
    png = ident.stdout.split()[0]
    assert not QImage(png).isNull()
    prev = run_cli("layout", "preview", "layouts/desk-dual.json", "--out", str(tmp_path / "pv"),
                   "--mode", "emergency", env=NO_DISPLAY, check=True)  # fmt: skip
    files = prev.stdout.split()
    assert [os.path.basename(f) for f in files] == ["desk-left.png", "desk-right.png"]
    assert QImage(files[0]).width() == 1920


def test_a_broken_layout_and_a_missing_display_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "screens": []}', encoding="utf-8")
    prev = run_cli("layout", "preview", str(bad), "--out", str(tmp_path / "pv"), env=NO_DISPLAY)
    assert prev.returncode == 2 and "screens" in prev.stderr and not (tmp_path / "pv").exists()
    edit = run_cli("layout", "edit", str(tmp_path / "new.json"), env=NO_DISPLAY)
    assert edit.returncode == 2 and "display" in edit.stderr


def test_a_display_that_cannot_be_reached_is_said_not_a_qt_abort(tmp_path):
    """DISPLAY names an X server that is not there (a typo, a server gone): Qt would
    abort; the installer's commands say so and carry on offscreen."""
    gone = dict(NO_DISPLAY, DISPLAY=":87")
    out = run_cli("screens", "--json", env=gone, check=True)
    assert json.loads(out.stdout)["platform"] == "offscreen"
    assert "display :87 cannot be reached" in out.stderr
    doctor = run_cli("doctor", "--json", env=gone)
    assert doctor.returncode == 1  # a failed check, not a crash
    checks = {c["check"]: c for c in json.loads(doctor.stdout)}
    assert "callbacks" in checks["video output"]["detail"]
    assert not checks["screens"]["ok"]
