"""Play URLs from the centre's video platform (issue 28): the reference backend plays WVP
(streams started by a resolve, 404 until then, closed after their last viewer or at a
release) and iSecure Center (a fresh single-use token URL per resolve, 403 on reuse);
the whole `wallclient run` resolves at every open, through real libvlc and FFmpeg."""

import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers import DemoServer, WallProcess, live, recorded, timeout, wait_for, write_layout
from wallclient.protocol import epoch
from wallclient.replay import rfc3339

LAYOUT = {
    "name": "platform-2x2",
    "screens": [{"name": "v", "x": 0, "y": 0, "width": 1920, "height": 1080}],
    "modes": {"normal": {"v": [{"id": "grid", "panel": "video", "rect": [0, 0, 24, 24],
                                "options": {"rows": 2, "cols": 2}}]}},
}  # fmt: skip


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def show(server, cams, preset="T-PLATFORM"):
    server.admin("publish", type="preset.upsert", data={
        "id": preset, "name": "平台预案", "scenario": "test", "emergency": False,
        "cameras": cams, "dwell_s": 600})  # fmt: skip
    server.admin("publish", type="wall.state", data={
        "wall": "wall-1", "mode": "normal", "preset": preset,
        "changed_by": "指挥长", "changed_at": _now()})  # fmt: skip


def cameras(server, n, skip=0):
    cams = [c for c in server.admin("cameras") if c["status"] == "online" and c.get("resolve")]
    return [c["id"] for c in cams[skip : skip + n]]


def tiles(wall):
    return wall.status()["tiles"]


def all_playing(wall, n=4):
    ts = tiles(wall)
    return ts if all(t["state"] == "playing" for t in ts[:n]) else None


@pytest.fixture
def platform(request, tmp_path):
    kind = request.param
    server = DemoServer(tmp_path, "--platform", kind, "--platform-delay", "0.4").start()
    try:
        wall = WallProcess(tmp_path, server.url, "tok-viewer", "--layout", str(write_layout(tmp_path, LAYOUT)))
        with live(wall):
            # the backend's own first preset, playing: what each test counts from
            wait_for(lambda: all_playing(wall), timeout(30), "the first preset playing")
            yield kind, server, wall
    finally:
        server.stop()


@pytest.mark.parametrize("platform", ["wvp"], indirect=True)
def test_wvp_streams_are_started_by_a_resolve_and_released_when_the_tile_moves_on(platform):
    _kind, server, wall = platform
    first = cameras(server, 4, skip=20)
    base, asked = server.admin("platform"), wall.status()["resolve"]["requests"]
    show(server, first)
    got = wait_for(lambda: (ts := all_playing(wall)) and {t["camera"] for t in ts} == set(first) and ts,
                   timeout(30), "four tiles playing through WVP")  # fmt: skip
    assert {t["camera"] for t in got} == set(first)
    view = server.admin("platform")
    shown = {f"{t['camera']}/{t['stream']}" for t in got}
    assert set(view["streams"]) == shown  # started by the resolves, one per tile
    assert view["resolves"] - base["resolves"] == 4  # one per open, none twice
    resolve = wall.status()["resolve"]
    assert resolve["requests"] - asked == 4 and resolve["failures"] == 0
    # each tile says where its open's time went: the platform's 0.4 s (as the platform
    # itself took it, and no less as the wall saw it), then its first picture
    answers = view["answer_ms"][-4:]
    assert all(a >= 400 for a in answers)
    for t in got:
        took = t["resolve"]
        assert took["platform"] >= min(answers) and took["queued"] >= 0 and took["picture"] >= 0, took
    # a stream's fixed URL answers 404 once the platform has closed it: a wall holding
    # URLs would go black; this one moves on and releases what it no longer shows
    show(server, cameras(server, 4, skip=4), preset="T-NEXT")
    wait_for(lambda: all_playing(wall) and set(server.admin("platform")["streams"]).isdisjoint(shown),
             timeout(30), "the old streams released, closed at once")  # fmt: skip
    assert server.admin("platform")["releases"] >= 4
    name = first[0] if got[0]["stream"] == "main" else f"{first[0]}_sub"
    url = f"http://127.0.0.1:{server.ready['http_port']}/rtp/{name}.live.flv"
    with pytest.raises(urllib.error.HTTPError) as gone:
        urllib.request.urlopen(url, timeout=5)
    assert gone.value.code == 404


@pytest.mark.parametrize("platform", ["wvp"], indirect=True)
def test_a_url_answered_before_its_stream_is_up_is_resolved_again_not_reopened(platform):
    _kind, server, wall = platform
    server.admin("platform", mode="early", delay=1.5)  # WVP answering before video flows
    cams = cameras(server, 4, skip=8)
    base = server.admin("platform")
    show(server, cams)
    wait_for(lambda: (ts := all_playing(wall)) and {t["camera"] for t in ts} == set(cams),
             timeout(40), "playing after the 404s")  # fmt: skip
    view = server.admin("platform")
    assert view["refused_opens"] > base["refused_opens"]  # the first opens met a 404…
    assert view["resolves"] - base["resolves"] > 4  # …and were resolved again, not reopened


