"""Understanding what a student types: `Lab report fri 5pm #chem !high`.

Dates are read with `dateparser` relative to the user's local time; the date phrase must
sit at the end (or the start) of the text and contain a date word, a time or a numeric
date, so that "Read chapter 5" stays a title. `due <phrase>` forces a date and fails
loudly when the phrase is not one."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import IntEnum
from zoneinfo import ZoneInfo

from core.chat.markup import escape, shorten
from core.errors import BadInput
from core.tasks import datewords
from core.tasks.date_phrases import (
    ALIASES,
    CONNECTORS,
    IN_DURATION,
    TIME,
    WORD_CUE,
    looks_like_date,
    unused_date_word,
    weak_alone,
    windows,
)

MAX_TITLE = 200
MAX_SUBJECT = 40
# Bounds on the search so a long or hostile text cannot keep dateparser busy: the middle
# is scanned only in texts short enough to make a title, and only so many phrases tried.
MAX_SCAN_WORDS = 60
MAX_DATE_TRIES = 12
DEFAULT_DUE_TIME = time(17, 0)
END_OF_DAY = time(23, 59)
YEARS_AHEAD = 10
# The horizon for due dates and reminders. Far beyond it datetimes overflow (year 9999
# shown east of UTC, the end of a calendar event) and nobody plans that far anyway.
MAX_AHEAD = timedelta(days=365 * YEARS_AHEAD + 3)


class Priority(IntEnum):
    HIGH = 1
    MEDIUM = 2
    LOW = 3

    @property
    def label(self) -> str:
        return self.name.lower()


PRIORITY_WORDS = {
    "high": Priority.HIGH,
    "h": Priority.HIGH,
    "urgent": Priority.HIGH,
    "medium": Priority.MEDIUM,
    "med": Priority.MEDIUM,
    "m": Priority.MEDIUM,
    "normal": Priority.MEDIUM,
    "low": Priority.LOW,
    "l": Priority.LOW,
}

_TIME_WORDS = re.compile(
    r"\d{1,2}(:\d{2})?\s?(am|pm)\b|\b\d{1,2}:\d{2}\b|\b(noon|midnight|tonight|morning|"
    r"afternoon|evening)\b|\bin\s+\d+\s*(min|mins|minutes?|h|hrs?|hours?)\b",
    re.I,
)
_DAYLIKE = re.compile(r"(day|days)$", re.I)
# Dropped from the end of a title once the date after them was taken out.
_TITLE_TAIL = CONNECTORS | {
    "for", "bis", "am", "um", "zum", "para", "el", "hasta", "antes", "de", "a",
}  # fmt: skip


@dataclass(frozen=True)
class Due:
    at: datetime  # UTC
    phrase: str
    time_given: bool


@dataclass
class ParsedTask:
    title: str
    due: Due | None = None
    subject: str | None = None
    priority: Priority | None = None
    clear_due: bool = False
    notes: list[str] = field(default_factory=list)  # what we assumed, shown to the user


def languages_for(locale: str | None) -> tuple[str, ...]:
    """The dateparser languages for a user's locale: theirs, then English."""
    lang = (locale or "en").split("-")[0].split("_")[0].lower()
    return (lang, "en") if lang != "en" else ("en",)


def parse_task_text(
    text: str, now: datetime, zone: ZoneInfo, languages: tuple[str, ...] = ("en",)
) -> ParsedTask:
    """Split `/task` text into title, due date, #subject and !priority. Raises BadInput
    for a date in the past, a `due` phrase that is not a date, or a bad tag."""
    words = datewords.split_japanese(text).split()
    notes: list[str] = []
    subject, priority, words = _pull_tags(words, notes)
    clear_due = False
    due: Due | None = None
    lowered = [w.lower() for w in words]
    if "due" in lowered:
        at = lowered.index("due")
        phrase_words = words[at + 1 :]
        if [w.lower() for w in phrase_words] in (["none"], ["off"], ["never"]):
            clear_due = True
        else:
            phrase = " ".join(phrase_words)
            if not phrase:
                raise BadInput("`due` needs a date after it, for example: due fri 5pm.")
            due = parse_when(phrase, now, zone, languages)
            if due is None:
                raise BadInput(
                    f"I couldn't read “{_quote(phrase)}” as a date. Try something like "
                    "“fri 5pm”, “tomorrow”, “in 2 hours” or “2026-12-03 14:00”."
                )
        words = words[:at]
    else:
        found = _find_date(words, now, zone, languages)
        if found is not None:
            due, words = found
        elif words and _DAYLIKE.search(words[-1]) and not WORD_CUE.match(words[-1]):
            notes.append(f"I didn't read “{shorten(words[-1])}” as a date")
        unused = unused_date_word(words, languages, due is not None)
        if unused is not None and notes[-1:] != [_not_read(unused)]:
            notes.append(_not_read(unused))
    tail = _TITLE_TAIL if due is not None else CONNECTORS
    while words and words[-1].lower() in tail:
        words = words[:-1]
    title = " ".join(words).strip()
    if len(title) > MAX_TITLE:
        raise BadInput(
            f"That title is {len(title):,} characters; keep it under {MAX_TITLE}. "
            "Put the details in a shorter title."
        )
    if due is not None:
        _refuse_past(due, now, zone)
    return ParsedTask(title, due, subject, priority, clear_due, notes)


