"""The commander's tablet (issue 29) against its budgets, in real Chromium.

    .venv/bin/python bench/tablet.py [--taps 20] [--cpu-s 60] [--backend-nice 10]

The whole six-screen district wall (`wallclient run --offscreen`, the default layout)
against the reference backend, its tablet page on HTTPS, driven by Playwright on Debian's
Chromium (a 1024-px tablet with touch unless said). Measured:

- ``ack``: tap a preset → its ack on the page (the page's own clock, tap handler to
  reply), p50/p95. Budget p95 ≤ 100 ms.
- ``retarget``: tap a preset → every tile of the wall on the preset's cameras (the wall's
  ``status``, polled every 50 ms), p50/p95. Budget p95 ≤ 500 ms.
- ``lift``: finger lifted from the PTZ pad → ``ptz.stop`` at the backend (its own clock).
  Budget ≤ 250 ms. ``quiet``: the page's script frozen mid-move (Wi-Fi gone, as the wall
  sees it) → the stop. Budget ≤ 1.5 s.
- ``thumbs``: over 30 s on the wall tab — the age of what the page shows (≤ 5 s), each
  thumbnail's size (≤ 30 KB), bytes a second per tablet (≤ 100 KB/s).
- ``cpu``: the wall process's CPU over ``--cpu-s`` seconds with no tablet, then with three
  looking at the wall tab. Budget ≤ 3 % of a core more; with none, no thumbnail made.
- ``without_tablet``: the same switches through the wall's own control API with no
  tablet — what the wall itself takes, beside the tablet's figures.

The backend, its cameras and Chromium share this machine's 2 cores with the wall: they run
at ``--backend-nice`` (10) and take what the wall leaves, as on a wall PC that hosts none of
them and a tablet that is its own device (0: equal shares).

Leaves no process behind.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.helpers import DemoServer, WallProcess, free_port, wait_for  # noqa: E402

TABLET = {"viewport": {"width": 1024, "height": 1366}, "has_touch": True, "is_mobile": True}


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(p * len(xs)))], 1) if xs else float("nan")


def _until(cond: Any, limit: float, every: float = 0.05) -> None:
    """Poll the wall's status every 50 ms (faster polling is itself load on its GUI thread)."""
    end = time.monotonic() + limit
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("the wall did not follow")
        time.sleep(every)


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100


def open_page(browser: Any, wall: WallProcess, tport: int, name: str) -> tuple[Any, Any]:
    url = wall.control.ok("tablet.pair", name=name, role="commander")["url"]
    url = f"https://127.0.0.1:{tport}/pair/{url.rsplit('/', 1)[1]}"
    ctx = browser.new_context(ignore_https_errors=True, locale="zh-CN", **TABLET)
    page = ctx.new_page()
    page.goto(url)
    wait_for(lambda: page.evaluate("document.querySelectorAll('[data-screen] img[src]').length >= 6"), 30, "thumbs")
    return ctx, page


