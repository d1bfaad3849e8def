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
        "incident.ack", "incident.focus", "tile.snapshot", "map.drill",
    }  # fmt: skip
    with pytest.raises(ValueError, match="twice"):
        commands.wall_commands(table, _cap("viewer"))
    assert asyncio.run(table.handlers["status"]({})) == {"ok": 1}


def test_roles_are_ranked_and_an_unknown_or_missing_role_is_refused():
    _cap("installer").require("commander")
    _cap("commander").require("commander")
    for role in ("viewer", None, "admin?"):
        with pytest.raises(CommandError) as err:
            _cap(role).require("commander")
        assert err.value.code == "forbidden"