def parse_reminder_text(
    text: str, now: datetime, zone: ZoneInfo, languages: tuple[str, ...] = ("en",)
) -> tuple[Due, str] | None:
    """`/remind <when> <text>` (or `<text> <when>`): the moment and what to say; None
    when no date phrase is found. Raises BadInput for a moment in the past."""
    words = datewords.split_japanese(text).split()
    found = _find_date(words, now, zone, languages, head_first=True)
    if found is None:
        return None
    due, rest = found
    while rest and rest[0].lower() in ("to", "that", "about"):
        rest = rest[1:]
    _refuse_past(due, now, zone)
    return due, " ".join(rest)


def _refuse_past(due: Due, now: datetime, zone: ZoneInfo) -> None:
    if due.at > now:
        return
    when = format_local(due.at.astimezone(zone), now.astimezone(zone))
    raise BadInput(
        f"“{_quote(due.phrase)}” is {when}, which is in the past. "
        "Give a time that is still ahead, e.g. “tomorrow 9am”."
    )


def parse_when(
    phrase: str, now: datetime, zone: ZoneInfo, languages: tuple[str, ...] = ("en",)
) -> Due | None:
    """A date phrase in the user's zone, as UTC; None when it is not a date."""
    cleaned = " ".join(ALIASES.get(w.lower(), w) for w in phrase.split())
    local_now = now.astimezone(zone)
    duration = IN_DURATION.match(cleaned)
    if duration is not None:
        # Real elapsed time, so "in 2 hours" stays 2 hours across a DST change.
        ahead = _duration(duration.group(1), duration.group(2))
        if ahead is None or ahead > MAX_AHEAD:
            raise too_far(phrase, now)
        return Due(now + ahead, phrase, True)
    reading = datewords.read(cleaned, local_now.replace(tzinfo=None), languages)
    if reading is not None:
        parsed: datetime | None = reading.at
        time_given, relative_day = reading.time_given, reading.relative_day
    elif datewords.impossible_date(cleaned, languages, local_now.date()):
        return None
    else:
        parsed = _parse(cleaned, local_now, languages)
        time_given = bool(_TIME_WORDS.search(cleaned))
        relative_day = bool(
            re.search(r"\b(today|tomorrow|in\s+\d+\s*days?|next week)\b", cleaned, re.I)
        )
    if parsed is None:
        return None
    if parsed - local_now.replace(tzinfo=None) > MAX_AHEAD:
        raise too_far(phrase, now)
    naive = parsed
    if not time_given:
        naive = datetime.combine(naive.date(), DEFAULT_DUE_TIME)
        if naive.replace(tzinfo=zone) <= local_now and naive.date() == local_now.date():
            naive = datetime.combine(naive.date(), END_OF_DAY)
    elif (
        naive.replace(tzinfo=zone) <= local_now
        and not relative_day
        and _bare_time(reading, cleaned)
    ):
        naive += timedelta(days=1)
    return Due(naive.replace(tzinfo=zone).astimezone(UTC), phrase, time_given)


def _bare_time(reading: datewords.Reading | None, cleaned: str) -> bool:
    """A time with no day: one already past today means tomorrow."""
    if reading is not None:
        return not reading.day_given
    return bool(TIME.match(cleaned))


def too_far(phrase: str, now: datetime) -> BadInput:
    """The error for a moment beyond the horizon."""
    limit = now + MAX_AHEAD
    return BadInput(
        f"“{_quote(phrase)}” is more than {YEARS_AHEAD} years ahead. Give a date before "
        f"{limit:%d %b %Y}, e.g. “fri 5pm” or “2027-06-01”."
    )


