"""The import graph of the video house and the composition root (docs/house.md):
``python bench/house_graph.py ROOT`` prints its edges, as mermaid lines, for the
checkout at ROOT (run it from outside any checkout, e.g. ``cd /tmp``)."""

import sys

import grimp

HOUSE = ("wallclient.edges.video", "panels.video", "wallclient.app", "wallclient.display",
         "wallclient.installer", "wallclient.heartbeat", "wallclient.demo.start",
         "wallclient.cli", "wallclient.doctor", "wallclient.fonts")  # fmt: skip
NEIGHBOURS = ("panels.theme", "panels.steer", "panels.hub", "wallclient.edges.playback")
USERS = ("panels.steer", "panels.wall", "panels.timeline", "wallclient.edges.playback")


def in_house(module: str) -> bool:
    return module.startswith(HOUSE)


def main() -> None:
    sys.path.insert(0, sys.argv[1])
    graph = grimp.build_graph("wallclient", "panels", include_external_packages=False)
    edges = set()
    for m in sorted(graph.modules):
        for d in graph.find_modules_directly_imported_by(m):
            if (in_house(m) and (in_house(d) or d in NEIGHBOURS)) or (m in USERS and in_house(d)):
                edges.add((m, d))
    for a, b in sorted(edges):
        print(f"  {a} --> {b}")


if __name__ == "__main__":
    main()
