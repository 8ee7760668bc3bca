"""The day-by-day study plan: pure functions on plain values, no I/O, no clock.

Each local day has the minutes the student said they can study (/hours). Work lands on a
day as demands: the cards FSRS has due that day, a pass over every card of a deck an exam
needs that would otherwise not come up before it, the pieces of a task spread over the
days before it is due, and study blocks in the days before an exam. A day takes demands
in a fixed order (reviews, exam passes, tasks by due date, exam study); what does not fit
moves to the next day while that is still before its deadline, and is reported as not
fitting on the day its deadline passes."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

REVIEW_SECONDS = 12  # one flashcard review, question to rating
TASK_UNIT_SECONDS = 5 * 60  # task time is planned in 5-minute steps
TASK_MIN_PIECE_MINUTES = 30  # never a 5-minute slice of an essay
TASK_LEAD_DAYS = 7  # work on a task starts at most this many days before it is due
PRIORITY_MINUTES = {1: 90, 2: 60, 3: 30}  # estimated work per task: !high, !medium, !low
EXAM_STUDY_DAYS = 5
EXAM_STUDY_MINUTES = 45
MAX_PLAN_DAYS = 30

KIND_ORDER = ("exam", "reviews", "exam-reviews", "task", "exam-study")
_STOPWORDS = frozenset(
    "final finals exam exams midterm midterms test tests quiz paper papers the and for of "  # noqa: SIM905
    "in on a an to with part unit module course class oral written mock resit retake".split()
)


@dataclass(frozen=True)
class TaskIn:
    number: int
    title: str
    due_at: datetime  # aware, any zone
    priority: int = 2


@dataclass(frozen=True)
class CardLoad:
    """How many of the student's cards in `deck` fall due on a local day; `due_day` None
    counts the cards never studied."""

    deck: str
    due_day: date | None
    count: int


@dataclass(frozen=True)
class ExamIn:
    title: str
    starts_at: datetime  # aware, any zone
    subject: str | None = None


@dataclass(frozen=True)
class DocumentIn:
    """One of the student's documents: its /docs number, title and key concepts."""

    number: int
    title: str
    key_concepts: Sequence[str] = ()


@dataclass(frozen=True)
class PlanInput:
    now: datetime
    zone: ZoneInfo
    days: int
    hours: Sequence[int]  # minutes available, Monday first
    tasks: Sequence[TaskIn] = ()
    cards: Sequence[CardLoad] = ()
    exams: Sequence[ExamIn] = ()
    documents: Sequence[DocumentIn] = ()


@dataclass(frozen=True)
class PlanItem:
    kind: str
    label: str  # plain text; the chat layer escapes it
    minutes: int
    count: int = 0  # cards, for the review kinds


@dataclass
class DayPlan:
    day: date
    capacity: int
    items: list[PlanItem] = field(default_factory=list)
    overflow: list[PlanItem] = field(default_factory=list)

    @property
    def planned_minutes(self) -> int:
        return sum(item.minutes for item in self.items)


@dataclass(frozen=True)
class Plan:
    today: date
    days: list[DayPlan]
    # Decks each upcoming exam needs (by the deck-name rule in `deck_matches`).
    exam_decks: dict[str, tuple[str, ...]]

    @property
    def overflow(self) -> list[tuple[date, PlanItem]]:
        return [(d.day, item) for d in self.days for item in d.overflow]


@dataclass(frozen=True)
class _Demand:
    key: str
    kind: str
    label: str
    deadline: date
    units: int
    unit_seconds: int
    rank: tuple[object, ...] = ()

    def item(self, units: int) -> PlanItem:
        minutes = math.ceil(units * self.unit_seconds / 60)
        count = units if self.kind in ("reviews", "exam-reviews") else 0
        return PlanItem(self.kind, self.label, minutes, count)


def local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def words_of(text: str) -> set[str]:
    """The significant words of an exam or deck name, lower-cased."""
    return {w for w in re.findall(r"[^\W_]+", text.lower()) if len(w) >= 3} - _STOPWORDS


