"""HTTP fetches with the wall's token that never follow a redirect to another host (the
playback server's recordings, incidents' pictures): the token goes where it was meant to."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit


def same_host_opener(refuse: Callable[[str], Exception]) -> urllib.request.OpenerDirector:
    """An opener whose redirects stay on the request's host; another host raises
    ``refuse("redirected to another host")``."""

    class SameHost(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                             newurl: str) -> Any:  # fmt: skip
            if urlsplit(newurl).netloc != urlsplit(req.full_url).netloc:
                raise refuse("redirected to another host")
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return urllib.request.build_opener(SameHost)
