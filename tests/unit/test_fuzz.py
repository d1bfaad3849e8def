"""What the wall reads from outside — protocol frames, layout files, config files —
mutated thousands of ways: every input ends in a result or the project's own error
(never a crash, never a hang). bench/fuzz.py runs the same for a million inputs."""

import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import fuzzer as fuzz
from wallclient import config, layout, protocol
from wallclient.errors import WallclientError


@pytest.mark.parametrize("target", fuzz.targets(), ids=lambda t: t.name)
def test_mutated_inputs_end_in_a_result_or_our_own_error(target):
    report = fuzz.fuzz(target, 2500, seed=7)
    assert report.findings == []
    assert report.inputs == 2500 and report.accepted > 0 and report.refused > 0  # both paths ran
    assert report.slowest_ms < 2000


def test_the_fuzzer_finds_what_it_is_for():
    """A target with a planted bug: the fuzzer must report it (the test can fail)."""

    def buggy(text):
        obj = json.loads(text)  # ValueError on bad JSON: not the project's error
        return obj["type"].upper()

    target = fuzz.Target("buggy", fuzz.protocol_seeds(5), buggy, json.dumps)
    report = fuzz.fuzz(target, 300, seed=1)
    assert {f["kind"] for f in report.findings} & {
        "JSONDecodeError",
        "KeyError",
        "AttributeError",
        "TypeError",
    }


_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                       lambda k: st.lists(k, max_size=4) | st.dictionaries(st.text(max_size=6), k, max_size=4),
                       max_leaves=20)  # fmt: skip
_quick = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


@_quick
@given(st.fixed_dictionaries({"v": st.just(1), "type": st.sampled_from(sorted(protocol.STATE_TYPES)),
                              "seq": st.integers(min_value=0, max_value=2**40), "data": _values}))  # fmt: skip
def test_arbitrary_frames_are_parsed_or_refused(frame):
    with contextlib.suppress(WallclientError):
        protocol.parse(json.dumps(frame))


@_quick
@given(st.one_of(_values.map(json.dumps), st.text(max_size=100)))
def test_arbitrary_layouts_are_loaded_or_refused(text):
    with contextlib.suppress(WallclientError):
        layout.loads(text)


@_quick
@given(st.text(max_size=200))
def test_arbitrary_config_text_is_loaded_or_refused(text):
    with contextlib.suppress(WallclientError):
        config.loads(text)


def test_what_the_million_found_stays_fixed():
    """bench/fuzz.py found `path = "~ache.sqlite"` (a home of a user that does not exist)
    raising RuntimeError out of the config loader."""
    with pytest.raises(WallclientError, match="home directory"):
        config.loads('[cache]\npath = "~nosuchuser-xyz/cache.sqlite"\n')
