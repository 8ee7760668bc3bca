"""Advice only where the numbers support it: a long break after four focus cycles in a
row, and the late-night review note only for a real, large enough gap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.insights.patterns import break_advice, cycles_in_a_row, late_night_note

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def pomodoros(count: int, gap: timedelta = timedelta(minutes=5)) -> list[tuple[datetime, datetime]]:
    """`count` 25-minute cycles ending now, `gap` apart."""
    sessions, end = [], NOW
    for _ in range(count):
        sessions.append((end - timedelta(minutes=25), end))
        end = end - timedelta(minutes=25) - gap
    return sessions


def test_cycles_count_back_through_the_current_sitting_only() -> None:
    assert cycles_in_a_row(pomodoros(4), NOW) == 4
    assert cycles_in_a_row(pomodoros(3, gap=timedelta(minutes=45)), NOW) == 1
    earlier_sitting = [(s - timedelta(hours=3), e - timedelta(hours=3)) for s, e in pomodoros(4)]
    assert cycles_in_a_row(pomodoros(2) + earlier_sitting, NOW) == 2
    assert cycles_in_a_row(pomodoros(4), NOW + timedelta(hours=1)) == 0
    assert cycles_in_a_row([], NOW) == 0


def test_a_long_break_is_suggested_after_every_fourth_cycle() -> None:
    assert break_advice(3, 5) is None
    advice = break_advice(4, 5)
    assert advice is not None and "4 focus cycles in a row" in advice and "15 min" in advice
    assert break_advice(5, 5) is None
    assert "30 min" in (break_advice(8, 15) or "")  # three times 15, at most 30


def test_late_night_reviews_are_noted_only_for_a_real_gap_with_the_numbers() -> None:
    note = late_night_note((28, 40), (180, 200))  # 70% vs 90%
    assert note is not None and "70% of 40 vs 90% of 200" in note
    assert late_night_note((20, 29), (180, 200)) is None  # too few late reviews
    assert late_night_note((34, 40), (180, 200)) is None  # 85% vs 90%: under ten points
    assert late_night_note((8, 10), (30, 30)) is None  # too few
    assert late_night_note((38, 40), (150, 200)) is None  # better late: nothing to say
