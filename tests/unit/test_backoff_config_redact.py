"""Back-off policy, configuration loading and secret redaction."""

import random

import pytest

from wallclient import backoff, config
from wallclient.errors import ConfigError
from wallclient.redact import redact_text, redact_url


def test_backoff_grows_from_half_a_second_to_thirty_with_full_jitter():
    assert [backoff.ceiling(i) for i in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    waits = backoff.delays(rng=random.Random(1))
    first = [next(waits) for _ in range(200)]
    assert all(0 <= w <= 30 for w in first)
    assert max(first[:1]) <= 0.5 and max(first[100:]) > 15


def test_config_file_and_flags(tmp_path):
    f = tmp_path / "wall.toml"
    f.write_text('[backend]\nserver = "wss://b.example/wall/v1"\ntoken_file = "tok"\n'
                 '[wall]\nwall = "main"\nscope_level = "street"\nscope_code = "310114102"\n'
                 '[control]\nport = 7000\n', encoding="utf-8")  # fmt: skip
    cfg = config.load(f, {"wall": "override", "node": None})
    assert cfg.server.startswith("wss://") and cfg.wall == "override"
    assert cfg.token_file == tmp_path / "tok" and cfg.control_port == 7000
    assert cfg.scope == {"level": "street", "code": "310114102"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("[backend]\nserver = 5\n", "must be a string"),
        ('[backend]\nserver = "http://x"\n', "ws://"),
        ("[wall]\nbogus = 1\n", "unknown key wall.bogus"),
        ("[wall\n", "not valid TOML"),
        ("[control]\nport = -1\n", "must not be negative"),
        ('[wall]\nscope_level = "planet"\n', "scope_level"),
    ],
)
def test_config_errors_name_the_key(tmp_path, text, message):
    f = tmp_path / "bad.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        config.load(f)


def test_token_from_file_or_env(tmp_path, monkeypatch):
    cfg = config.load(None)
    monkeypatch.delenv("WALLCLIENT_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="no token"):
        cfg.read_token()
    monkeypatch.setenv("WALLCLIENT_TOKEN", "secret-1")
    assert cfg.read_token() == "secret-1"
    cfg.token_file = tmp_path / "missing"
    with pytest.raises(ConfigError, match="token file"):
        cfg.read_token()


def test_credentials_never_survive_redaction():
    url = "rtsp://admin:Demo-2026@10.0.0.1:554/live/1?token=abc&channel=2"
    red = redact_url(url)
    assert "Demo-2026" not in red and "abc" not in red and "channel=2" in red
    assert "Demo-2026" not in redact_text(f"could not open {url}: timeout")


def test_a_decoders_failure_reads_as_ffmpegs_words_without_its_number_or_the_url():
    import av

    from wallclient.edges.video import av_reason

    with pytest.raises(av.error.FFmpegError) as exc:  # nothing listens on port 9
        av.open("rtsp://admin:secret@127.0.0.1:9/live/cam", timeout=2)
    assert av_reason(exc.value) == "Connection refused"  # translated on the wall: 连接被拒绝
    assert av_reason(ValueError("bad rtsp://admin:secret@host/x")) == "bad rtsp://***@host/x"
