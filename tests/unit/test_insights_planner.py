"""The study plan on fixed inputs: days in the student's zone, DST, hours, overflow."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.insights.planner import (
    CardLoad,
    DocumentIn,
    ExamIn,
    PlanInput,
    TaskIn,
    build_plan,
    deck_matches,
)

UTC_ZONE = ZoneInfo("UTC")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # a Wednesday
WED = date(2026, 11, 25)
HOURS = (60, 60, 60, 60, 60, 240, 240)


def day(plan_days: list, on: date):  # type: ignore[no-untyped-def]
    [found] = [d for d in plan_days if d.day == on]
    return found


def labels(day_plan) -> list[str]:  # type: ignore[no-untyped-def]
    return [i.label for i in day_plan.items]


def test_cards_due_each_day_are_reviewed_that_day_and_overdue_ones_today() -> None:
    cards = [
        CardLoad("Biology", WED - timedelta(days=3), 10),
        CardLoad("Biology", WED, 5),
        CardLoad("Biology", WED + timedelta(days=2), 30),
    ]
    plan = build_plan(PlanInput(NOW, UTC_ZONE, 7, HOURS, cards=cards))
    today = day(plan.days, WED)
    assert [(i.label, i.count, i.minutes) for i in today.items] == [
        ("Review Biology: 15 cards due", 15, 3)
    ]
    assert day(plan.days, WED + timedelta(days=2)).items[0].count == 30
    assert day(plan.days, WED + timedelta(days=1)).items == []


def test_never_studied_cards_outside_an_exam_deck_are_not_planned() -> None:
    plan = build_plan(PlanInput(NOW, UTC_ZONE, 7, HOURS, cards=[CardLoad("Bio", None, 500)]))
    assert all(not d.items for d in plan.days)


def test_a_task_is_spread_over_the_days_before_it_is_due() -> None:
    due = NOW + timedelta(days=4)  # Sunday 09:00
    plan = build_plan(PlanInput(NOW, UTC_ZONE, 7, HOURS, tasks=[TaskIn(3, "Essay", due, 1)]))
    work = [(d.day, i.minutes) for d in plan.days for i in d.items]
    assert work == [
        (WED, 30),
        (WED + timedelta(days=1), 30),
        (WED + timedelta(days=2), 30),
    ]
    assert plan.days[0].items[0].label == "Task 3: Essay (due Sun 29 Nov)"
    assert sum(m for _, m in work) == 90  # !high is estimated at 90 minutes


def test_work_that_does_not_fit_moves_to_the_next_day_before_its_deadline() -> None:
    due = NOW + timedelta(days=2)  # Friday
    tasks = [TaskIn(1, "Lab", due, 2), TaskIn(2, "Slides", due, 2)]
    hours = (30,) * 7
    plan = build_plan(PlanInput(NOW, UTC_ZONE, 3, hours, tasks=tasks))
    assert [(i.label, i.minutes) for i in plan.days[0].items] == [
        ("Task 1: Lab (due Fri 27 Nov)", 30)
    ]
    assert [(i.label, i.minutes) for i in plan.days[1].items] == [
        ("Task 1: Lab (due Fri 27 Nov)", 30)
    ]
    friday = plan.days[2]
    assert [(i.label, i.minutes) for i in friday.items] == [("Task 2: Slides (due Fri 27 Nov)", 30)]
    assert [(i.label, i.minutes) for i in friday.overflow] == [
        ("Task 2: Slides (due Fri 27 Nov)", 30)
    ]
    assert [(d, i.minutes) for d, i in plan.overflow] == [(friday.day, 30)]


def test_a_day_off_plans_nothing_and_reviews_wait_for_the_next_day() -> None:
    hours = (60, 60, 0, 60, 60, 60, 60)  # Wednesday off
    cards = [CardLoad("Bio", WED, 20)]
    plan = build_plan(PlanInput(NOW, UTC_ZONE, 2, hours, cards=cards))
    assert plan.days[0].items == [] and plan.days[0].capacity == 0
    assert [i.count for i in plan.days[1].items] == [20]


def test_reviews_left_at_the_end_of_the_plan_are_reported_as_not_fitting() -> None:
    plan = build_plan(PlanInput(NOW, UTC_ZONE, 1, (1,) * 7, cards=[CardLoad("Bio", WED, 10)]))
    [today] = plan.days
    assert [i.count for i in today.items] == [5]  # 60 s at 12 s a card
    assert [i.count for i in today.overflow] == [5]


def test_an_exam_gets_a_pass_over_its_decks_and_study_blocks_before_it() -> None:
    exam = ExamIn("Chemistry final", NOW + timedelta(days=3))  # Saturday
    cards = [
        CardLoad("Organic Chemistry", WED + timedelta(days=1), 10),  # due before: reviewed anyway
        CardLoad("Organic Chemistry", WED + timedelta(days=20), 30),  # not due before the exam
        CardLoad("Organic Chemistry", None, 15),  # never studied
        CardLoad("History", None, 99),
    ]
    plan = build_plan(PlanInput(NOW, UTC_ZONE, 7, HOURS, cards=cards, exams=[exam]))
    assert plan.exam_decks == {"Chemistry final": ("Organic Chemistry",)}
    passes = [(d.day, i.count) for d in plan.days for i in d.items if i.kind == "exam-reviews"]
    assert [p[0] for p in passes] == [WED, WED + timedelta(days=1), WED + timedelta(days=2)]
    assert sum(c for _, c in passes) == 45
    study = [d.day for d in plan.days for i in d.items if i.kind == "exam-study"]
    assert study == [WED, WED + timedelta(days=1), WED + timedelta(days=2)]
    saturday = day(plan.days, WED + timedelta(days=3))
    assert labels(saturday) == ["Exam: Chemistry final"]


def test_a_deck_is_prepared_for_the_nearest_exam_it_matches_only() -> None:
    near = ExamIn("Chem midterm", NOW + timedelta(days=2))
    far = ExamIn("Chemistry final", NOW + timedelta(days=6))
    cards = [CardLoad("Chemistry", None, 10)]
    plan = build_plan(PlanInput(NOW, UTC_ZONE, 7, HOURS, cards=cards, exams=[far, near]))
    assert plan.exam_decks == {"Chem midterm": ("Chemistry",), "Chemistry final": ()}


def test_deck_names_match_exam_subjects_by_significant_words() -> None:
    exam = ExamIn("Chemistry final", NOW, subject="bio")
    assert deck_matches(exam, "Chemistry")
    assert deck_matches(exam, "chem")  # a prefix of four letters or more
    assert deck_matches(exam, "Biology 101")  # through the #subject
    assert not deck_matches(exam, "Final words")  # "final" says nothing about the subject
    assert not deck_matches(exam, "History")


def test_past_exams_are_left_out() -> None:
    exam = ExamIn("Physics", NOW - timedelta(days=1))
    plan = build_plan(PlanInput(NOW, UTC_ZONE, 7, HOURS, exams=[exam]))
    assert plan.exam_decks == {} and all(not d.items for d in plan.days)


def test_the_same_moment_is_a_different_day_in_tokyo_and_in_los_angeles() -> None:
    late = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # Thu 05:00 Tokyo, Wed 12:00 LA
    due = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # Sat 01:00 Tokyo, Fri 08:00 LA
    task = TaskIn(1, "Essay", due, 3)
    tokyo = build_plan(PlanInput(late, ZoneInfo("Asia/Tokyo"), 3, HOURS, tasks=[task]))
    los_angeles = build_plan(
        PlanInput(late, ZoneInfo("America/Los_Angeles"), 3, HOURS, tasks=[task])
    )
    assert tokyo.today == date(2026, 11, 26) and los_angeles.today == WED
    # Thursday's hours in Tokyo, Wednesday's in Los Angeles: both 60; Saturday differs.
    assert [d.capacity for d in tokyo.days] == [60, 60, 240]
    assert tokyo.days[0].items[0].label == "Task 1: Essay (due Sat 28 Nov)"
    assert los_angeles.days[0].items[0].label == "Task 1: Essay (due Fri 27 Nov)"


def test_days_and_due_days_stay_right_across_the_end_of_summer_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 10, 23, 8, 0, tzinfo=UTC)  # Fri 10:00 CEST; DST ends Sun 25 Oct
    # 23:30 on Sunday in CET (+1); with Friday's offset (+2) it would be Monday 00:30.
    due = datetime(2026, 10, 25, 22, 30, tzinfo=UTC)
    # 00:30 on Sunday in CEST (+2); with the winter offset (+1) it would be Saturday 23:30.
    exam = ExamIn("History", datetime(2026, 10, 24, 22, 30, tzinfo=UTC))
    task = TaskIn(1, "Essay", due, 3)
    plan = build_plan(PlanInput(now, berlin, 5, HOURS, tasks=[task], exams=[exam]))
    assert [d.day for d in plan.days] == [date(2026, 10, d) for d in (23, 24, 25, 26, 27)]
    assert [d.capacity for d in plan.days] == [60, 240, 240, 60, 60]
    assert labels(plan.days[2]) == ["Exam: History"]
    assert labels(plan.days[0]) == [
        "Task 1: Essay (due Sun 25 Oct)",
        "Study for History (2 days to go)",
    ]
    assert labels(plan.days[1]) == ["Study for History (1 day to go)"]


def test_new_york_dst_end_moves_a_late_evening_due_time_to_the_right_day() -> None:
    new_york = ZoneInfo("America/New_York")
    now = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)  # Sat 08:00 EDT; DST ends Sun 1 Nov
    due = datetime(2026, 11, 3, 4, 30, tzinfo=UTC)  # Mon 2 Nov 23:30 EST (Tue in UTC)
    plan = build_plan(PlanInput(now, new_york, 4, HOURS, tasks=[TaskIn(7, "Lab", due, 3)]))
    assert plan.days[0].items[0].label == "Task 7: Lab (due Mon 02 Nov)"


def test_plan_length_is_bounded() -> None:
    with pytest.raises(ValueError):
        build_plan(PlanInput(NOW, UTC_ZONE, 31, HOURS))


def test_exam_study_blocks_name_the_documents_to_re_read_in_turn() -> None:
    exam = ExamIn("Chemistry final", NOW + timedelta(days=4))
    documents = [
        DocumentIn(3, "lecture-9.pdf", ("redox", "organic chemistry")),
        DocumentIn(1, "Chem notes.md"),
        DocumentIn(2, "Art history.pdf"),
    ]
    plan = build_plan(PlanInput(NOW, UTC_ZONE, 4, HOURS, exams=[exam], documents=documents))
    study = [i.label for d in plan.days for i in d.items if i.kind == "exam-study"]
    assert study == [
        "Study for Chemistry final (4 days to go): re-read Chem notes.md (/doc 1)",
        "Study for Chemistry final (3 days to go): re-read lecture-9.pdf (/doc 3)",
        "Study for Chemistry final (2 days to go): re-read Chem notes.md (/doc 1)",
        "Study for Chemistry final (1 day to go): re-read lecture-9.pdf (/doc 3)",
    ]
