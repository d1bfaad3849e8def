"""The reference backend's start-up (`wallclient serve-demo`): the media server and its
cameras, the demo district, the picture server, the recorder, and the backend itself,
started in that order and stopped in reverse on SIGINT / SIGTERM. It prints one JSON
line when ready (its ports), which tests and `make demo` wait for."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path


async def _no_clip() -> Path:
    raise RuntimeError("no media server: pictures are drawn without a camera")


async def serve_demo(a: argparse.Namespace) -> int:
    from datetime import datetime

    from wallclient.demo.district import SCALES, District, StreamUrls
    from wallclient.demo.media import MediaServer
    from wallclient.demo.server import Backend, load_tokens

    clip_dir = (
        a.clip_dir
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wallclient" / "clips"
    )
    district_ref: list[District] = []

    def label(cam: str) -> str:
        d = district_ref[0] if district_ref else None
        return d.cameras[cam]["name"] if d and cam in d.cameras else cam

    media = None
    streams = StreamUrls(host=a.host if a.host != "0.0.0.0" else "127.0.0.1")
    if not a.no_media:
        media = await MediaServer(clip_dir, label, a.host, a.media_port, a.rtsp_port).start()
        streams.http_port, streams.rtsp_port = media.http_port, media.rtsp_port
    t0 = time.perf_counter()
    size = SCALES[a.scale]()
    district = District(
        seed=a.seed,
        streams=streams,
        wall_ids=tuple(a.walls.split(",")),
        cameras_n=size["cameras_n"],
        presets_n=size["presets_n"],
        incidents_n=size["incidents_n"],
        live_cap=a.live_cap,
        units_n=a.units,
    )
    if a.first_preset_size:
        district.size_first_preset(a.first_preset_size)
    district_ref.append(district)
    from wallclient.demo.pictures import PictureServer

    # the alarms' pictures beside the state (kept across restarts, as its incidents are);
    # without one, in a folder of this run's own, removed when it stops (one was left in
    # /tmp by every run before: 273 of them after one day of tests)
    if a.state:
        picture_dir, own_pictures = Path(a.state).with_name(Path(a.state).stem + "-pictures"), False
    else:
        picture_dir, own_pictures = Path(tempfile.mkdtemp(prefix="wallclient-pictures-")), True
    pictures = await PictureServer(
        picture_dir, load_tokens(a.tokens), district.incidents.get,
        lambda cam: media.clip(cam, "main") if media is not None else _no_clip(),
        host=streams.host,
    ).start()  # fmt: skip
    district.pictures_base = pictures.base
    backend = Backend(
        district,
        tokens=load_tokens(a.tokens),
        rate=a.rate,
        replay_window=a.replay_window,
        indicator_period=a.indicator_period,
        state_file=a.state,
    )
    backend.media = media
    backend.pictures = pictures
    if media is not None:
        media.ptz = backend.ptz  # PTZ cameras' pictures follow the domes
    backend.unit_period = a.unit_period
    recorder = None
    if media is not None and not a.no_record:
        from wallclient.demo.recorder import Recorder

        record_dir = a.record_dir or clip_dir.parent / "recordings"
        recorder = await Recorder(
            record_dir, lambda cam: media.clip(cam, "main"), tokens=backend.tokens,
            retention_s=a.retention, max_cameras=a.record_max,
            max_bytes=int(a.record_max_gb * 1e9),
            watched=lambda cam: media.viewers().get(cam, 0) > 0,
            host=streams.host, port=a.playback_port,
        ).start()  # fmt: skip
        backend.recorder = recorder
        media.on_view = recorder.want  # every camera a wall plays is recorded
    if backend.restore():
        for cam_id, cam in district.cameras.items():  # media ports may differ after a restart
            cam["streams"] = streams.urls(cam_id, cam["streams"].get("sub", "").startswith("rtsp"))
    else:
        district.seed_incidents(datetime.now().astimezone())
    for cam_id, cam in district.cameras.items():
        cam["recording"] = {"playback": recorder.base, "path": cam_id} if recorder else None
    if a.platform != "fixed" and media is not None:
        from wallclient.demo.platform import Platform, camera_streams

        platform = Platform(a.platform, streams.host, media.http_port, media.rtsp_port,
                            delay=a.platform_delay, ttl=a.token_ttl)  # fmt: skip
        platform.viewers = media.viewers
        platform.on_stop = media.drop
        if a.platform == "wvp":  # play/start answers once the video flows (ZLMediaKit has it)
            platform.on_start = media.pin
        media.gate = platform.gate
        platform.recorder = recorder  # recordings too are the platform's (kind: playback)
        backend.platform = platform
        for cam_id, cam in district.cameras.items():  # every open asks the platform
            if not cam.get("ptz"):
                cam["resolve"] = True
                cam["recording"] = None
                cam["streams"] = camera_streams(a.platform, cam_id, streams.host, media.http_port,
                                                media.rtsp_port)  # fmt: skip
    tls = None
    if a.tls_cert:
        import ssl

        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(a.tls_cert, a.tls_key)
    port = await backend.start(a.host, a.port, tls)
    ready = {
        "ready": True,
        "ws": f"{'wss' if tls else 'ws'}://{a.host}:{port}/wall/v1",
        "port": port,
        "http_port": media.http_port if media else None,
        "rtsp_port": media.rtsp_port if media else None,
        "playback": recorder.base if recorder else None,
        "cameras": len(district.cameras),
        "seq": backend.seq,
        "build_s": round(time.perf_counter() - t0, 2),
    }
    print(json.dumps(ready), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await backend.stop()
    await pictures.stop()
    if own_pictures:
        shutil.rmtree(picture_dir, ignore_errors=True)
    if recorder is not None:
        await recorder.stop()
    if media is not None:
        await media.stop()
    return 0
