"""What the stats service returns: per-day series and totals over one period, and its
labelled figures: one list, read by the chat reply, the web dashboard's tiles and the
REST API, so every place says the same thing the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.analytics.vocabulary import BY_KEY, SERIES, STUDY_MINUTES_COLOUR, duration, plural

PERIOD_NAMES = {"week": "the last 7 days", "month": "the last 30 days", "all": "all time"}
# Said under a streak of 0, where a student would wonder why their tasks did not count.
STREAK_RULE = "a streak day is a day with card reviews, /focus or /log time"


@dataclass(frozen=True)
class Figure:
    key: str  # stable, for code: "streak", "study_time", "things_done", ...
    label: str  # for people: "Streak"
    value: float  # the number behind it (minutes for study time)
    text: str  # the value in words: "3 days", "1 h 30 min"


@dataclass(frozen=True)
class TaskStats:
    total: int
    done: int
    overdue: int

    @property
    def completion_rate(self) -> float:
        return self.done / self.total if self.total else 0.0


@dataclass
class StatsReport:
    period: str
    days: list[date]
    # Series label (see vocabulary.SERIES, e.g. "tasks added") -> count per day; only
    # series with something in the period. The chart stacks exactly these.
    activity: dict[str, list[int]] = field(default_factory=dict)
    study_minutes: list[float] = field(default_factory=list)
    # (subject or None, minutes) over the period, most studied first.
    study_by_subject: list[tuple[str | None, int]] = field(default_factory=list)
    reviews: list[int] = field(default_factory=list)
    retention: float | None = None
    tasks: TaskStats | None = None
    # Days in a row with study: reviews, focus (alone or in a group) or logged time.
    streak: int = 0
    linked_accounts: int = 0
    due_days: list[date] = field(default_factory=list)
    due_forecast: list[int] = field(default_factory=list)
    ai_requests: list[int] = field(default_factory=list)
    ai_tokens: list[int] = field(default_factory=list)

    @property
    def total_activity(self) -> int:
        """ "Things done": the sum of every series the chart shows."""
        return sum(sum(series) for series in self.activity.values())

    @property
    def colours(self) -> dict[str, str]:
        """Series label -> its colour, for every chart that draws them."""
        found = {s.many: s.colour for s in BY_KEY.values()}
        return {name: found[name] for name in self.activity if name in found} | {
            "study minutes": STUDY_MINUTES_COLOUR
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "days": [d.isoformat() for d in self.days],
            "activity": self.activity,
            "colours": self.colours,
            "study_minutes": self.study_minutes,
            "study_by_subject": [
                {"subject": subject, "minutes": minutes}
                for subject, minutes in self.study_by_subject
            ],
            "reviews": self.reviews,
            "retention": self.retention,
            "tasks": None
            if self.tasks is None
            else {
                "total": self.tasks.total,
                "done": self.tasks.done,
                "overdue": self.tasks.overdue,
                "completion_rate": round(self.tasks.completion_rate, 4),
            },
            "streak": self.streak,
            "linked_accounts": self.linked_accounts,
            "due_days": [d.isoformat() for d in self.due_days],
            "due_forecast": self.due_forecast,
            "total_activity": self.total_activity,
            "ai_requests": self.ai_requests,
            "ai_tokens": self.ai_tokens,
            "figures": [
                {"key": f.key, "label": f.label, "value": f.value, "text": f.text}
                for f in figures(self)
            ],
        }


def figures(report: StatsReport) -> list[Figure]:
    found = [
        Figure("streak", "Streak", report.streak, plural(report.streak, "day")),
        _study_time(report),
        _things_done(report),
    ]
    if report.tasks is not None:
        t = report.tasks
        overdue = f"{t.overdue:,} overdue" if t.overdue else "none overdue"
        found.append(
            Figure(
                "tasks",
                "Tasks done",
                t.done,
                f"{t.done:,} of {t.total:,} ({t.completion_rate:.0%}), {overdue}",
            )
        )
    reviews = sum(report.reviews)
    if reviews:
        kept = f", {report.retention:.0%} remembered" if report.retention is not None else ""
        found.append(Figure("reviews", "Cards reviewed", reviews, f"{reviews:,}{kept}"))
    due = sum(report.due_forecast)
    if due:
        found.append(Figure("due", "Cards due in the next 7 days", due, f"{due:,}"))
    questions = sum(report.ai_requests)
    if questions:
        tokens = plural(sum(report.ai_tokens), "token")
        found.append(
            Figure("tutor", "Questions to the tutor", questions, f"{questions:,} ({tokens})")
        )
    found.append(
        Figure(
            "linked_accounts",
            "Linked accounts",
            report.linked_accounts,
            f"{report.linked_accounts:,}",
        )
    )
    return found


def _study_time(report: StatsReport) -> Figure:
    minutes = sum(report.study_minutes)
    text = duration(minutes)
    if len(report.study_by_subject) > 1 or any(s for s, _ in report.study_by_subject):
        parts = [
            f"#{subject} {duration(m)}" if subject else f"no subject {duration(m)}"
            for subject, m in report.study_by_subject
        ]
        text += " (" + ", ".join(parts) + ")"
    return Figure("study_time", "Study time", round(minutes, 1), text)


def _things_done(report: StatsReport) -> Figure:
    total = report.total_activity
    parts = []
    for series in SERIES:
        values = report.activity.get(series.many)
        if values and sum(values):
            parts.append(series.count(sum(values)))
    text = f"{total:,}" + (": " + ", ".join(parts) if parts else "")
    return Figure("things_done", "Things done", total, text)


def summary_text(report: StatsReport) -> str:
    """A few lines of chat markdown."""
    lines = [f"**Your stats for {PERIOD_NAMES.get(report.period, 'all time')}**"]
    shown = [f for f in figures(report) if f.key != "linked_accounts"]
    for figure in shown:
        rule = f" ({STREAK_RULE})" if figure.key == "streak" and not report.streak else ""
        lines.append(f"- {figure.label}: {figure.text}{rule}")
    if report.total_activity == 0 and not sum(report.study_minutes):
        lines.append("- Nothing recorded yet: add a /task, make a /deck, /focus or /log study time")
    return "\n".join(lines)
