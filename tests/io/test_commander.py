"""A commander's switches against the reference backend over real WebSockets: pending
until wall.state confirms, emergency and back to the preset before, the server's refusal
kept and audited, and a local override while the backend is gone that the backend's
state replaces when it returns."""

import asyncio
import contextlib
import sqlite3
from datetime import datetime

import pytest

from tests.helpers import async_wait_for
from wallclient.config import Config
from wallclient.demo.district import District
from wallclient.demo.server import Backend
from wallclient.edges.commander import Commander
from wallclient.edges.sync import SyncClient
from wallclient.errors import CommandError

TOKENS = {"v": ("值班员", "viewer"), "c": ("指挥长", "commander")}


def _district():
    d = District(seed=2, cameras_n=60, presets_n=12, incidents_n=30)
    d.seed_incidents(datetime.now().astimezone())
    return d


@contextlib.asynccontextmanager
async def syncing(url, tmp_path, token, name):
    client = SyncClient(
        Config(server=url, wall="wall-1", node=name, cache=tmp_path / f"{name}.sqlite"), token
    )
    task = asyncio.create_task(client.run())
    try:
        yield client
    finally:
        await client.finish(task)
        client.close()


def _audit(path):
    db = sqlite3.connect(path)
    try:
        return db.execute(
            "SELECT user, role, action, outcome, detail FROM audit ORDER BY rowid"
        ).fetchall()
    finally:
        db.close()


def test_switches_confirm_refuse_and_audit(tmp_path):
    async def go():
        d = _district()
        b = Backend(d, tokens=TOKENS, rate=0, indicator_period=3600)
        port = await b.start("127.0.0.1", 0)
        url = f"ws://127.0.0.1:{port}/wall/v1"
        try:
            async with syncing(url, tmp_path, "c", "cmd") as client:
                await async_wait_for(lambda: client.feed.status.state == "live", what="live")
                cmd = Commander(client)
                assert cmd.may_switch()
                normal = next(
                    p
                    for p, v in d.presets.items()
                    if not v["emergency"] and p != d.walls["wall-1"]["preset"]
                )
                seen = []
                cmd.on_change = lambda: seen.append(cmd.view())
                assert (await cmd.activate(normal))["accepted"]
                await async_wait_for(
                    lambda: cmd.pending is None and client.state.wall["preset"] == normal
                )
                # it was pending from the send until wall.state showed it, then not
                assert seen[0]["pending"]["preset"] == normal and seen[-1]["pending"] is None
                emergency = next(p for p, v in d.presets.items() if v["emergency"])
                await cmd.emergency(emergency)
                await async_wait_for(lambda: client.state.wall["mode"] == "emergency"
                                     and client.state.wall["preset"] == emergency)  # fmt: skip
                assert cmd.before_emergency == normal
                await cmd.normal()
                await async_wait_for(lambda: client.state.wall["mode"] == "normal"
                                     and client.state.wall["preset"] == normal, what="back")  # fmt: skip
                with pytest.raises(CommandError) as exc:
                    await cmd.activate("no-such-preset")
                assert (
                    exc.value.code == "unknown_preset" and cmd.refusal["code"] == "unknown_preset"
                )
                assert client.writer.flush()
            async with syncing(url, tmp_path, "v", "view") as viewer:
                await async_wait_for(lambda: viewer.feed.status.state == "live")
                vc = Commander(viewer)
                assert not vc.may_switch()  # the UI hides switching for a viewer …
                with pytest.raises(CommandError) as exc:  # … and a stale UI meets the server's no
                    await vc.activate(normal)
                assert exc.value.code == "forbidden" and vc.refusal["code"] == "forbidden"
                assert viewer.writer.flush()
        finally:
            await b.stop()
        rows = _audit(tmp_path / "cmd.sqlite")
        assert [(r[2], r[3]) for r in rows] == [
            ("preset.activate", "ok"), ("preset.activate", "ok"), ("mode.set", "ok"),
            ("mode.set", "ok"), ("preset.activate", "ok"), ("preset.activate", "unknown_preset")]  # fmt: skip
        assert {r[0] for r in rows} == {"指挥长"}
        assert [r[:4] for r in _audit(tmp_path / "view.sqlite")] == [
            ("值班员", "viewer", "preset.activate", "forbidden")]  # fmt: skip

    asyncio.run(asyncio.wait_for(go(), 90))


def test_a_local_switch_while_the_backend_is_gone_yields_to_the_backend(tmp_path):
    async def go():
        d = _district()
        b = Backend(d, tokens=TOKENS, rate=0, indicator_period=3600)
        port = await b.start("127.0.0.1", 0)
        url = f"ws://127.0.0.1:{port}/wall/v1"
        async with syncing(url, tmp_path, "c", "cmd") as client:
            try:
                await async_wait_for(lambda: client.feed.status.state == "live")
                cmd = Commander(client)
                backend_preset = client.state.wall["preset"]
                await b.stop()
                await async_wait_for(lambda: client.feed.status.state != "live", what="offline")
                other = next(p for p in d.presets if p != backend_preset)
                result = await cmd.activate(other)
                assert result == {"accepted": False, "local": True}
                assert client.state.wall["preset"] == other and client.state.wall["local"]
                assert cmd.view()["local"] and client.status()["wall"]["local"] in (True, False)
                # the backend comes back (same port, its own state): its wall state wins
                b = Backend(d, tokens=TOKENS, rate=0, indicator_period=3600)
                await b.start("127.0.0.1", port)
                for _ in range(400):
                    cmd.poll()  # the app calls this on every tick
                    if client.feed.status.state == "live" and not client.state.wall.get("local"):
                        break
                    await asyncio.sleep(0.05)
                assert client.state.wall["preset"] == backend_preset
                assert not client.state.wall.get("local") and not cmd.view()["local"]
                assert client.writer.flush()
            finally:
                await b.stop()
        rows = _audit(tmp_path / "cmd.sqlite")
        assert ("local.switch", "local") in [(r[2], r[3]) for r in rows]
        assert ("preset.activate", "offline") in [(r[2], r[3]) for r in rows]

    asyncio.run(asyncio.wait_for(go(), 90))