def deck_matches(exam: ExamIn, deck: str) -> bool:
    """A deck (or document) belongs to an exam when a significant word of the exam's title
    equals, or is a prefix of at least four letters of, a word of the deck's name, or the
    other way round ("Chem" and "Chemistry final"); the exam's #subject counts from three
    letters ("bio")."""
    deck_words = words_of(deck)
    if any(_prefix_match(w, d, 4) for w in words_of(exam.title) for d in deck_words):
        return True
    subject = words_of(exam.subject or "")
    return any(_prefix_match(w, d, 3) for w in subject for d in deck_words)


def documents_for(exam: ExamIn, documents: Sequence[DocumentIn]) -> list[DocumentIn]:
    """The documents whose title or key concepts name the exam's subject, in /docs order."""
    return [
        d
        for d in sorted(documents, key=lambda d: d.number)
        if deck_matches(exam, " ".join([d.title, *d.key_concepts]))
    ]


def _prefix_match(one: str, other: str, min_prefix: int) -> bool:
    shorter, longer = sorted((one, other), key=len)
    return shorter == longer or (len(shorter) >= min_prefix and longer.startswith(shorter))


def build_plan(data: PlanInput) -> Plan:
    if not 1 <= data.days <= MAX_PLAN_DAYS:
        raise ValueError(f"a plan covers 1 to {MAX_PLAN_DAYS} days")
    today = local_day(data.now, data.zone)
    last = today + timedelta(days=data.days - 1)
    upcoming = sorted(
        (e for e in data.exams if local_day(e.starts_at, data.zone) >= today),
        key=lambda e: (e.starts_at, e.title),
    )
    exam_decks = _decks_per_exam(upcoming, data.cards)
    demands: dict[date, list[_Demand]] = {}
    for demand_day, demand in (
        *_review_demands(data.cards, today, last),
        *_exam_demands(upcoming, exam_decks, data.cards, data.documents, today, data.zone),
        *_task_demands(data.tasks, today, last, data.zone),
    ):
        if demand_day <= last:
            demands.setdefault(demand_day, []).append(demand)
    days = _fill(today, data.days, data.hours, demands)
    return Plan(today, days, {e.title: exam_decks.get(_exam_key(e), ()) for e in upcoming})


def _exam_key(exam: ExamIn) -> str:
    return f"{exam.starts_at.astimezone(UTC).isoformat()}|{exam.title}"


def _decks_per_exam(
    exams: Sequence[ExamIn], cards: Sequence[CardLoad]
) -> dict[str, tuple[str, ...]]:
    """Each deck is prepared for the nearest exam it matches only (one pass, not one per
    exam)."""
    claimed: set[str] = set()
    result: dict[str, tuple[str, ...]] = {}
    decks = sorted({c.deck for c in cards})
    for exam in exams:
        mine = tuple(d for d in decks if d not in claimed and deck_matches(exam, d))
        claimed.update(mine)
        result[_exam_key(exam)] = mine
    return result


def _review_demands(
    cards: Sequence[CardLoad], today: date, last: date
) -> Iterable[tuple[date, _Demand]]:
    per_day: dict[tuple[date, str], int] = {}
    for load in cards:
        if load.due_day is None or load.due_day > last or load.count <= 0:
            continue
        key = (max(load.due_day, today), load.deck)
        per_day[key] = per_day.get(key, 0) + load.count
    for (day, deck), count in sorted(per_day.items()):
        label = f"Review {deck}: {count} card{'s' if count != 1 else ''} due"
        yield day, _Demand(f"reviews|{deck}", "reviews", label, last, count, REVIEW_SECONDS)


