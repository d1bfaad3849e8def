"""The feed against the reference backend over real WebSockets on 127.0.0.1 (port 0)."""

import asyncio
import contextlib
from datetime import datetime

import pytest

from tests.helpers import async_wait_for, feed_client
from wallclient.demo.district import District
from wallclient.demo.server import Backend
from wallclient.errors import CommandError

TOKENS = {"v": ("值班员", "viewer"), "c": ("指挥长", "commander")}


@contextlib.asynccontextmanager
async def backend(**kw):
    d = District(seed=2, cameras_n=60, presets_n=8, incidents_n=30)
    d.seed_incidents(datetime.now().astimezone())
    b = Backend(d, tokens=TOKENS, rate=0, indicator_period=3600, **kw)
    port = await b.start("127.0.0.1", 0)
    try:
        yield b, f"ws://127.0.0.1:{port}/wall/v1"
    finally:
        await b.stop()


def client(url, tmp_path, token="c", last_seq=None, cache_name="c.sqlite"):
    return feed_client(url, tmp_path / cache_name, token, last_seq)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_snapshot_live_updates_and_state_matches_the_backend(tmp_path):
    async def go():
        async with backend() as (b, url), client(url, tmp_path) as (feed, state, writer):
            await async_wait_for(lambda: feed.status.state == "live", what="live")
            assert feed.status.snapshots == 1 and feed.status.role == "commander"
            b.publish(*b.district.camera_flip())
            for _ in range(50):
                for t, d in b.district.incident_event(datetime.now().astimezone()):
                    b.publish(t, d)
            await async_wait_for(lambda: state.last_seq == b.seq, what="caught up")
            view = state.view()
            expected = b.view()
            assert (
                view["incidents"] == expected["incidents"]
                and view["cameras"] == expected["cameras"]
            )
            assert writer.flush() and writer.written_seq == b.seq

    run(go())


def test_gap_resumes_and_duplicates_are_ignored(tmp_path):
    async def go():
        async with backend() as (b, url), client(url, tmp_path) as (feed, state, _):
            await async_wait_for(lambda: feed.status.state == "live")
            for c in b.clients:
                c.drop = 1  # one frame lost on the way: the next one shows a gap
            for _ in range(5):
                b.publish(*b.district.camera_flip())
            await async_wait_for(
                lambda: feed.status.gaps == 1 and state.last_seq == b.seq, what="resumed"
            )
            assert feed.status.snapshots == 1  # resumed from the replay window, no second snapshot
            await async_wait_for(lambda: b.clients)
            for c in b.clients:
                for _, text in list(b.log)[-3:]:
                    c.queue.put_nowait(text)
            await async_wait_for(lambda: feed.status.duplicates == 3)
            assert state.last_seq == b.seq

    run(go())


def test_invalid_message_is_skipped_counted_and_kept_while_the_connection_stays(tmp_path):
    async def go():
        async with backend() as (b, url), client(url, tmp_path) as (feed, state, writer):
            await async_wait_for(lambda: feed.status.state == "live")
            reconnects = feed.status.reconnects
            b.publish_raw(
                '{"v":1,"type":"incident.upsert","seq":{seq},"data":{"id":7}}', with_seq=True
            )
            b.publish_raw("{not json", with_seq=False)
            b.publish(*b.district.camera_flip())
            await async_wait_for(lambda: state.last_seq == b.seq and feed.status.invalid == 2)
            assert feed.status.reconnects == reconnects and feed.status.state == "live"
            writer.flush()
            rows = []
            writer.call(lambda cache: cache.invalid_rows(), rows.append)
            writer.flush()
            assert {r["raw"][:9] for r in rows[0]} == {'{"v":1,"t', "{not json"}

    run(go())


def test_cut_snapshot_keeps_the_old_state_then_recovers(tmp_path):
    async def go():
        async with backend() as (b, url):
            async with client(url, tmp_path) as (feed, state, _):
                await async_wait_for(lambda: feed.status.state == "live")
                first = state.last_seq
            for _ in range(30):
                b.publish(*b.district.camera_flip())
            b.log.clear()  # replay window exceeded: the next contact needs a snapshot
            b.cut_snapshot_after = 2
            async with client(url, tmp_path, last_seq=first) as (feed, state, _):
                # The first snapshot is cut after two parts; state keeps what it had.
                await async_wait_for(
                    lambda: feed.status.snapshots == 1, seconds=20, what="second snapshot"
                )
                assert feed.status.reconnects >= 1
                await async_wait_for(lambda: state.last_seq == b.seq)

    run(go())


def test_bad_token_is_reported_and_commands_follow_roles(tmp_path):
    async def go():
        async with backend() as (b, url):
            async with client(url, tmp_path, token="nope") as (feed, _, _):
                await async_wait_for(lambda: feed.status.error and "401" in feed.status.error)
                assert feed.status.state == "offline"
                with pytest.raises(CommandError, match="offline"):
                    await feed.command("ping", {})
            async with client(url, tmp_path, token="v", cache_name="v.sqlite") as (feed, state, _):
                await async_wait_for(lambda: feed.status.state == "live")
                ack = await feed.command("preset.activate", {"wall": "wall-1", "preset": "P0002"})
                assert not ack.ok and ack.error["code"] == "forbidden"
            async with client(url, tmp_path, token="c", cache_name="c2.sqlite") as (feed, state, _):
                await async_wait_for(lambda: feed.status.state == "live")
                ack = await feed.command("preset.activate", {"wall": "wall-1", "preset": "nope"})
                assert ack.error["code"] == "unknown_preset"
                assert state.wall["preset"] != "P0003"
                ack = await feed.command("preset.activate", {"wall": "wall-1", "preset": "P0003"})
                assert ack.ok
                await async_wait_for(
                    lambda: state.wall["preset"] == "P0003", what="wall.state came back"
                )

    run(go())


def test_unreachable_backend_is_offline_with_a_reason(tmp_path):
    async def go():
        async with client("ws://127.0.0.1:9/wall/v1", tmp_path) as (feed, _, _):
            await async_wait_for(lambda: feed.status.state == "offline" and feed.status.error)
            assert feed.status.since is not None

    run(go())


def test_oversized_frame_closes_1009_and_reconnects_without_losing_state(tmp_path):
    async def go():
        async with backend() as (b, url), client(url, tmp_path) as (feed, state, _):
            await async_wait_for(lambda: feed.status.state == "live")
            cameras = len(state.cameras)
            b.publish_raw(
                '{"v":1,"type":"ping","data":{"pad":"' + "x" * (5 * 1024 * 1024) + '"}}',
                with_seq=False,
            )
            await async_wait_for(lambda: feed.status.reconnects >= 1, what="reconnect after 1009")
            b.publish(*b.district.camera_flip())
            await async_wait_for(lambda: feed.status.state == "live" and state.last_seq == b.seq)
            assert len(state.cameras) == cameras and feed.status.snapshots == 1

    run(go())
