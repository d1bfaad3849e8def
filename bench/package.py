"""The offline bundle's budgets (issue 31), from a fresh ``make package-test`` run.

    sudo .venv/bin/python bench/package.py [--run]

``--run`` runs packaging/package_test.py first (minutes: fresh Debian 12 and 13 systems,
network cut); without it the last run's out/package-test/*.json are read. Prints each
budget with its figure and verdict (docs/benchmarks.md, "The offline bundle").
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "dist" / "offline"
RESULTS = ROOT / "out" / "package-test"


# (result key, what, budget in seconds, format): the budgets of issue 31 timed once a release
TIMED = [
    ("install_s", "install from the bundle", 180, ".0f"),
    ("doctor_s", "wallclient doctor", 10, ".1f"),
    ("headless_live_s", "run --headless live", 10, ".2f"),
]


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", action="store_true", help="run make package-test's script first")
    a = p.parse_args()
    if a.run:
        subprocess.run([sys.executable, str(ROOT / "packaging" / "package_test.py")], check=False)
    rows = []
    total = size_mb(BUNDLE)
    rows.append(("dist/offline", "≤ 250 MB", f"{total:.0f} MB", total <= 250))
    for folder in sorted(BUNDLE.glob("*/")):
        rows.append((f"  of it {folder.name}/", "", f"{size_mb(folder):.0f} MB", None))
    for result in sorted(RESULTS.glob("*.json")):
        r = json.loads(result.read_text(encoding="utf-8"))
        name = r["release"]
        if not r.get("passed"):
            rows.append(
                (f"{name}: package-test", "passes", "FAILED: " + r.get("failure", "")[:80], False)
            )
        for key, what, limit, unit in TIMED:
            if r.get(key) is not None:
                rows.append(
                    (f"{name}: {what}", f"≤ {limit} s", f"{r[key]:{unit}} s", r[key] <= limit)
                )
        full = r.get("full_wall_live_s") or {}
        if full.get("installed") and None not in full["installed"] + full["checkout"]:
            ours, theirs = statistics.median(full["installed"]), statistics.median(full["checkout"])
            rows.append((f"{name}: whole wall start→live", "≤ checkout + 1 s",
                         f"{ours:.2f} s vs {theirs:.2f} s (medians of {full['installed']} / {full['checkout']})",
                         ours <= theirs + 1.0))  # fmt: skip
    for what, budget, got, ok in rows:
        mark = "" if ok is None else ("✓" if ok else "✗")
        print(f"{what:<36} {budget:<18} {got} {mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
