"""The map under a hand that pans and zooms it, at a real district's size (issue 16's budgets).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/map.py
        [--basemap ~/.cache/wallclient/basemap-jiading-7-v2.mbtiles] [--cameras 77000]
        [--incidents 10000] [--units 2000] [--size 1920x1080] [--png out.png]

One MapPanel of the given size on Qt's offscreen platform, with the demo district's
cameras and incidents, ``--units`` units with 30 minutes of track each, and the basemap,
driven by the wall's own hub, garbage-collector pacing and event loop (no synchronous
repaints: what a wall does):

- gestures: 12 of them, each 1.5 s of view changes at 60 Hz (drag steps of 8 px, or wheel
  notches of 1.05×) at a random place and zoom, then 0.6 s still. Every paint is timed
  (``frame``), and every turn of the event loop (``turn``: a 2-ms timer's lateness, which
  holds whatever ran before it: paints, layer slices, hub ticks, tile arrivals);
- new view: 30 jumps to a random place and zoom (area to street), each timed until the
  screen shows it with every visible tile the file's own (no parent stand-in), its
  regions, cameras and incidents (``shown``), and until every layer is drawn for it
  (heat, cones, units and tracks too: ``fully drawn``);
- units at 1 Hz: every unit moves once a second (state + hub + map, as the wall gets
  ``unit.positions``), 20 s with and 20 s without, the process's CPU time compared.

The longest turn over the whole run is the GUI stall (budget 50 ms).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _stats(xs: list[float]) -> str:
    xs = sorted(xs)
    if not xs:
        return "(none)"
    return (f"p50 {statistics.median(xs):.1f}, p95 {xs[int(len(xs) * 0.95)]:.1f}, "
            f"p99 {xs[min(len(xs) - 1, int(len(xs) * 0.99))]:.1f}, max {xs[-1]:.1f} ms (n={len(xs)})")  # fmt: skip


class Turns:
    """Each turn of the event loop, seen as a 2-ms timer's lateness."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setInterval(2)
        self._timer.timeout.connect(self._fire)
        self._timer.start()

    def _fire(self) -> None:
        t = time.perf_counter()
        self.gaps.append(max(0.0, (t - self._last) * 1000 - 2))
        self._last = t

    def watch(self) -> None:
        """(--verbose) print the GUI thread's stack when a turn runs past 40 ms."""
        import sys
        import threading
        import traceback

        main = threading.main_thread().ident

        def run() -> None:
            while True:
                time.sleep(0.01)
                if (time.perf_counter() - self._last) * 1000 > 40:
                    frame = sys._current_frames().get(main)
                    if frame is not None:
                        print("long turn:", "".join(traceback.format_stack(frame)[-6:]), file=sys.stderr)
                    time.sleep(0.1)

        threading.Thread(target=run, daemon=True).start()

    def take(self) -> list[float]:
        out, self.gaps = self.gaps, []
        self._last = time.perf_counter()
        return out


