"""/settings arguments: a value or BadInput, never another exception."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import BadInput
from core.identity.service import parse_clock_time, parse_quiet_hours, parse_timezone

clockish = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"\s*-?\d{0,3}[:.]?\d{0,3}(:\d\d)?\s*", fullmatch=True),
    st.builds(lambda h, m: f"{h}:{m}", st.integers(-5, 30), st.integers(-5, 70)),
)
zoneish = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["europe/berlin", "UTC", "../etc/passwd", "/abs", "Europe/", "\x00", "."]),
    st.from_regex(r"[A-Za-z_]{1,10}/[A-Za-z_+-]{1,12}", fullmatch=True),
)


@settings(max_examples=200, deadline=None)
@given(clockish)
def test_clock_time_is_a_time_or_bad_input(text: str) -> None:
    try:
        parsed = parse_clock_time(text)
    except BadInput as err:
        assert err.message
    else:
        assert isinstance(parsed, time)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=25), st.builds(lambda a, b: f"{a}-{b}", clockish, clockish)))
def test_quiet_hours_are_a_pair_off_or_bad_input(text: str) -> None:
    try:
        parsed = parse_quiet_hours(text)
    except BadInput as err:
        assert err.message
    else:
        assert parsed is None or all(isinstance(t, time) for t in parsed)


@settings(max_examples=200, deadline=None)
@given(zoneish)
def test_time_zone_is_a_loadable_zone_or_bad_input(text: str) -> None:
    try:
        name = parse_timezone(text)
    except BadInput as err:
        assert err.message
    else:
        ZoneInfo(name)
