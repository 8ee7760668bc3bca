"""Which words of a text may be a date: the date vocabulary (weekdays, months, times,
units, in English; `datewords` adds other languages), the spans of words to try, and
the words a title keeps that still look like a date. `parsing` reads the spans."""

from __future__ import annotations

import re

from core.tasks import datewords

MAX_DATE_WORDS = 6

_WEEKDAYS = (
    "mon|monday|tue|tues|tuesday|wed|weds|wednesday|thu|thur|thurs|thursday|"
    "fri|friday|sat|saturday|sun|sunday"
)
_MONTHS = (
    "jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|"
    "sep|sept|september|oct|october|nov|november|dec|december"
)
_RELATIVE = "today|tomorrow|tonight|yesterday|noon|midnight|morning|afternoon|evening|week"
_UNITS = "min|mins|minute|minutes|h|hr|hrs|hour|hours|day|days|week|weeks|month|months"
CONNECTORS = {"due", "by", "on", "at", "before", "until", "in", "next", "this", "of", "the"}
TIME = re.compile(r"^(\d{1,2}(:\d{2})?\s?(am|pm)|\d{1,2}:\d{2}|noon|midnight|tonight)$", re.I)
_NUMERIC_DATE = re.compile(r"^\d{1,4}[-/.]\d{1,2}([-/.]\d{1,4})?\.?$")
_ORDINAL = re.compile(r"^\d{1,2}(st|nd|rd|th)$", re.I)
WORD_CUE = re.compile(rf"^({_WEEKDAYS}|{_MONTHS}|{_RELATIVE})$", re.I)
_MONTH = re.compile(rf"^({_MONTHS})$", re.I)
_UNIT = re.compile(rf"^({_UNITS})$", re.I)
IN_DURATION = re.compile(r"^in\s+(\d+)\s*(min|mins|minutes?|h|hrs?|hours?|days?|weeks?)$", re.I)
ALIASES = {"tmr": "tomorrow", "tmrw": "tomorrow", "tomorow": "tomorrow", "2moro": "tomorrow"}
_MERIDIEM = {"am", "pm"}
_FILLERS = CONNECTORS | _MERIDIEM | {"and"}
_NEAR_NUMBER = {"uhr", "h", "las", "um", "de"}
_DAY_NUMBER = re.compile(r"^([12]?\d|3[01])(st|nd|rd|th)$", re.I)


def unused_date_word(words: list[str], languages: tuple[str, ...], dated: bool) -> str | None:
    """A word left in the title that looks like a date: a time, a numeric date or a day
    number ("28th") always; a weekday or day word only once another date was taken, as
    alone it is as likely a word ("Plan friday holiday")."""
    for i, word in enumerate(words):
        low = word.lower()
        previous = words[i - 1].lower() if i else None
        if TIME.match(low) or _NUMERIC_DATE.match(low) or _DAY_NUMBER.match(low):
            return word
        if datewords.is_japanese(low) and datewords.is_cue(low, languages):
            return word
        if dated and (
            (WORD_CUE.match(low) and not _MONTH.match(low))
            or datewords.is_cue(low, languages, previous)
        ):
            return word
    return None


def weak_alone(phrase: list[str], languages: tuple[str, ...]) -> bool:
    """A lone weekday or month inside a title ("Plan friday holiday", "Plan may trip")
    is more likely a word than a date; a day, a time or a numeric date is not."""
    if len(phrase) > 1:
        return False
    word = ALIASES.get(phrase[0].lower(), phrase[0].lower())
    strong = (
        TIME.match(word)
        or _NUMERIC_DATE.match(word)
        or word in ("today", "tomorrow", "tonight")
        or (datewords.is_japanese(word) and datewords.is_cue(word, languages))
        or datewords.is_relative_day(word, languages)
    )
    return not strong


def windows(count: int, head_first: bool) -> list[tuple[int, int]]:
    """Word ranges to try, in order: the ends first, then the middle, longest first."""
    longest = min(MAX_DATE_WORDS, count)
    tail = [(count - size, count) for size in range(longest, 0, -1)]
    head = [(0, size) for size in range(longest, 0, -1)]
    middle = [
        (start, start + size) for size in range(longest, 0, -1) for start in range(1, count - size)
    ]
    return (head + tail if head_first else tail + head) + middle


def looks_like_date(words: list[str], languages: tuple[str, ...]) -> bool:
    """Every word is date vocabulary and at least one is a real cue; bare numbers only
    next to a month, a unit or am/pm, so "chapter 5" is never a date."""
    if not words or words[0].lower() in {"of", "the", "and", "de"}:
        return False
    cue = False
    lowered = [ALIASES.get(w.lower(), w.lower()) for w in words]
    for i, word in enumerate(lowered):
        previous = lowered[i - 1] if i else None
        if (
            WORD_CUE.match(word)
            or TIME.match(word)
            or _NUMERIC_DATE.match(word)
            or datewords.is_cue(word, languages, previous)
        ):
            cue = True
        elif word.isdecimal():
            neighbours = lowered[max(0, i - 1) : i] + lowered[i + 1 : i + 2]
            year_after_day = len(word) == 4 and i > 0 and lowered[i - 1].isdecimal()
            if not year_after_day and not any(_near_number(n, languages) for n in neighbours):
                return False
        elif not (
            _ORDINAL.match(word) or _UNIT.match(word) or word in _FILLERS or datewords.is_part(word)
        ):
            return False
    return cue or bool(IN_DURATION.match(" ".join(lowered))) or _foreign_duration(lowered)


def _near_number(word: str, languages: tuple[str, ...]) -> bool:
    return bool(
        _MONTH.match(word)
        or _UNIT.match(word)
        or word in _MERIDIEM
        or word in _NEAR_NUMBER
        or datewords.is_part(word)
        or datewords.is_cue(word, languages)
    )


def _foreign_duration(lowered: list[str]) -> bool:
    return len(lowered) == 3 and lowered[0] in ("in", "en") and datewords.is_part(lowered[2])