def run_for(app, seconds: float, step=None, every: float = 1 / 60) -> None:
    """Run the event loop for ``seconds``, calling ``step()`` every ``every`` seconds."""
    end = time.perf_counter() + seconds
    due = time.perf_counter()
    while time.perf_counter() < end:
        if step is not None and time.perf_counter() >= due:
            step()
            due += every
        app.processEvents()
        time.sleep(0.0005)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cameras", type=int, default=77_000)
    ap.add_argument("--incidents", type=int, default=10_000)
    ap.add_argument("--units", type=int, default=2_000)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--basemap", default=os.path.expanduser("~/.cache/wallclient/basemap-jiading-7-v2.mbtiles"))
    ap.add_argument("--png", default="")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--units-only", action="store_true", help="only the units at 1 Hz (to profile them)")
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.split("x"))

    from PySide6.QtCore import QPointF

    from panels.hub import Context, Hub
    from panels.map import MapPanel
    from panels.map.basemap import Basemap
    from wallclient import app as app_mod
    from wallclient.app import make_app
    from wallclient.demo.district import District
    from wallclient.state import WallState

    app = make_app("zh_CN")
    t0 = time.perf_counter()
    d = District(seed=7, cameras_n=a.cameras, incidents_n=a.incidents, units_n=a.units)
    at = datetime.now(UTC)
    d.seed_incidents(at - timedelta(minutes=30))
    for _ in range(30):  # a few brand-new priority-1 ones, pulsing
        d.new_incident(at, priority=1)
    state = WallState("wall-1")
    state.load(d.tables(), None, 1)
    # 30 minutes of every unit's track, one fix per 10 s (what the wall keeps)
    start = at - timedelta(minutes=30)
    for i in range(180):
        kind, data = d.unit_positions(start + timedelta(seconds=10 * i), 10.0)
        state.apply(kind, data)
    print(f"district: {len(d.cameras)} cameras, {len(d.incidents)} incidents, {len(state.units)} units "
          f"with {sum(len(t) for t in state.tracks.points.values())} fixes ({time.perf_counter() - t0:.1f} s)")  # fmt: skip
    ctx = Context(state=state, status=lambda: {}, server_now=lambda: datetime.now(UTC))
    ctx.locator.grid  # noqa: B018 (the index built before the clock starts)
    ctx.basemap = Basemap.open(a.basemap) if a.basemap else None
    if ctx.basemap is not None:
        print(f"basemap: {ctx.basemap.status()}")
    hub = Hub(ctx)
    # the collector as `wallclient run` sets it up: loaded data frozen out of its view,
    # its costly passes at the start of a turn of the event loop
    app_mod._freeze_after_loads(state)
    app_mod.pace_collector(hub)
    panel = MapPanel(ctx, hub, h / 1080, {"level": "street"})
    panel.resize(w, h)
    panel.show()
    run_for(app, 1.0)
    panel.settle()
    turns = Turns()
    if a.verbose:
        turns.watch()
    rng = random.Random(3)
    box = panel._home_box()
    assert box is not None

    def somewhere() -> None:
        panel.fit()
        panel.zoom = 2 ** rng.uniform(1, 5)  # area to street zoom: 2–32 × the district's fit
        panel.centre = (rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3]))
        panel._view_changed()

    def ground() -> bool:
        """Every visible tile on the screen, with the regions, cameras and incidents."""
        basemap = ctx.basemap
        return panel.settled(("basemap", "ground")) and (basemap is None or basemap.waiting == 0)

    def drawn() -> bool:
        return panel.settled() and ground()

    # --- new views, each until fully drawn ---
    settle: list[float] = []
    shown: list[float] = []
    for _ in range(0 if a.units_only else 30):
        somewhere()
        t = time.perf_counter()
        panel.work_ms.clear()
        for pic in panel._pics.values():
            pic.step_ms.clear()
        layers_at = None
        while not drawn():
            app.processEvents()
            time.sleep(0.0005)
            if layers_at is None and panel.showing() and ground():
                layers_at = time.perf_counter()
                shown.append((layers_at - t) * 1000)
            if time.perf_counter() - t > 10:
                raise AssertionError("a view never finished drawing")
        settle.append((time.perf_counter() - t) * 1000)
        if layers_at is None:
            shown.append(settle[-1])
        if a.verbose:
            print(f"  view ×{panel.zoom:.1f}: {settle[-1]:.0f} ms, tiles and incidents shown at "
                  f"{shown[-1]:.0f} ms, drawing "
                  f"{sum(panel.work_ms):.0f} ms in {len(panel.work_ms)} turns: "
                  + ", ".join(f"{n} {sum(pic.step_ms):.0f}" for n, pic in panel._pics.items() if pic.step_ms))  # fmt: skip
        run_for(app, 0.3)
    views_turns = turns.take()

    # --- gestures ---
    paints: list[float] = []
    for g in range(0 if a.units_only else 12):
        somewhere()
        run_for(app, 0.3)
        panel.paint_ms.clear()
        if g % 2:
            sign = rng.choice((-1, 1))
            run_for(app, 1.5, lambda sign=sign: panel.pan_by(8 * sign, 5 * sign))
        else:
            here = QPointF(rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h)
            factor = rng.choice((1.05, 1 / 1.05))
            run_for(app, 1.5, lambda here=here, factor=factor: panel.zoom_by(factor, here))
        run_for(app, 0.6)
        paints += panel.paint_ms
    gesture_turns = turns.take()
    print(f"new view shown (every visible tile, regions, cameras, incidents): {_stats(shown)}")
    print(f"new view fully drawn (every layer: and heat, cones, units, tracks): {_stats(settle)}")
    print(f"  event-loop turns meanwhile: {_stats(views_turns)}")
    print(f"gestures: frames (paint): {_stats(paints)}")
    print(f"gestures: event-loop turns: {_stats(gesture_turns)}")
    slices = sorted(panel.work_ms)
    print(f"  layer slices (last {len(slices)}): {_stats(slices)}")
    for name, pic in panel._pics.items():
        if pic.step_ms and a.verbose:
            print(f"    {name}: steps {_stats(pic.step_ms)}")

    # --- units at 1 Hz ---
    panel.fit()
    panel.settle()

    # the backend's side (the demo district moving its units) made beforehand: only what
    # the wall does with each batch is measured
    batches = [d.unit_positions(datetime.now(UTC) + timedelta(seconds=i), 1.0) for i in range(45)]

    def move_units() -> None:
        kind, data = batches.pop(0)
        data = {**data, "t": datetime.now(UTC).isoformat()}
        state.apply(kind, data)
        hub.poke("units")

    turns.take()
    cpu = {}
    for label, step in (("still", None), ("moving", move_units), ("still", None), ("moving", move_units)):
        c0 = time.process_time()
        run_for(app, 10.0, step, every=1.0)
        cpu.setdefault(label, []).append((time.process_time() - c0) / 10.0 * 100)
    still, moving = statistics.mean(cpu["still"]), statistics.mean(cpu["moving"])
    unit_turns = turns.take()
    print(f"units at 1 Hz ({len(state.units)}): CPU {moving:.1f} % of a core moving, {still:.1f} % still "
          f"→ the units cost {moving - still:.1f} %")  # fmt: skip
    print(f"  event-loop turns meanwhile: {_stats(unit_turns)}")
    stall = max(views_turns + gesture_turns + unit_turns)
    print(f"GUI stall (longest turn, whole run): {stall:.0f} ms")
    if a.png:
        panel.settle()
        panel.grab().save(a.png)
        print(f"screenshot: {a.png}")
    hub.close()


if __name__ == "__main__":
    main()