def yield_cpu(exe: str, nice: int) -> None:
    """Renice this user's running ``exe`` processes (their later children inherit it)."""
    if not nice:
        return
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "exe")).name.startswith(exe):
                    os.setpriority(os.PRIO_PROCESS, int(entry.name), nice)
            except OSError:
                continue  # gone meanwhile, or not ours


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--taps", type=int, default=20)
    ap.add_argument("--cpu-s", type=float, default=60)
    ap.add_argument("--backend-nice", type=int, default=10)
    a = ap.parse_args()
    tmp = Path(f"/tmp/wallclient-tablet-{time.time():.0f}")
    tmp.mkdir()
    server = DemoServer(tmp)
    server.nice = a.backend_nice
    server.start()
    tport = free_port()
    wall = WallProcess(tmp, server.url, "tok-commander", "--tablet-port", str(tport))
    out: dict[str, Any] = {}
    try:
        wall.start()
        wait_for(lambda: wall.conn()["state"] == "live", 60, "live")
        time.sleep(10)  # the wall settles (first presets playing)
        pid = wall.proc.pid if wall.proc else 0
        # --- CPU with no tablet: and no thumbnail made
        made0 = wall.control.ok("status")["tablet"]["thumbs_made"]
        c0, t0 = cpu_s(pid), time.monotonic()
        time.sleep(a.cpu_s)
        none_pct = (cpu_s(pid) - c0) / (time.monotonic() - t0) * 100
        made_idle = wall.control.ok("status")["tablet"]["thumbs_made"] - made0
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--ignore-certificate-errors"])
            pages = [open_page(browser, wall, tport, f"平板{i}") for i in range(3)]
            yield_cpu("chromium", a.backend_nice)  # the tablets are devices of their own
            time.sleep(5)
            c0, t0 = cpu_s(pid), time.monotonic()
            time.sleep(a.cpu_s)
            three_pct = (cpu_s(pid) - c0) / (time.monotonic() - t0) * 100
            out["cpu"] = {"none_pct_of_core": round(none_pct, 1), "three_tablets_pct_of_core": round(three_pct, 1),
                          "extra_pct": round(three_pct - none_pct, 1), "thumbs_made_with_none": made_idle}  # fmt: skip
            for ctx, _page in pages[1:]:
                ctx.close()
            ctx, page = pages[0]
            # --- thumbnails over 30 s
            page.evaluate("performance.clearResourceTimings()")
            time.sleep(30)
            sizes = page.evaluate("performance.getEntriesByType('resource').filter(e => e.name.includes('/thumb/'))"
                                  ".map(e => e.encodedBodySize)")  # fmt: skip
            ages = [float(x.rstrip(" s")) for x in page.evaluate(
                "[...document.querySelectorAll('[data-screen] .age')].map(e => e.textContent)") if x]  # fmt: skip
            out["thumbs"] = {"n": len(sizes), "max_kb": round(max(sizes) / 1024, 1), "p50_kb": round(pct(sizes, 0.5) / 1024, 1),
                             "kb_per_s": round(sum(sizes) / 1024 / 30, 1), "shown_age_max_s": max(ages) if ages else None}  # fmt: skip
            # --- taps on presets: ack on the page, every tile re-targeted on the wall
            page.tap('nav [data-tab="presets"]')
            page.wait_for_selector("[data-preset]")
            presets = [pr for pr in server.admin("initial")["tables"]["presets"] if not pr["emergency"] and pr["cameras"]]
            acks, retarget = [], []
            for i in range(a.taps):
                pr = presets[(i * 7) % len(presets)]
                if wall.status()["wall"]["preset"] == pr["id"]:
                    continue
                page.fill("#pq", pr["id"])
                page.wait_for_selector(f'[data-preset="{pr["id"]}"]')
                time.sleep(0.3)
                t0 = time.monotonic()
                page.tap(f'[data-preset="{pr["id"]}"]')
                want = pr["id"]

                def moved(want: str = want) -> bool:
                    st = wall.status()
                    return st["wall"]["preset"] == want and all(t["state"] != "idle" or not t["camera"] for t in st["tiles"])

                _until(moved, 10)
                retarget.append((time.monotonic() - t0) * 1000)
                got = wait_for(lambda: page.get_attribute("body", "data-ack-preset-activate"), 5, "ack")
                acks.append(float(got))
                page.evaluate("document.body.removeAttribute('data-ack-preset-activate')")
                time.sleep(1.0)
            out["ack_ms"] = {"p50": pct(acks, 0.5), "p95": pct(acks, 0.95), "n": len(acks)}
            out["retarget_ms"] = {"p50": pct(retarget, 0.5), "p95": pct(retarget, 0.95), "n": len(retarget)}
            # --- PTZ: finger lifted, page gone quiet
            dome = next(c["id"] for c in server.admin("cameras") if c.get("ptz") and c["status"] == "online")
            wall.control.ok("tile.place", tile=0, camera=dome)
            page.tap('nav [data-tab="wall"]')
            page.tap('[data-tile="0"]')
            pad = page.locator("[data-ptz-pad]")
            pad.wait_for(state="visible")
            box = pad.bounding_box()
            cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            lifts, quiets = [], []
            for k in range(5):
                page.mouse.move(cx, cy)
                page.mouse.down()
                page.mouse.move(cx + box["width"] * 0.4 * (1 if k % 2 else -1), cy, steps=3)
                wait_for(lambda: server.admin("ptz")[dome]["moving"], 5, "moving")
                time.sleep(0.5)
                lifted = time.time()
                page.mouse.up()
                wait_for(lambda: not server.admin("ptz")[dome]["moving"], 5, "stopped")
                lifts.append((server.admin("ptz")[dome]["stopped_at"] - lifted) * 1000)
                time.sleep(1.0)
            for _ in range(3):
                page.mouse.move(cx, cy)
                page.mouse.down()
                page.mouse.move(cx, cy - box["height"] * 0.4, steps=3)
                wait_for(lambda: server.admin("ptz")[dome]["moving"], 5, "moving")
                quiet = time.time()
                page.evaluate("() => { const t = Date.now(); while (Date.now() - t < 2500) {} }")
                quiets.append((server.admin("ptz")[dome]["stopped_at"] - quiet) * 1000)
                page.mouse.up()
                time.sleep(1.0)
            out["ptz_ms"] = {"lift_max": round(max(lifts)), "lift_p50": pct(lifts, 0.5),
                             "quiet_max": round(max(quiets)), "quiet_p50": pct(quiets, 0.5)}  # fmt: skip
            ctx.close()
            browser.close()
        # (after the browser: no tablet connected, the CPU windows above on one preset)
        # --- the same switches through the wall's own control API, no tablet: what the wall
        # itself takes (the backend's ack, the GUI thread), for the tablet's figures beside it
        presets = [pr for pr in server.admin("initial")["tables"]["presets"] if not pr["emergency"] and pr["cameras"]]
        c_acks, c_shown = [], []
        for i in range(a.taps):
            pr = presets[(i * 7 + 3) % len(presets)]
            if wall.status()["wall"]["preset"] == pr["id"]:
                continue
            t0 = time.monotonic()
            wall.control.ok("preset.activate", preset=pr["id"])
            c_acks.append((time.monotonic() - t0) * 1000)

            def shown(want: str = pr["id"]) -> bool:
                st = wall.status()
                return st["wall"]["preset"] == want and all(t["state"] != "idle" or not t["camera"] for t in st["tiles"])

            _until(shown, 10)
            c_shown.append((time.monotonic() - t0) * 1000)
            time.sleep(1.0)
        out["without_tablet"] = {"control_ack_ms": {"p50": pct(c_acks, 0.5), "p95": pct(c_acks, 0.95)},
                                 "retarget_ms": {"p50": pct(c_shown, 0.5), "p95": pct(c_shown, 0.95)},
                                 "n": len(c_acks)}  # fmt: skip
    finally:
        print(json.dumps(out, ensure_ascii=False), flush=True)  # what was measured, whatever happens
        wall.stop()
        server.stop()
    out["budget"] = {
        "ack_p95_le_100ms": out["ack_ms"]["p95"] <= 100,
        "retarget_p95_le_500ms": out["retarget_ms"]["p95"] <= 500,
        "lift_le_250ms": out["ptz_ms"]["lift_max"] <= 250,
        "quiet_le_1500ms": out["ptz_ms"]["quiet_max"] <= 1500,
        "thumb_le_30kb": out["thumbs"]["max_kb"] <= 30,
        "thumb_le_100kbps": out["thumbs"]["kb_per_s"] <= 100,
        "thumb_age_le_5s": (out["thumbs"]["shown_age_max_s"] or 0) <= 5,
        "cpu_extra_le_3pct": out["cpu"]["extra_pct"] <= 3,
        "no_thumbs_with_none": out["cpu"]["thumbs_made_with_none"] == 0,
    }
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0 if all(out["budget"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
