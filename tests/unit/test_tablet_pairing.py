"""Pairing's rules, the logic alone (tests/e2e/test_tablet.py proves them in Chromium)."""

import json

import pytest

from wallclient.edges.tablet.pairing import CODE_TTL_S, Pairing, PairingError


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def test_a_code_works_once_and_only_within_ten_minutes(tmp_path):
    clock = Clock()
    p = Pairing(tmp_path / "tablets.json", clock)
    code = p.new_code("指挥台iPad", "commander")
    device, token = p.redeem(code)
    assert device.name == "指挥台iPad" and device.role == "commander"
    assert p.session(token) is device and p.session("forged") is None and p.session(None) is None
    with pytest.raises(PairingError) as again:
        p.redeem(code)
    assert again.value.code == "bad_code"
    late = p.new_code("手机", "viewer")
    clock.t += CODE_TTL_S + 1
    with pytest.raises(PairingError):
        p.redeem(late)


def test_five_bad_codes_in_a_minute_lock_pairing_for_a_minute():
    clock = Clock()
    p = Pairing(None, clock)
    good = p.new_code("平板", "viewer")
    for _ in range(5):
        with pytest.raises(PairingError):
            p.redeem("guess")
    with pytest.raises(PairingError) as locked:
        p.redeem(good)
    assert locked.value.code == "locked"
    clock.t += 61
    assert p.redeem(good)[0].name == "平板"


def test_bad_codes_spread_over_minutes_do_not_lock():
    clock = Clock()
    p = Pairing(None, clock)
    for _ in range(8):
        with pytest.raises(PairingError) as bad:
            p.redeem("guess")
        assert bad.value.code == "bad_code"
        clock.t += 20


def test_only_the_tokens_digest_is_kept_and_a_restart_keeps_the_tablets(tmp_path):
    store = tmp_path / "tablets.json"
    p = Pairing(store)
    _device, token = p.redeem(p.new_code("指挥台iPad", "commander"))
    text = store.read_text(encoding="utf-8")
    assert token not in text and json.loads(text)["devices"][0]["name"] == "指挥台iPad"
    assert store.stat().st_mode & 0o077 == 0
    again = Pairing(store)
    assert again.session(token) is not None and again.session(token).role == "commander"


def test_revoke_ends_the_session_and_tells_who_listens(tmp_path):
    p = Pairing(tmp_path / "t.json")
    ended: list[str] = []
    p.on_revoke.append(ended.append)
    _d, token = p.redeem(p.new_code("平板", "commander"))
    assert p.revoke("平板") and ended == ["平板"]
    assert p.session(token) is None and not p.revoke("平板")
    assert Pairing(tmp_path / "t.json").session(token) is None


@pytest.mark.parametrize(("name", "role"), [("", "viewer"), ("x" * 41, "viewer"), ("平板", "installer")])
def test_names_and_roles_are_checked(name, role):
    with pytest.raises(PairingError):
        Pairing(None).new_code(name, role)


def test_a_corrupt_tablets_file_pairs_nothing_and_does_not_crash(tmp_path):
    store = tmp_path / "tablets.json"
    store.write_text("{not json", encoding="utf-8")
    assert Pairing(store).devices == {}
