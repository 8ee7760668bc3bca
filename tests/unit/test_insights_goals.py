"""Weekly goals and badges: reading /goal, the week in the owner's zone across DST, which
badges figures earn, and the one announcement of what is new."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import BadInput
from core.insights.badges import announcement, earned, goal_badge, title_of
from core.insights.goals import (
    MINUTES,
    REVIEWS,
    TASKS,
    GoalChange,
    Progress,
    parse_goal,
    progress_line,
    week_bounds,
    week_start,
)


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("5h study", GoalChange(MINUTES, 300)),
        ("study 2h30", GoalChange(MINUTES, 150)),
        ("90m", GoalChange(MINUTES, 90)),
        ("1.5h", GoalChange(MINUTES, 90)),
        ("300 minutes", GoalChange(MINUTES, 300)),
        ("5 hours study", GoalChange(MINUTES, 300)),
        ("200 reviews", GoalChange(REVIEWS, 200)),
        ("reviews 50 a week", GoalChange(REVIEWS, 50)),
        ("10 tasks", GoalChange(TASKS, 10)),
        ("off reviews", GoalChange(REVIEWS, None)),
        ("del study", GoalChange(MINUTES, None)),
    ],
)
def test_goals_are_read_in_the_ways_students_write_them(text: str, change: GoalChange) -> None:
    assert parse_goal(text) == change


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Which goal?"),
        ("lots of reviews", "can't read"),
        ("5", "can't read"),
        ("5h reviews", "can't read"),
        ("0 tasks", "more than nothing"),
        ("20001 reviews", "at most 20,000"),
        ("200h study", "at most 112h"),
        ("off", "Which goal to remove?"),
        ("off everything", "Which goal to remove?"),
    ],
)
def test_unreadable_goals_say_how_to_write_one(text: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_goal(text)
    assert message in str(caught.value)


def test_the_week_runs_monday_to_monday_in_the_owners_zone() -> None:
    # Sunday 23:30 UTC is already Monday in Tokyo and still Sunday in Los Angeles.
    now = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    assert week_start(now, ZoneInfo("Asia/Tokyo")) == date(2026, 11, 30)
    assert week_start(now, ZoneInfo("America/Los_Angeles")) == date(2026, 11, 23)
    start, end = week_bounds(date(2026, 11, 30), ZoneInfo("Asia/Tokyo"))
    assert start == datetime(2026, 11, 29, 15, 0, tzinfo=UTC)
    assert end - start == timedelta(days=7)


def test_a_week_with_a_dst_change_is_an_hour_shorter_or_longer() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    spring_start, spring_end = week_bounds(date(2026, 3, 23), berlin)  # clocks go forward 29 Mar
    assert spring_start == datetime(2026, 3, 22, 23, 0, tzinfo=UTC)
    assert spring_end - spring_start == timedelta(hours=167)
    autumn_start, autumn_end = week_bounds(date(2026, 10, 19), berlin)  # back on 25 Oct
    assert autumn_end - autumn_start == timedelta(hours=169)
    assert autumn_end == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)


def test_progress_lines_show_amounts_a_bar_and_a_tick_when_met() -> None:
    assert progress_line(Progress(MINUTES, 300, 150)) == ("Study time: 2h30 of 5h ▓▓▓▓▓░░░░░ 50%")
    assert progress_line(Progress(REVIEWS, 100, 130)).endswith("▓▓▓▓▓▓▓▓▓▓ 100% ✅")


def test_badges_follow_the_streak_and_the_totals() -> None:
    keys = {b.key for b in earned(8, {REVIEWS: 120, MINUTES: 9 * 60, TASKS: 10})}
    assert keys == {"streak-3", "streak-7", "reviews-100", "tasks-10"}
    assert earned(2, {}) == []


def test_one_announcement_names_only_the_highest_new_badge_of_each_kind() -> None:
    new = earned(30, {REVIEWS: 600})
    text = announcement(new)
    assert text is not None
    assert "30-day streak" in text and "7-day streak" not in text
    assert "500 cards reviewed" in text and "100 cards reviewed" not in text
    assert announcement([]) is None


def test_stored_badge_keys_read_back_as_titles() -> None:
    assert title_of("streak-7") == "🔥 7-day streak"
    assert title_of("minutes-600") == "⏱ 10 hours studied"
    assert title_of(goal_badge(TASKS, date(2026, 11, 23)).key) == (
        "🎯 tasks done goal, week of 2026-11-23"
    )
