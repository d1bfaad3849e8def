"""Which route a stream URL takes on this machine: its form (``url_form``: by scheme
and the path's ending) and the decoder that plays that form best here (``route_for``)."""

from __future__ import annotations

import functools
import glob
import os
import sys
from urllib.parse import urlsplit


@functools.cache
def libvlc_has_rtsp() -> bool:
    """Does this machine's libvlc have live555 (its RTSP client)? Looked up once: every
    RTSP open asks, on the GUI thread, and a plugin folder does not change under a wall."""
    if sys.platform in ("win32", "darwin"):
        return True  # the official builds include it
    patterns = [
        "/usr/lib/*/vlc/plugins/access/liblive555_plugin.so",
        "/usr/lib/vlc/plugins/access/liblive555_plugin.so",
        "/usr/local/lib/vlc/plugins/access/liblive555_plugin.so",
        "/usr/lib64/vlc/plugins/access/liblive555_plugin.so",
    ]
    extra = os.environ.get("VLC_PLUGIN_PATH")
    if extra:
        patterns.append(os.path.join(extra, "**", "liblive555_plugin.so"))
    return any(glob.glob(p, recursive=True) for p in patterns)


# The URL forms GB/T 28181 platforms hand a desktop player (ZLMediaKit's playing URLs as
# WVP gives them out), and the route each takes. Chosen by measurement (docs/video.md,
# "URL forms"): libvlc waits for an FLV's announced audio track (2–6 s, or for ever when
# it never comes) and takes 2.3 s into live HLS, where PyAV shows a picture in 0.1 s;
# HTTP-TS and fMP4 start within 0.7 s in libvlc, which can draw into native windows.
URL_FORMS = {
    "http-ts": "libvlc",
    "http-fmp4": "libvlc",
    "http-flv": "pyav",
    "hls": "pyav",
    "rtmp": "pyav",
    "rtsp": "pyav",  # libvlc where it has live555: route_for
    "http": "libvlc",
    "file": "libvlc",
    "other": "libvlc",  # UDP-TS and the rest libvlc knows
}
FORM_EXAMPLES = {
    "http-ts": "http://host/live/cam.live.ts",
    "http-fmp4": "http://host/live/cam.live.mp4",
    "http-flv": "http://host/live/cam.live.flv",
    "hls": "http://host/live/cam/hls.m3u8",
    "rtmp": "rtmp://host/live/cam",
    "rtsp": "rtsp://host/live/cam",
    "http": "http://host/other",
    "file": "file:///path.mp4",
    "other": "udp://@239.0.0.1:1234",
}


def url_form(url: str) -> str:
    """Which of URL_FORMS a stream URL is (by scheme and the path's ending)."""
    scheme = url.split(":", 1)[0].lower() if "://" in url else "file"  # a bare path: a file
    if scheme in ("rtsp", "rtsps"):
        return "rtsp"
    if scheme in ("rtmp", "rtmps"):
        return "rtmp"
    if scheme in ("http", "https"):
        path = urlsplit(url).path.lower()
        for end, form in ((".flv", "http-flv"), (".m3u8", "hls"), (".mp4", "http-fmp4"),
                          (".ts", "http-ts")):  # fmt: skip
            if path.endswith(end):
                return form
        return "http"
    return "file" if scheme == "file" else "other"


def route_for(url: str, rtsp_in_vlc: bool | None = None) -> str:
    """``libvlc`` or ``pyav`` for a URL on this machine."""
    form = url_form(url)
    if form == "rtsp":
        has = libvlc_has_rtsp() if rtsp_in_vlc is None else rtsp_in_vlc
        return "libvlc" if has else "pyav"
    return URL_FORMS[form]


def routes() -> dict[str, str]:
    """Which route each URL form takes here (``wallclient doctor``)."""
    rtsp = libvlc_has_rtsp()
    return {f"{form} ({FORM_EXAMPLES[form]})": route_for(FORM_EXAMPLES[form], rtsp)
            for form in URL_FORMS}  # fmt: skip
