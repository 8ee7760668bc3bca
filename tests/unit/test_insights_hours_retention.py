"""Reading /hours, and the retention forecast against fsrs's own formula."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Card, Scheduler, State

from core.errors import BadInput
from core.insights.hours import DEFAULT_MINUTES, format_week, parse_hours
from core.insights.planner import ExamIn
from core.insights.retention import CardMemory, Curve, deck_retention

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_hours_for_weekdays_and_weekends() -> None:
    week = parse_hours("2h weekdays, 4h weekends", DEFAULT_MINUTES)
    assert week == (120, 120, 120, 120, 120, 240, 240)
    assert format_week(week) == "Mon–Fri 2h, Sat–Sun 4h"


def test_hours_per_named_day_keep_the_other_days() -> None:
    week = parse_hours("mon 1h, tue 2h30; sun off", (60,) * 7)
    assert week == (60, 150, 60, 60, 60, 60, 0)


def test_one_amount_alone_is_every_day_and_ranges_and_spaces_are_read() -> None:
    assert parse_hours("90m", DEFAULT_MINUTES) == (90,) * 7
    assert parse_hours("1.5 hours daily", DEFAULT_MINUTES) == (90,) * 7
    assert parse_hours("sat-mon 3 h, tue-fri 45 min", DEFAULT_MINUTES) == (
        180, 45, 45, 45, 45, 180, 180,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2 weekdays", "couldn't read “2”"),
        ("lots on mondays", "couldn't read “lots”"),
        ("2h mon 3h", "two amounts"),
        ("2h, 3h", "Which days"),
        ("weekends", "How long"),
        ("20h daily", "At most 16h"),
        ("", "How many hours"),
    ],
)
def test_unreadable_hours_say_what_was_wrong(text: str, says: str) -> None:
    with pytest.raises(BadInput) as raised:
        parse_hours(text, DEFAULT_MINUTES)
    assert says in raised.value.message


def test_retrievability_equals_fsrs_get_card_retrievability() -> None:
    scheduler = Scheduler()
    curve = Curve.from_parameters(scheduler.parameters)
    last = NOW - timedelta(days=3, hours=5)
    for stability in (0.5, 2.0, 11.3, 240.0):
        card = Card(state=State.Review, stability=stability, difficulty=5.0, last_review=last)
        for days in (0, 1, 7, 30, 365):
            at = NOW + timedelta(days=days)
            expected = scheduler.get_card_retrievability(card, at)
            assert curve.retrievability(stability, last, at) == pytest.approx(expected, abs=1e-12)


def test_deck_retention_falls_over_30_days_and_counts_cards_at_risk_by_the_exam() -> None:
    curve = Curve.from_parameters(Scheduler().parameters)
    cards = [
        CardMemory("Chemistry", 100.0, NOW),  # strong: still above 90 % in 10 days
        CardMemory("Chemistry", 3.0, NOW),  # weak: below 90 % by then
        CardMemory("Chemistry", None, None),  # never studied
        CardMemory("Art", 10.0, NOW - timedelta(days=10)),
    ]
    exam = ExamIn("Chemistry final", NOW + timedelta(days=10))
    art, chemistry = deck_retention(cards, NOW, curve, 0.9, [exam])
    assert (chemistry.deck, chemistry.studied, chemistry.unstudied) == ("Chemistry", 2, 1)
    assert chemistry.at_day(0) == pytest.approx(1.0)
    today, week, month = (chemistry.at_day(d) for d in (0, 7, 30))
    assert today is not None and week is not None and month is not None
    assert today > week > month
    assert chemistry.exam == exam and chemistry.at_risk == 1
    assert art.exam is None and art.at_risk == 0
    assert art.at_day(0) == pytest.approx(0.9, abs=1e-9)  # S days after review: 90 %
