"""Render the commander's palette and the layout editor for the docs, offscreen:

    .venv/bin/python docs/screenshots/render_tools.py

Writes docs/screenshots/palette.png and docs/screenshots/layout-editor.png from the demo
district (the same data `make demo` shows).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


class ShowDesk:
    """A commander's desk whose last switch is still pending (what the palette shows)."""

    def __init__(self, pending: str) -> None:
        self.pending = pending

    def may_switch(self) -> bool:
        return True

    def view(self) -> dict:
        return {"pending": {"preset": self.pending}, "refusal": None, "local": False}

    def activate(self, preset: str) -> None: ...

    def emergency(self, preset: str | None) -> None: ...

    def normal(self) -> None: ...


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from panels.editor import LayoutEditor
    from panels.wall import Wall
    from wallclient import display, installer, layout
    from wallclient.layout_edit import LayoutDoc

    with tempfile.TemporaryDirectory() as tmp:
        cache = installer.demo_cache(Path(tmp) / "demo.sqlite")
        lay = layout.load(ROOT / "layouts" / "desk-dual.json")
        display.configure_offscreen(lay)
        ctx, hub, _ = installer.cache_context(cache, "zh_CN")
        qapp = QApplication.instance()
        pending = next(p for p in ctx.state.presets.values() if "防汛" in p["name"])["id"]
        ctx.desk = ShowDesk(pending)
        wall = Wall(ctx, hub, lay)
        win = wall.windows[0]
        win.resize(win.screen_.width, win.screen_.height)
        win.show()
        pal = win.open_palette()
        pal.box.setText("fxft")
        pal.run()
        for _ in range(5):
            hub._flush()
            qapp.processEvents()
        win.grab().save(str(HERE / "palette.png"))
        shutil.copy(ROOT / "layouts" / "district-3x2.json", Path(tmp) / "district-3x2.json")
        path = Path(tmp) / "district-3x2.json"
        ed = LayoutEditor(LayoutDoc.open(path), path, preview=installer.preview_renderer(cache, "zh_CN"),
                          physical=display.describe_screens())  # fmt: skip
        ed.resize(1600, 900)
        ed.show()
        ed.select("wall-1", ed.doc.regions("wall-1")[0]["id"])
        ed.render_preview()
        qapp.processEvents()
        ed.grab().save(str(HERE / "layout-editor.png"))
        print(HERE / "palette.png", HERE / "layout-editor.png")


if __name__ == "__main__":
    main()
