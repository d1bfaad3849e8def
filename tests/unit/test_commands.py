"""The control API's command table is built from what each capability registers."""

import asyncio
from types import SimpleNamespace

import pytest

from wallclient import commands
from wallclient.errors import CommandError


def _cap(role):
    client = SimpleNamespace(feed=SimpleNamespace(status=SimpleNamespace(role=role)))
    return commands.Capabilities(client=client, wall=None, status=lambda: {"ok": 1}, commander=None)


def test_every_capability_registers_its_commands_once():
    table = commands.build(_cap("viewer"))
    assert set(table.handlers) == {
        "status", "snapshot", "preset.activate", "mode.set", "emergency", "normal",
        "incident.ack", "incident.focus", "tile.snapshot", "tile.place", "tile.zoom", "tile.maximise",
        "map.drill", "resources.types", "resources.allocations",
        "ptz.move", "ptz.stop", "ptz.goto", "ptz.point", "incident.dispatch", "incident.advance",
        "incident.note", "incident.card",
        "replay.start", "replay.stop", "replay.control", "incident.replay", "replay.past",
        "bookmark.add", "export", "tablet.pair", "tablet.list", "tablet.revoke",
    }  # fmt: skip
    with pytest.raises(ValueError, match="twice"):
        commands.wall_commands(table, _cap("viewer"))
    assert asyncio.run(table.handlers["status"]({})) == {"ok": 1}


def test_tablets_are_paired_by_a_commander_never_above_the_walls_role_and_only_where_the_page_is_on():
    viewer = commands.build(_cap("viewer"))
    with pytest.raises(CommandError) as err:
        asyncio.run(viewer.handlers["tablet.pair"]({"name": "平板", "role": "viewer"}))
    assert err.value.code == "forbidden"
    commander = commands.build(_cap("commander"))
    with pytest.raises(CommandError) as err:  # a commander's wall pairs no installer
        asyncio.run(commander.handlers["tablet.pair"]({"name": "平板", "role": "installer"}))
    assert err.value.code == "forbidden"
    with pytest.raises(CommandError) as err:  # [tablet] port off
        asyncio.run(commander.handlers["tablet.pair"]({"name": "平板", "role": "commander"}))
    assert err.value.code == "not_offered"


def test_an_export_needs_a_commander_and_a_node_without_replay_says_so():
    with pytest.raises(CommandError) as err:  # refused before anything is written
        asyncio.run(commands.build(_cap("viewer")).handlers["export"]({"incident": "x", "dir": "/tmp"}))
    assert err.value.code == "forbidden"
    with pytest.raises(CommandError) as err:
        asyncio.run(commands.build(_cap("viewer")).handlers["replay.start"]({"tile": 0, "seconds_back": 30}))
    assert err.value.code == "no_playback"


def test_roles_are_ranked_and_an_unknown_or_missing_role_is_refused():
    _cap("installer").require("commander")
    _cap("commander").require("commander")
    for role in ("viewer", None, "admin?"):
        with pytest.raises(CommandError) as err:
            _cap(role).require("commander")
        assert err.value.code == "forbidden"
