"""Pure pieces of the web capability: periods, streaks, JSON export values, link codes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core.accounts import service as accounts
from core.accounts.userdata import _jsonable
from core.analytics.service import _period_days, _streak, parse_period
from core.errors import BadInput


def test_period_defaults_to_week_and_rejects_other_words() -> None:
    assert parse_period("") == "week"
    assert parse_period(" MONTH ") == "month"
    with pytest.raises(BadInput):
        parse_period("decade")


def test_all_time_starts_the_day_the_user_joined() -> None:
    today = dt.date(2026, 11, 25)
    days = _period_days("all", today, dt.date(2026, 11, 20))
    assert days[0] == dt.date(2026, 11, 20) and days[-1] == today and len(days) == 6


def test_streak_counts_back_from_today_or_yesterday() -> None:
    today = dt.date(2026, 11, 25)
    run = {today - dt.timedelta(days=n) for n in range(1, 4)}
    assert _streak(run, today) == 3  # today not studied yet: the streak is still alive
    assert _streak(run | {today}, today) == 4
    assert _streak({today - dt.timedelta(days=2)}, today) == 0


def test_export_values_become_plain_json() -> None:
    when = dt.datetime(2026, 11, 25, 9, tzinfo=dt.UTC)
    assert _jsonable(when) == "2026-11-25T09:00:00+00:00"
    assert _jsonable(b"hi") == {"base64": "aGk="}
    assert _jsonable(Decimal("1.5")) == "1.5"
    assert _jsonable({"a": (1, dt.time(7, 30))}) == {"a": [1, "07:30:00"]}


def test_link_codes_are_read_back_however_they_are_typed() -> None:
    code = accounts._new_code()
    assert len(code) == 9 and code[4] == "-"
    assert set(code.replace("-", "")) <= set(accounts.LINK_ALPHABET)
    typed = code.lower().replace("-", " ")
    assert accounts._normalise_code(typed) == code.replace("-", "")


def test_email_addresses_are_normalised_and_checked() -> None:
    assert accounts.normalise_email("  Ana@Example.ORG ") == "ana@example.org"
    for bad in ("ana", "ana@", "@example.org", "ana@localhost"):
        with pytest.raises(BadInput):
            accounts.normalise_email(bad)
