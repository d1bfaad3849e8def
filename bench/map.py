"""Map frame time at full zoom-out with 77,000 cameras and 10,000 incidents (issue 6
budget: ≤ 16 ms), and what a view change (pan, zoom) costs.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/map.py [--cameras 77000]
        [--incidents 10000] [--size 1920x1080] [--png docs/screenshots/map-77000.png]
        [--graphicsview]

Loads the demo district into a WallState, shows one MapPanel at the given size on
Qt's offscreen platform and times, each over many repaints (``repaint()`` is a
synchronous paintEvent):

- frame: a repaint with nothing changed but the pulses (what the wall pays twice a
  second);
- view change: a repaint after the view moved (every cached layer redrawn: what a
  pan step or zoom notch costs);
- per layer: regions, cameras, each incident priority.

``--graphicsview`` also times the alternative considered: the same 87,000 markers as
QGraphicsItems in a QGraphicsScene, painted at full zoom-out.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _stats(xs: list[float]) -> str:
    xs = sorted(xs)
    return (
        f"p50 {statistics.median(xs):.1f} ms, p95 {xs[int(len(xs) * 0.95)]:.1f} ms, "
        f"max {xs[-1]:.1f} ms (n={len(xs)})"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cameras", type=int, default=77_000)
    ap.add_argument("--incidents", type=int, default=10_000)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--png", default="")
    ap.add_argument("--graphicsview", action="store_true")
    ap.add_argument("--basemap", default="", help="an MBTiles/PMTiles file under the map")
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.split("x"))

    from panels.hub import Context, Hub
    from panels.map import MapPanel
    from wallclient.app import make_app
    from wallclient.demo.district import District
    from wallclient.state import WallState

    app = make_app("zh_CN")
    t0 = time.perf_counter()
    d = District(seed=5, cameras_n=a.cameras, incidents_n=a.incidents)
    at = datetime.now(UTC)
    d.seed_incidents(at - timedelta(minutes=30))
    for _ in range(30):  # a few brand-new priority-1 ones, pulsing
        d.new_incident(at, priority=1)
    state = WallState("wall-1")
    state.load(d.tables(), None, 1)
    print(f"district: {len(d.cameras)} cameras, {len(d.incidents)} incidents, "
          f"{len(d.regions)} regions, {len(d.layers)} layers ({time.perf_counter() - t0:.1f} s)")  # fmt: skip
    ctx = Context(state=state, status=lambda: {}, server_now=lambda: datetime.now(UTC))
    t = time.perf_counter()
    grid = ctx.locator.grid
    print(f"camera index: {len(grid)} cameras in {(time.perf_counter() - t) * 1000:.0f} ms")
    if a.basemap:
        from panels.basemap import Basemap

        ctx.basemap = Basemap.open(a.basemap)
    hub = Hub(ctx)
    panel = MapPanel(ctx, hub, h / 1080, {"level": "street"})
    panel.resize(w, h)
    panel.show()
    app.processEvents()

    if ctx.basemap is not None:
        _basemap_views(app, panel, ctx.basemap)
    panel.repaint()  # first paint: everything drawn
    first = panel.paint_ms[-1]
    frames = []
    for _ in range(60):
        panel.repaint()
        frames.append(panel.paint_ms[-1])
    changes = []
    for i in range(30):  # the view moves a little each time, zoom stays at fit
        panel.pan_by(3 if i % 2 else -3, 0)
        panel.repaint()
        changes.append(panel.paint_ms[-1])
    print(f"first paint {first:.1f} ms")
    print(f"frame at full zoom-out: {_stats(frames)}")
    print(f"view change (pan) at full zoom-out: {_stats(changes)}")
    # one layer at a time, as the view change paid for them
    from PySide6.QtGui import QPainter, QPixmap

    xy = panel._projection()
    pm = QPixmap(panel.size())
    for name, fn in (
        ("regions", panel._draw_base),
        ("cameras", panel._draw_cameras),
        ("layers", panel._draw_overlay),
    ):
        times = []
        for _ in range(10):
            p = QPainter(pm)
            t = time.perf_counter()
            fn(p, xy)
            times.append((time.perf_counter() - t) * 1000)
            p.end()
        print(f"  layer {name}: {_stats(times)}")
    marks = panel._marks_for()
    for prio in (1, 2, 3, 4):
        times = []
        for _ in range(10):
            t = time.perf_counter()
            panel._draw_prio(prio, marks)
            times.append((time.perf_counter() - t) * 1000)
        n = sum(1 for m in marks.values() if m[0] == prio)
        print(f"  incidents P{prio} ({n}): {_stats(times)}")
    zooms = []
    for _ in range(6):
        panel.zoom_by(2.0)
        panel.repaint()
        zooms.append(panel.paint_ms[-1])
    print(f"zoom steps ×2 down to ×64: {', '.join(f'{z:.0f}' for z in zooms)} ms")
    panel.fit()
    panel.repaint()
    if a.png:
        panel.grab().save(a.png)
        print(f"screenshot: {a.png}")
    if a.graphicsview:
        _graphicsview(state, w, h)
    hub.close()


def _basemap_views(app, panel, basemap) -> None:
    """New views over the basemap, each until every visible tile is drawn (not a parent's
    stand-in): the time from the view change to that paint, and the frames meanwhile."""
    import random

    rng = random.Random(3)
    settle, frames = [], []
    for i in range(20):
        panel.fit()
        panel.zoom = 2 ** rng.uniform(1, 5)  # street to area zoom, 2–32 × the fit
        box = panel._home_box()
        panel.centre = (rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3]))
        panel._view_changed()
        t = time.perf_counter()
        while True:
            panel.repaint()
            frames.append(panel.paint_ms[-1])
            if basemap.waiting == 0 and i >= 0:
                break
            app.processEvents()
            time.sleep(0.002)
            if time.perf_counter() - t > 5:
                raise AssertionError("tiles never came")
        settle.append((time.perf_counter() - t) * 1000)
    print(f"basemap: new view fully drawn: {_stats(settle)}")
    print(f"basemap: frames while tiles come: {_stats(frames)}")
    print(f"basemap: {basemap.status()}, cached {len(basemap._cache)} tiles")
    panel.fit()


def _graphicsview(state, w: int, h: int) -> None:
    """The same markers as QGraphicsItems: what QGraphicsView would cost."""
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QBrush, QColor, QPen
    from PySide6.QtWidgets import QGraphicsScene, QGraphicsView  # noqa: I001

    scene = QGraphicsScene()
    t = time.perf_counter()
    pen = QPen(QColor(77, 163, 255))
    brush = QBrush(QColor(77, 163, 255))
    for cam in state.cameras.values():
        loc = cam.get("location")
        if loc:
            scene.addRect(QRectF(loc["lon"] * 1e4, -loc["lat"] * 1e4, 2, 2), pen, brush)
    for inc in state.incidents.values():
        loc = inc.get("location")
        if loc:
            scene.addEllipse(QRectF(loc["lon"] * 1e4, -loc["lat"] * 1e4, 6, 6), pen, brush)
    build = (time.perf_counter() - t) * 1000
    from PySide6.QtGui import QPainter, QPixmap

    view = QGraphicsView(scene)
    view.resize(w, h)
    view.fitInView(scene.itemsBoundingRect())
    pm = QPixmap(w, h)
    times = []
    for _ in range(10):  # render() paints every item in view, as a full repaint does
        p = QPainter(pm)
        t = time.perf_counter()
        scene.render(p, QRectF(0, 0, w, h), scene.itemsBoundingRect())
        times.append((time.perf_counter() - t) * 1000)
        p.end()
    print(f"QGraphicsView with {len(scene.items())} items: build {build:.0f} ms, "
          f"frame {_stats(times)}")  # fmt: skip


if __name__ == "__main__":
    main()
