"""Panels under test are built on real state: a WallState filled from the demo district."""

from datetime import datetime

import pytest

from panels.hub import Context, Hub
from wallclient.demo.district import District
from wallclient.protocol import now
from wallclient.state import WallState


@pytest.fixture
def district():
    d = District(seed=9)
    d.seed_incidents(datetime.now().astimezone())
    return d


@pytest.fixture
def ctx(district):
    state = WallState("wall-1")
    state.load(district.tables(), district.walls["wall-1"], 100)
    status = {
        "connection": {"state": "live", "since": None, "last_seq": 100, "data_age_s": 0.2, "error": None},
        "user": "值班员", "role": "viewer", "wall": dict(district.walls["wall-1"]),
        "incidents": {"open": 0, "overdue": 0},
    }  # fmt: skip
    acks: list[str] = []

    def current_status():
        status["wall"] = dict(state.wall or {})
        return status

    c = Context(state=state, status=current_status, server_now=now, ack_incident=acks.append)
    c.acks = acks  # type: ignore[attr-defined]
    c.status_dict = status  # type: ignore[attr-defined]
    return c


@pytest.fixture
def hub(ctx, qtbot):
    h = Hub(ctx, interval_ms=50)
    yield h
    h.close()
