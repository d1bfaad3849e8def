"""The resolver's bounds and a play URL's expiry (the logic alone; tests/e2e/test_platform.py
proves it against the reference backend's platforms with real video)."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from wallclient.edges.video.resolved import Resolver, expired, preferred_protocols
from wallclient.errors import CommandError


def test_never_more_requests_in_flight_than_the_cap_and_a_dropped_one_is_never_sent():
    sent: list[str] = []
    in_flight = [0, 0]

    async def send(cmd, data, timeout):
        sent.append(data["camera"])
        in_flight[0] += 1
        in_flight[1] = max(in_flight[1], in_flight[0])
        await asyncio.sleep(0.02)  # a platform taking its time
        in_flight[0] -= 1
        return {"url": f"http://media/{data['camera']}.live.ts", "single_use": False}

    async def go():
        r = Resolver(send, cap=5)
        wanted = {f"C{i}": True for i in range(36)}
        wanted["C35"] = False  # its tile moved on while it queued
        tasks = [asyncio.ensure_future(r.resolve(c, "sub", wanted=lambda c=c: wanted[c])) for c in wanted]
        done = await asyncio.gather(*tasks, return_exceptions=True)
        return r, done

    r, done = asyncio.run(go())
    assert in_flight[1] == 5 and r.max_in_flight == 5
    assert "C35" not in sent and len(sent) == 35
    assert isinstance(done[-1], CommandError) and done[-1].code == "cancelled"


def test_an_answer_without_a_url_is_a_failure_said_as_such():
    async def send(cmd, data, timeout):
        return {"single_use": True}

    with pytest.raises(CommandError) as err:
        asyncio.run(Resolver(send).resolve("C1", "sub"))
    assert err.value.code == "platform_error"


def test_expiry():
    now = datetime.now(UTC)
    assert expired((now - timedelta(seconds=1)).isoformat())
    assert not expired((now + timedelta(seconds=60)).isoformat())
    assert not expired(None) and not expired("not a time")
    assert expired("2026-01-01T00:00:00Z")


def test_the_url_forms_are_asked_for_in_the_order_this_machine_plays_them():
    assert preferred_protocols(rtsp_in_vlc=True)[:3] == ["http-ts", "fmp4", "rtsp"]
    assert preferred_protocols(rtsp_in_vlc=False)[:4] == ["http-ts", "fmp4", "http-flv", "rtsp"]
    assert "ws-flv" not in preferred_protocols()


def test_a_platform_recording_is_asked_for_its_range_and_its_refusals_are_the_tiles_words():
    """``PlatformRecordings`` from a worker thread, the resolver on a running loop."""
    import threading

    from wallclient.edges.playback import PlatformRecordings, PlaybackError

    asked: list[dict] = []
    answers = iter([
        {"url": "http://media/rtp/abc.live.mp4", "single_use": False, "release": "r1"},
        CommandError("camera_offline", "设备 C1 离线"),
        CommandError("platform_error", "平台内部错误"),
        {"url": "http://media/openUrl/t/playback.mp4", "single_use": True,
         "expires_at": (datetime.now(UTC) - timedelta(seconds=1)).isoformat()},
    ])  # fmt: skip

    async def send(cmd, data, timeout):
        asked.append(data)
        got = next(answers)
        if isinstance(got, Exception):
            raise got
        return got

    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    try:
        rec = PlatformRecordings(Resolver(send, cap=2), loop)
        assert rec.resolve("C1", 1_000_000.0, 1_000_030.0)["release"] == "r1"
        assert asked[0]["kind"] == "playback" and asked[0]["protocols"][0] == "fmp4"
        assert asked[0]["start"].startswith("1970-01-12") and asked[0]["end"] > asked[0]["start"]
        with pytest.raises(PlaybackError, match=r"^device offline \(platform\)$"):
            rec.resolve("C1", 0.0, 1.0)
        with pytest.raises(PlaybackError, match="^平台内部错误$"):
            rec.resolve("C1", 0.0, 1.0)
        with pytest.raises(PlaybackError, match="expired"):  # never opened
            rec.resolve("C1", 0.0, 1.0)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join(5)
        loop.close()


def test_a_url_resolved_ahead_waits_for_a_decoder_and_a_tiles_own_open_says_the_budget():
    """A tour page started ahead holds its URL until the flip frees a decoder (the flip
    then waits for no platform); a tile's own open over the budget says so at once."""
    from wallclient.edges.video.player import Player
    from wallclient.edges.video.resolved import ResolvedPlayer

    async def send(cmd, data, timeout):
        return {"url": f"http://media/rtp/{data['camera']}.live.ts", "single_use": False, "release": "r"}

    free = [False]
    opened: list[str] = []

    def acquire(url):
        if not free[0]:
            return None  # every decoder busy with the page on the wall
        opened.append(url)
        return Player(64, 36)

    async def go():
        r = Resolver(send)
        ahead = ResolvedPlayer(acquire, r, "C1", "sub", 64, 36, hold_s=2.0)
        own = ResolvedPlayer(acquire, r, "C2", "sub", 64, 36)
        await asyncio.sleep(0.3)
        waiting = (ahead.state, ahead.resolving, ahead.inner, own.state, own.error)
        free[0] = True  # the flip gives the last page's decoders back
        await asyncio.sleep(0.2)
        return waiting, ahead, r

    waiting, ahead, r = asyncio.run(go())
    assert waiting == ("connecting", True, None, "error", "decoder budget reached")
    assert ahead.inner is not None and opened == ["http://media/rtp/C1.live.ts"]
    assert r.requests == 2  # the held URL was not asked for again