@pytest.mark.parametrize("platform", ["isc"], indirect=True)
def test_isc_urls_are_used_once_and_a_dropped_tile_comes_back_with_a_fresh_one(platform):
    _kind, server, wall = platform
    cams = cameras(server, 4, skip=12)
    show(server, cams)
    wait_for(lambda: (ts := all_playing(wall)) and {t["camera"] for t in ts} == set(cams),
             timeout(30), "four tiles playing through iSecure Center")  # fmt: skip
    before = server.admin("platform")
    assert before["refused_opens"] == 0
    # the media server drops every connection: each tile resolves again, none reopens
    server.admin("media", mode="down")
    wait_for(lambda: not all_playing(wall), timeout(15), "the tiles lose their streams")
    server.admin("media", mode="normal")
    wait_for(lambda: all_playing(wall), timeout(40), "playing again")
    after = server.admin("platform")
    assert after["resolves"] - before["resolves"] >= 4  # each tile a fresh URL
    assert after["refused_opens"] == 0  # no used URL was opened again


@pytest.mark.parametrize("platform", ["isc"], indirect=True)
def test_the_platforms_refusals_are_said_on_the_tiles(platform):
    _kind, server, wall = platform
    cams = cameras(server, 4, skip=4)
    server.admin("platform", offline=[cams[0]], mode="fail", message="平台内部错误：通道不存在")
    show(server, cams)
    got = wait_for(lambda: (ts := tiles(wall)) and ts[0]["state"] == "error" and ts[1]["state"] == "error"
                   and ts, timeout(20), "the refusals on the tiles")  # fmt: skip
    assert got[0]["error"] == "device offline (platform)"  # the platform's camera_offline
    assert got[1]["error"] == "平台内部错误：通道不存在"  # the platform's own message
    server.admin("platform", offline=[], mode="normal")
    wait_for(lambda: all_playing(wall), timeout(60), "playing once the platform answers")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["wvp", "isc"])
def test_replay_and_export_ask_the_platform_for_its_recordings(tmp_path, kind):
    """A ``resolve`` camera's past is the platform's too (``kind: playback``): each window
    of a replay and an export is a play URL asked for, opened once, released (WVP) —
    never the recorder's own playback API, which such a camera does not name."""
    server = DemoServer(tmp_path, "--platform", kind, "--platform-delay", "0.4", record=True).start()
    try:
        cams = cameras(server, 4, skip=16)
        assert all(c.get("recording") is None for c in server.admin("cameras") if c["id"] in cams)
        wall = WallProcess(tmp_path, server.url, "tok-commander", "--layout", str(write_layout(tmp_path, LAYOUT)))
        with live(wall):
            show(server, cams)
            wait_for(lambda: (ts := all_playing(wall)) and {t["camera"] for t in ts} == set(cams),
                     timeout(30), "live through the platform")  # fmt: skip
            cam = tiles(wall)[0]["camera"]
            spans = recorded(server, cam, 8)  # the platform's recorder has it
            base = server.admin("platform")
            c = wall.control
            c.ok("replay.start", tile=0, at=spans[0]["start"])
            got = wait_for(lambda: (t := tiles(wall)[0])["mode"] == "replay" and t["state"] == "playing"
                           and t["frames"] > 5 and t, timeout(20), "replaying the platform's recording")  # fmt: skip
            assert got["route"] == "replay"
            assert epoch(spans[0]["start"]) - 2.1 <= epoch(got["position"]) <= time.time()
            # a seek is a new window: a new URL for the new moment
            at = epoch(spans[0]["start"]) + 4.5
            c.ok("replay.control", tile=0, seek=rfc3339(at), paused=True)
            wait_for(lambda: abs(epoch(tiles(wall)[0]["position"]) - at) <= 0.5, timeout(10),
                     "the picture at the seek")  # fmt: skip
            c.ok("replay.stop", tile=0)
            # the evidence of one camera: its recording, fetched through the platform
            got = c.ok("export", camera=cam, start=spans[0]["start"], duration_s=4, dir=str(tmp_path / "ev"))
            manifest = json.loads(Path(got["manifest"]).read_text(encoding="utf-8"))
            clips = [f for f in manifest["files"] if f["kind"] == "clip"]
            assert clips and all(f["camera"] == cam for f in clips)
            assert all((Path(got["dir"]) / f["file"]).stat().st_size > 10_000 for f in clips)
            view = server.admin("platform")
            asked = view["playbacks"] - base["playbacks"]
            assert asked >= 3  # the first window, the seek's, the export's
            assert view["playback_refused"] == 0  # no URL opened twice, none used after expiry
            if kind == "wvp":
                assert view["releases"] - base["releases"] >= asked  # each window let go
            assert wall.status()["resolve"]["failures"] == 0
    finally:
        server.stop()


def test_doctor_says_where_play_urls_come_from_and_times_one(tmp_path):
    import json

    from tests.helpers import run_cli

    server = DemoServer(tmp_path, "--platform", "isc").start()
    try:
        token = tmp_path / "doctor.token"
        token.write_text("tok-viewer\n", encoding="utf-8")
        token.chmod(0o600)
        out = run_cli("doctor", "--server", server.url, "--token-file", str(token),
                      "--cache", str(tmp_path / "none.sqlite"), "--json")  # fmt: skip
        checks = {c["check"]: c for c in json.loads(out.stdout)}
        detail = checks["play URLs"]["detail"]
        assert "per open from the video platform" in detail and "single-use" in detail, detail
        assert "openUrl" not in detail  # the token stays out of what is printed
        assert server.admin("platform")["resolves"] == 1
    finally:
        server.stop()