def _exam_demands(
    exams: Sequence[ExamIn],
    exam_decks: dict[str, tuple[str, ...]],
    cards: Sequence[CardLoad],
    documents: Sequence[DocumentIn],
    today: date,
    zone: ZoneInfo,
) -> Iterable[tuple[date, _Demand]]:
    for exam in exams:
        reading = documents_for(exam, documents)
        exam_day = local_day(exam.starts_at, zone)
        yield (
            exam_day,
            _Demand(f"exam|{_exam_key(exam)}", "exam", f"Exam: {exam.title}", exam_day, 0, 1),
        )
        decks = exam_decks.get(_exam_key(exam), ())
        not_before = sum(
            c.count
            for c in cards
            if c.deck in decks and (c.due_day is None or c.due_day >= exam_day)
        )
        window = [today + timedelta(days=i) for i in range((exam_day - today).days)]
        if not_before and window:
            label = f"Ready for {exam.title}: go through {', '.join(decks)}"
            demand = _Demand(
                f"exam-reviews|{_exam_key(exam)}",
                "exam-reviews",
                label,
                exam_day - timedelta(days=1),
                0,
                REVIEW_SECONDS,
                (exam_day,),
            )
            for day, units in _spread(not_before, window, 1):
                yield day, replace(demand, units=units)
        for index, day in enumerate(window[-EXAM_STUDY_DAYS:]):
            left = (exam_day - day).days
            label = f"Study for {exam.title} ({left} day{'s' if left != 1 else ''} to go)"
            if reading:
                # One document a day, in turn, so each is re-read before the exam.
                document = reading[index % len(reading)]
                label += f": re-read {document.title} (/doc {document.number})"
            units = EXAM_STUDY_MINUTES * 60 // TASK_UNIT_SECONDS
            key = f"exam-study|{_exam_key(exam)}|{day}"
            yield day, _Demand(key, "exam-study", label, day, units, TASK_UNIT_SECONDS, (exam_day,))


def _task_demands(
    tasks: Sequence[TaskIn], today: date, last: date, zone: ZoneInfo
) -> Iterable[tuple[date, _Demand]]:
    for task in tasks:
        due_day = local_day(task.due_at, zone)
        minutes = PRIORITY_MINUTES.get(task.priority, PRIORITY_MINUTES[2])
        units = math.ceil(minutes * 60 / TASK_UNIT_SECONDS)
        if due_day <= today:
            # Overdue work is late already: it waits for room as long as the plan runs.
            window, deadline = [today], (today if due_day == today else last)
            when = "overdue" if due_day < today else "due today"
        else:
            start = max(today, due_day - timedelta(days=TASK_LEAD_DAYS))
            window = [start + timedelta(days=i) for i in range((due_day - start).days)]
            deadline = due_day
            when = f"due {due_day:%a %d %b}"
        label = f"Task {task.number}: {task.title} ({when})"
        demand = _Demand(
            f"task|{task.number}",
            "task",
            label,
            deadline,
            0,
            TASK_UNIT_SECONDS,
            (due_day, task.priority, task.number),
        )
        piece = TASK_MIN_PIECE_MINUTES * 60 // TASK_UNIT_SECONDS
        for day, part in _spread(units, window, piece):
            yield day, replace(demand, units=part)


def _spread(units: int, window: Sequence[date], min_piece: int) -> list[tuple[date, int]]:
    """`units` split as evenly as possible over evenly spaced days of `window`, no piece
    smaller than `min_piece` (unless the whole is)."""
    pieces = max(1, min(len(window), units // max(min_piece, 1)))
    base, extra = divmod(units, pieces)
    chosen = [window[i * len(window) // pieces] for i in range(pieces)]
    return [(day, base + (1 if i < extra else 0)) for i, day in enumerate(chosen)]


def _fill(
    today: date, days: int, hours: Sequence[int], demands: dict[date, list[_Demand]]
) -> list[DayPlan]:
    result: list[DayPlan] = []
    carried: list[_Demand] = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        plan = DayPlan(day, hours[day.weekday()])
        free = plan.capacity * 60
        carried_next: list[_Demand] = []
        for demand in _merge(carried + demands.get(day, [])):
            fits = min(demand.units, free // demand.unit_seconds)
            if demand.kind == "exam" or fits:
                plan.items.append(demand.item(fits))
                free -= fits * demand.unit_seconds
            rest = demand.units - fits
            if rest and demand.deadline > day:
                carried_next.append(replace(demand, units=rest))
            elif rest:
                plan.overflow.append(demand.item(rest))
        carried = carried_next
        result.append(plan)
    return result


def _merge(demands: list[_Demand]) -> list[_Demand]:
    """Carried and new parts of the same work become one, then sorted into the day's
    order."""
    merged: dict[str, _Demand] = {}
    for demand in demands:
        seen = merged.get(demand.key)
        merged[demand.key] = (
            demand if seen is None else replace(seen, units=seen.units + demand.units)
        )
    return sorted(
        merged.values(),
        key=lambda d: (KIND_ORDER.index(d.kind), d.deadline, d.rank, d.label),
    )