def _duration(digits: str, unit: str) -> timedelta | None:
    """`in <digits> <unit>` as a length of time; None when it is too long to be one."""
    if len(digits) > 9:  # also keeps int() away from numbers thousands of digits long
        return None
    amount = int(digits)
    unit = unit.lower()
    try:
        if unit.startswith("m"):
            return timedelta(minutes=amount)
        if unit.startswith("h"):
            return timedelta(hours=amount)
        if unit.startswith("d"):
            return timedelta(days=amount)
        return timedelta(weeks=amount)
    except OverflowError:
        return None


def _parse(text: str, local_now: datetime, languages: tuple[str, ...]) -> datetime | None:
    # Imported here: dateparser takes a while to import, and a process may answer other
    # commands first (`teddy chat` its first message).
    from dateparser.date import DateDataParser

    settings = {
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
        "PREFER_DATES_FROM": "future",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    try:
        data = DateDataParser(languages=list(languages), settings=settings).get_date_data(text)
    except ValueError:  # a locale dateparser does not know
        data = DateDataParser(languages=["en"], settings=settings).get_date_data(text)
    if data.date_obj is None or data.period in ("month", "year"):
        return None
    result: datetime = data.date_obj
    return result


def _pull_tags(words: list[str], notes: list[str]) -> tuple[str | None, Priority | None, list[str]]:
    subject: str | None = None
    priority: Priority | None = None
    rest: list[str] = []
    for word in words:
        if len(word) > 1 and word.startswith("#"):
            if subject is not None:
                raise BadInput("One #subject per task, please (for example #chem).")
            subject = word[1:].lower()
            if len(subject) > MAX_SUBJECT:
                raise BadInput(f"A #subject is at most {MAX_SUBJECT} characters.")
        elif len(word) > 1 and word.startswith("!") and word[1:].isalpha():
            level = PRIORITY_WORDS.get(word[1:].lower())
            if level is None:
                raise BadInput(f"“{_quote(word)}” is not a priority: use !high, !medium or !low.")
            priority = level
            if not level.label.startswith(word[1:].lower()):
                notes.append(f"I took “{shorten(word)}” as !{level.label}")
        else:
            rest.append(word)
    return subject, priority, rest


def _find_date(
    words: list[str],
    now: datetime,
    zone: ZoneInfo,
    languages: tuple[str, ...],
    *,
    head_first: bool = False,
) -> tuple[Due, list[str]] | None:
    """The longest date phrase at the end of the text, else at the start (or the other
    way round with `head_first`), else anywhere in between; returns it with the
    remaining words."""
    tries = 0
    for start, stop in windows(len(words), head_first):
        phrase = words[start:stop]
        inside = start > 0 and stop < len(words)
        if looks_like_date(phrase, languages) and not (inside and weak_alone(phrase, languages)):
            tries += 1
            if tries > MAX_DATE_TRIES:
                return None
            due = parse_when(" ".join(phrase), now, zone, languages)
            if due is not None:
                return due, words[:start] + words[stop:]
    return None


def _not_read(word: str) -> str:
    return f"I didn't read “{shorten(word)}” as a date"


def _quote(text: str) -> str:
    """User text echoed in an error: one short line, markup-safe."""
    return escape(shorten(text, 40))


def local_time(moment: datetime, zone: ZoneInfo) -> datetime:
    """`moment` in `zone`; a moment at the very end of the calendar (year 9999, stored
    before the horizon existed) stays in UTC rather than overflow."""
    try:
        return moment.astimezone(zone)
    except OverflowError:
        return moment.astimezone(UTC)


def format_local(local: datetime, local_now: datetime) -> str:
    """`Fri 27 Nov 17:00`, with the year when it is not this year."""
    if local.year != local_now.year:
        return f"{local:%a %d %b %Y %H:%M}"
    return f"{local:%a %d %b %H:%M}"


_OFFSET = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?:in)?)?$", re.I)


def parse_offsets(text: str) -> list[int]:
    """`1d 1h 0` -> [1440, 60, 0] minutes before the due time; `off` -> []."""
    words = text.replace(",", " ").split()
    if [w.lower() for w in words] in (["off"], ["none"]):
        return []
    minutes: list[int] = []
    for word in words:
        match = _OFFSET.match(word)
        if word.isdecimal():
            minutes.append(int(word))
        elif match is not None and any(match.groups()):
            days, hours, mins = (int(g) if g else 0 for g in match.groups())
            minutes.append(days * 1440 + hours * 60 + mins)
        else:
            raise BadInput(
                f"“{_quote(word)}” is not a time before the due date. Use e.g. "
                "`/reminders 1d 1h 0` (a day, an hour and at the due time) or `/reminders off`."
            )
    if not minutes:
        raise BadInput("Say when: `/reminders 1h 0` or `/reminders off`.")
    return minutes
