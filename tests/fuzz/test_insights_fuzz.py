"""/hours text and plan inputs from hypothesis: only BadInput for bad text; a plan never
uses more than a day's hours and never loses a review."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import BadInput
from core.insights.hours import DEFAULT_MINUTES, MAX_MINUTES_PER_DAY, parse_hours
from core.insights.planner import CardLoad, ExamIn, PlanInput, TaskIn, build_plan

NOW = datetime(2026, 3, 27, 22, 0, tzinfo=UTC)  # the weekend European summer time starts
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham")
hours_words = st.sampled_from(
    ["2h", "90m", "1.5h", "2h30", "off", "mon", "sat-sun", "weekdays", "daily", ",", ";", "x"]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.lists(hours_words, max_size=8).map(" ".join)))
def test_hours_text_gives_a_week_or_a_bad_input(text: str) -> None:
    try:
        week = parse_hours(text, DEFAULT_MINUTES)
    except BadInput as error:
        assert error.message
        return
    assert len(week) == 7 and all(0 <= m <= MAX_MINUTES_PER_DAY for m in week)


moments = st.integers(-3 * 24, 40 * 24).map(lambda h: NOW + timedelta(hours=h))


@settings(max_examples=200, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    days=st.integers(1, 30),
    hours=st.lists(st.integers(0, 300), min_size=7, max_size=7),
    tasks=st.lists(
        st.builds(TaskIn, st.integers(1, 99), st.just("T"), moments, st.integers(1, 3)),
        max_size=8,
    ),
    cards=st.lists(
        st.builds(
            CardLoad,
            st.sampled_from(["Chemistry", "Art", "Bio"]),
            st.one_of(st.none(), st.dates(date(2026, 3, 20), date(2026, 5, 10))),
            st.integers(1, 400),
        ),
        max_size=10,
    ),
    exams=st.lists(
        st.builds(ExamIn, st.sampled_from(["Chemistry final", "Biology"]), moments), max_size=3
    ),
)
def test_a_plan_stays_within_each_days_hours(  # type: ignore[no-untyped-def]
    zone, days, hours, tasks, cards, exams
) -> None:
    plan = build_plan(PlanInput(NOW, ZoneInfo(zone), days, hours, tasks, cards, exams))
    assert [d.day for d in plan.days] == [plan.today + timedelta(days=i) for i in range(days)]
    for day in plan.days:
        # Minutes are rounded up per item: at most one minute over per item.
        assert day.planned_minutes <= day.capacity + len(day.items)
        assert all(i.minutes >= 0 for i in day.items + day.overflow)
    due_in_plan = sum(
        c.count for c in cards if c.due_day is not None and c.due_day <= plan.days[-1].day
    )
    reviews = [i.count for d in plan.days for i in d.items + d.overflow if i.kind == "reviews"]
    assert sum(reviews) == due_in_plan
