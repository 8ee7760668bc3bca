from datetime import UTC, datetime, time

import pytest

from core.errors import BadInput
from core.identity.models import User
from core.identity.service import in_quiet_hours, parse_quiet_hours, parse_timezone
from core.outbox.service import after_quiet_hours


def user(
    tz: str = "Europe/Berlin", start: time | None = time(22), end: time | None = time(7)
) -> User:
    return User(timezone=tz, quiet_start=start, quiet_end=end)


def test_quiet_hours_over_midnight() -> None:
    u = user()
    assert in_quiet_hours(u, time(23, 30))
    assert in_quiet_hours(u, time(3))
    assert not in_quiet_hours(u, time(7))
    assert not in_quiet_hours(u, time(12))


def test_notification_at_3am_local_waits_until_quiet_hours_end() -> None:
    at = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 03:00 in Berlin
    moved = after_quiet_hours(user(), at)
    assert moved == datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # 07:00 in Berlin


def test_notification_outside_quiet_hours_is_not_moved() -> None:
    at = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert after_quiet_hours(user(), at) == at
    assert after_quiet_hours(user(start=None, end=None), at) == at


def test_timezone_names_are_validated_case_insensitively() -> None:
    assert parse_timezone("america/new_york") == "America/New_York"
    with pytest.raises(BadInput, match="Area/City"):
        parse_timezone("Nowhere/Town")


def test_bad_quiet_hours_explain_the_form() -> None:
    with pytest.raises(BadInput, match="22:00-07:00"):
        parse_quiet_hours("late")
    with pytest.raises(BadInput, match="HH:MM"):
        parse_quiet_hours("25:00-07:00")
    assert parse_quiet_hours("off") is None
