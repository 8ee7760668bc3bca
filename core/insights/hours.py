"""Reading and showing available study hours: `2h weekdays, 4h weekends`, `mon 1h, tue 2h`,
`90m daily`, `sat-sun 3h30`. Days are Monday (0) to Sunday (6)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.chat.markup import escape, shorten
from core.errors import BadInput

DEFAULT_MINUTES: tuple[int, ...] = (120,) * 7
MAX_MINUTES_PER_DAY = 16 * 60
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOURS_EXAMPLE = "`/hours 2h weekdays, 4h weekends` or `/hours mon 1h, tue 2h30, sun off`"

_DAY_WORDS: dict[str, tuple[int, ...]] = {
    "weekdays": (0, 1, 2, 3, 4),
    "weekday": (0, 1, 2, 3, 4),
    "weekends": (5, 6),
    "weekend": (5, 6),
    "daily": tuple(range(7)),
    "everyday": tuple(range(7)),
    "all": tuple(range(7)),
    "days": tuple(range(7)),
}
_SINGLE_DAYS = {
    name: index
    for index, names in enumerate(
        (
            ("mon", "monday", "mondays"),
            ("tue", "tues", "tuesday", "tuesdays"),
            ("wed", "weds", "wednesday", "wednesdays"),
            ("thu", "thur", "thurs", "thursday", "thursdays"),
            ("fri", "friday", "fridays"),
            ("sat", "saturday", "saturdays"),
            ("sun", "sunday", "sundays"),
        )
    )
    for name in names
}
_FILLER = {"on", "every", "each", "day", "a", "per", "and", "at", "most", "for"}
_AMOUNT = re.compile(
    r"^(?:(\d+(?:\.\d+)?)\s*(?:h|hr|hrs|hour|hours))?\s*(?:(\d+)\s*(?:m|min|mins|minutes?)?)?$"
)
_OFF = {"off", "none", "0", "0h", "0m", "free"}


def parse_hours(text: str, current: Sequence[int]) -> tuple[int, ...]:
    """The week after applying `text` to `current`; days not named keep their value. One
    amount with no days applies to every day. Raises BadInput with the right form."""
    clauses = [c.strip() for c in re.split(r"[,;\n]", text) if c.strip()]
    if not clauses:
        raise BadInput(f"How many hours? For example {HOURS_EXAMPLE}.")
    week = list(current)
    for clause in clauses:
        minutes, days = _clause(clause)
        for day in days or (range(7) if len(clauses) == 1 else _missing_days(clause)):
            week[day] = minutes
    return tuple(week)


def _missing_days(clause: str) -> tuple[int, ...]:
    raise BadInput(
        f"Which days is “{escape(shorten(clause, 40))}” for? Name them, e.g. {HOURS_EXAMPLE}."
    )


def _clause(clause: str) -> tuple[int, tuple[int, ...]]:
    minutes: int | None = None
    days: list[int] = []
    for word in _words(clause):
        found = _days(word)
        if found is not None:
            days.extend(d for d in found if d not in days)
            continue
        if word in _FILLER:
            continue
        amount = _minutes(word)
        if amount is None:
            raise BadInput(
                f"I couldn't read “{escape(shorten(word, 30))}” as hours or days. "
                f"Try {HOURS_EXAMPLE}."
            )
        if minutes is not None:
            raise BadInput(
                f"“{escape(shorten(clause, 40))}” has two amounts; one per part, separated "
                f"by commas: {HOURS_EXAMPLE}."
            )
        minutes = amount
    if minutes is None:
        raise BadInput(f"How long on {escape(shorten(clause, 40))}? For example {HOURS_EXAMPLE}.")
    return minutes, tuple(days)


def _words(clause: str) -> list[str]:
    # "2 h", "1 hour 30" and "every day" are read as one amount / one word.
    lowered = clause.lower().replace("every day", "daily")
    lowered = re.sub(r"(\d)\s+(h|hrs?|hours?|m|mins?|minutes?)\b", r"\1\2", lowered)
    lowered = re.sub(r"(\d(?:h|hrs?|hours?))\s+(\d+(?:m|mins?|minutes?)?)\b", r"\1\2", lowered)
    return lowered.split()


def _days(word: str) -> tuple[int, ...] | None:
    if word in _DAY_WORDS:
        return _DAY_WORDS[word]
    if word in _SINGLE_DAYS:
        return (_SINGLE_DAYS[word],)
    first, dash, last = word.partition("-")
    if dash and first in _SINGLE_DAYS and last in _SINGLE_DAYS:
        start, end = _SINGLE_DAYS[first], _SINGLE_DAYS[last]
        return tuple((start + i) % 7 for i in range((end - start) % 7 + 1))
    return None


def _minutes(word: str) -> int | None:
    if word in _OFF:
        return 0
    match = _AMOUNT.match(word)
    if match is None or not any(match.groups()):
        return None
    hours, mins = match.groups()
    if hours is None and not re.search(r"m", word):
        return None  # a bare number: hours or minutes? Ask rather than guess.
    total = round(float(hours or 0) * 60) + int(mins or 0)
    if total > MAX_MINUTES_PER_DAY:
        raise BadInput(f"At most {MAX_MINUTES_PER_DAY // 60}h a day, please: “{escape(word)}”.")
    return total


def format_minutes(minutes: int) -> str:
    """`45 min`, `2h`, `1h30`."""
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours}h{rest:02d}" if rest else f"{hours}h"


def format_week(week: Sequence[int]) -> str:
    """`Mon–Fri 2h, Sat–Sun 4h`: runs of equal days joined."""
    runs: list[tuple[int, int, int]] = []
    for day, minutes in enumerate(week):
        if runs and runs[-1][2] == minutes:
            runs[-1] = (runs[-1][0], day, minutes)
        else:
            runs.append((day, day, minutes))
    parts = []
    for first, last, minutes in runs:
        days = DAY_NAMES[first] if first == last else f"{DAY_NAMES[first]}–{DAY_NAMES[last]}"
        parts.append(f"{days} {format_minutes(minutes) if minutes else 'off'}")
    return ", ".join(parts)
