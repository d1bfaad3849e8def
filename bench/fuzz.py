"""Fuzz what the wall reads from outside (issue 7): ≥ 1,000,000 generated inputs in total.

    .venv/bin/python bench/fuzz.py [--protocol 600000] [--layout 200000] [--config 200000]
        [--hypothesis 10000] [--out out/fuzz.json]

Two generators: tests.fuzzer (mutations of valid frames, layouts and configs:
structural and textual) and hypothesis (arbitrary JSON values and text through the
same three entry points). Every input must end in a result or one of the project's
own errors (WallclientError) within 2 s. Findings are written to out/fuzz-findings.jsonl.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from tests import fuzzer as fuzz  # noqa: E402


def _hypothesis(n: int) -> dict[str, int]:
    """Arbitrary JSON and text through the three entry points, ``n`` examples each."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from wallclient import config, layout, protocol
    from wallclient.errors import WallclientError

    counts = {"protocol": 0, "layout": 0, "config": 0}
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    values = st.recursive(
        scalars,
        lambda kids: (
            st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=8), kids, max_size=5)
        ),
        max_leaves=30,
    )
    frame = st.fixed_dictionaries({"v": st.just(1) | values, "type": st.sampled_from(sorted(protocol.STATE_TYPES) + ["ack", "welcome", "error", "x"]) | st.text(max_size=10),
                                   "seq": st.integers(min_value=-2, max_value=2**40) | values, "data": values})  # fmt: skip
    cfg = settings(
        max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )

    @cfg
    @given(st.one_of(frame.map(json.dumps), st.text(max_size=200)))
    def parse(text: str) -> None:
        counts["protocol"] += 1
        with contextlib.suppress(WallclientError):
            protocol.parse(text)

    @cfg
    @given(st.one_of(values.map(json.dumps), st.text(max_size=200)))
    def lay(text: str) -> None:
        counts["layout"] += 1
        with contextlib.suppress(WallclientError):
            layout.loads(text)

    @cfg
    @given(st.text(max_size=300))
    def conf(text: str) -> None:
        counts["config"] += 1
        with contextlib.suppress(WallclientError):
            config.loads(text)

    parse()
    lay()
    conf()
    return counts


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--protocol", type=int, default=600_000)
    ap.add_argument("--layout", type=int, default=200_000)
    ap.add_argument("--config", type=int, default=200_000)
    ap.add_argument("--hypothesis", type=int, default=10_000, help="examples per entry point")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", default=str(ROOT / "out" / "fuzz.json"))
    a = ap.parse_args()
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    findings_file = out.parent / "fuzz-findings.jsonl"
    findings_file.write_text("")

    def found(f: dict) -> None:
        with findings_file.open("a") as fh:
            fh.write(json.dumps(f, ensure_ascii=False) + "\n")

    report = {}
    counts = {"protocol": a.protocol, "layout": a.layout, "config": a.config}
    for target in fuzz.targets():
        r = fuzz.fuzz(target, counts[target.name], seed=a.seed, on_finding=found)
        report[target.name] = {"inputs": r.inputs, "accepted": r.accepted, "refused": r.refused,
                               "findings": len(r.findings), "slowest_ms": round(r.slowest_ms, 1),
                               "seconds": round(r.seconds, 1)}  # fmt: skip
        print(target.name, report[target.name], flush=True)
    t = time.perf_counter()
    hyp = _hypothesis(a.hypothesis) if a.hypothesis > 0 else {}
    report["hypothesis"] = {**hyp, "seconds": round(time.perf_counter() - t, 1)}
    total = sum(r["inputs"] for k, r in report.items() if k != "hypothesis") + sum(hyp.values())
    report["total_inputs"] = total
    out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    return 1 if any(r.get("findings") for r in report.values() if isinstance(r, dict)) else 0


if __name__ == "__main__":
    sys.exit(main())
