"""Date phrases read without dateparser: numeric dates in the user's day/month order,
"the 10th", and the common German, Spanish and Japanese words for days, weekdays, months,
times and durations. dateparser misreads many of these ("Freitag 17 Uhr" as the 17th,
"金曜 17時" not at all) and is slow, so these are read first; anything else falls back."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

# Each language's words; a user's phrase is read only with their own languages' words.
_LANG_WORDS: dict[str, dict[str, int]] = {
    "de": {
        "heute": 0, "morgen": 1, "übermorgen": 2, "uebermorgen": 2,
        "montag": 100, "dienstag": 101, "mittwoch": 102, "donnerstag": 103,
        "freitag": 104, "samstag": 105, "sonnabend": 105, "sonntag": 106,
        "januar": 201, "jänner": 201, "februar": 202, "märz": 203, "maerz": 203,
        "april": 204, "mai": 205, "juni": 206, "juli": 207, "august": 208,
        "september": 209, "oktober": 210, "november": 211, "dezember": 212,
    },
    "es": {
        "hoy": 0, "mañana": 1, "manana": 1,
        "lunes": 100, "martes": 101, "miércoles": 102, "miercoles": 102, "jueves": 103,
        "viernes": 104, "sábado": 105, "sabado": 105, "domingo": 106,
        "enero": 201, "febrero": 202, "marzo": 203, "abril": 204, "mayo": 205,
        "junio": 206, "julio": 207, "agosto": 208, "septiembre": 209, "setiembre": 209,
        "octubre": 210, "noviembre": 211, "diciembre": 212,
    },
    "ja": {
        "今日": 0, "きょう": 0, "本日": 0, "今日中": 0, "明日": 1, "あした": 1, "あす": 1,
        "明後日": 2, "あさって": 2,
    },
}  # fmt: skip
_JA_WEEKDAYS = "月火水木金土日"
_NEXT = {"nächsten", "nächste", "nächster", "naechsten", "próximo", "próxima", "proximo",
         "proxima", "来週"}  # fmt: skip
_WEEK = {"woche": 7, "semana": 7}
_UNITS = {
    "minute": "m", "minuten": "m", "min": "m", "minuto": "m", "minutos": "m",
    "stunde": "h", "stunden": "h", "std": "h", "hora": "h", "horas": "h",
    "tag": "d", "tagen": "d", "tage": "d", "día": "d", "días": "d", "dia": "d", "dias": "d",
    "woche": "w", "wochen": "w", "semana": "w", "semanas": "w",
}  # fmt: skip
FILLERS = {
    "bis", "am", "um", "zum", "den", "dem", "spätestens", "ab", "diesen", "diese",
    "el", "la", "las", "los", "a", "para", "antes", "del", "de", "hasta", "este", "esta",
    "que", "viene", "uhr", "en", "dentro", "pasado", "por",
    "nächste", "nächsten", "próximo", "próxima", "proximo", "proxima",
}  # fmt: skip
# A part of the day, when no clock time is given: the hour it stands for.
_PARTS_OF_DAY = {
    "früh": 9, "morgens": 9, "vormittag": 9, "vormittags": 9, "mittag": 12, "mittags": 12,
    "nachmittag": 15, "nachmittags": 15, "abend": 19, "abends": 19, "nacht": 21,
    "mediodía": 12, "mediodia": 12, "tarde": 15, "noche": 21,
    "朝": 9, "午前中": 9, "昼": 12, "夕方": 18, "夜": 21,
}  # fmt: skip
_ORDINAL = re.compile(r"^(\d{1,2})(st|nd|rd|th|\.)$", re.I)
_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm|h|uhr)?$", re.I)
_JA_CLOCK = re.compile(r"^(午前|午後)?(\d{1,2})時(?:(\d{1,2})分|(半))?$")
_JA_DATE = re.compile(r"^(?:(\d{1,2})月)?(\d{1,2})日$")
_JA_WEEKDAY = re.compile(rf"^([{_JA_WEEKDAYS}])曜日?$")
_JA_AFTER = re.compile(r"^(\d{1,3})(分|時間|日|週間)後$")
_YMD = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})([/.])(\d{1,2})(?:\2(\d{2}|\d{4}))?\.?$")
# Japanese writes dates without spaces: split these out so they can be read and dropped.
JA_TOKEN = re.compile(
    r"(\d{1,2}月\d{1,2}日|\d{1,3}(?:分|時間|日|週間)後|\d{1,2}日|[月火水木金土日]曜日?|"
    r"明後日|明日|今日中|今日|本日|来週|(?:午前|午後)?\d{1,2}時(?:\d{1,2}分|半)?|"
    r"(?<=の)(?:朝|昼|夕方|夜)(?![\u4e00-\u9fff]))"
    r"(?:までに|まで|の|に|は)?"
)
_JA_PARTICLES = re.compile(r"(までに|まで|の|に|は)$")


@dataclass(frozen=True)
class Reading:
    at: datetime  # naive, in the user's zone
    time_given: bool
    relative_day: bool  # "today"/"tomorrow"-like: a past time is not moved a day on
    day_given: bool = True


def is_japanese(text: str) -> bool:
    return re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text) is not None


def split_japanese(text: str) -> str:
    """Spaces around Japanese date words, so each is one word."""
    if not is_japanese(text):
        return text
    return re.sub(JA_TOKEN, lambda m: f" {m.group(0)} ", text)


@lru_cache(maxsize=32)
def _words(languages: tuple[str, ...]) -> dict[str, int]:
    """The user's languages' words: 0-2 days ahead, 100+ a weekday, 201+ a month."""
    merged: dict[str, int] = {}
    for lang in languages:
        merged.update(_LANG_WORDS.get(lang, {}))
    return merged


def is_cue(word: str, languages: tuple[str, ...], previous: str | None = None) -> bool:
    """A word that by itself makes a phrase a date."""
    low = _JA_PARTICLES.sub("", word.lower())
    return bool(
        low in _words(languages)
        or (low in _WEEK and previous in _NEXT)
        or (low == "uhr" and previous is not None and previous.isdecimal())
        or low == "来週"
        or _JA_CLOCK.match(low)
        or _JA_DATE.match(low)
        or _JA_WEEKDAY.match(low)
        or _JA_AFTER.match(low)
        or (_ORDINAL.match(low) and previous in {"the", "am", "el", "den", "zum"})
        or (re.match(r"^\d{1,2}(h|uhr)$", low) is not None)
    )


def impossible_date(phrase: str, languages: tuple[str, ...], today: date) -> bool:
    """A numeric date that does not exist (31.02.): no need to ask dateparser."""
    return any(
        (_YMD.match(word) or _NUMERIC.match(word)) and _numeric(word, languages, today) is None
        for word in phrase.split()
    )


def is_relative_day(word: str, languages: tuple[str, ...]) -> bool:
    """Today, tomorrow or the day after in one of the user's languages."""
    return _words(languages).get(word, 99) < 99


def is_part(word: str) -> bool:
    """A word that may sit inside a date phrase without being a cue."""
    low = word.lower()
    return (
        low in FILLERS
        or low in _PARTS_OF_DAY
        or low in _UNITS
        or low in _WEEK
        or bool(_ORDINAL.match(low))
    )


def read(phrase: str, local_now: datetime, languages: tuple[str, ...]) -> Reading | None:
    """The phrase as a moment when every word is understood here; else None."""
    words = [_JA_PARTICLES.sub("", w) for w in phrase.split()]
    words = [w.lower().rstrip(",") for w in words if w]
    today = local_now.date()
    vocab = _words(languages)
    day: date | None = None
    clock: time | None = None
    relative = False
    after = _duration(words, local_now)
    if after is not None:
        return Reading(after, True, True)
    i = 0
    while i < len(words):
        word = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else None
        if word in ("pasado",) and nxt in ("mañana", "manana"):
            day, relative, i = today + timedelta(days=2), True, i + 2
            continue
        if vocab.get(word, 99) < 99 and day is None:
            day, relative = today + timedelta(days=vocab[word]), True
        elif (word in _NEXT and nxt in _WEEK) or (word == "来週" and nxt is None):
            day, relative = today + timedelta(days=7), True
            i += 1 if word != "来週" else 0
        elif word in ("semana",) and nxt == "que":  # "la semana que viene"
            day, relative, i = today + timedelta(days=7), True, i + 2
        elif word in _NEXT and nxt is not None and _weekday(nxt, vocab) is not None:
            weekday = _weekday(nxt, vocab) or 0
            day, i = _next_weekday(today, weekday, next_week=word == "来週"), i + 1
        elif _weekday(word, vocab) is not None and day is None:
            day = _next_weekday(today, _weekday(word, vocab) or 0, next_week=False)
        elif (numeric := _numeric(word, languages, today)) is not None:
            day = numeric
        elif numeric is None and (_YMD.match(word) or _NUMERIC.match(word)):
            return None  # a date that does not exist, e.g. 31.02.
        elif (named := _named_date(words, i, today, vocab)) is not None:
            day, used = named
            i += used
            continue
        elif (ja := _JA_DATE.match(word)) is not None:
            day = _month_day(today, int(ja.group(1)) if ja.group(1) else None, int(ja.group(2)))
            if day is None:
                return None
        elif (at := _clock(words, i)) is not None:
            clock, used = at
            i += used
            continue
        elif word in _PARTS_OF_DAY and clock is None:
            clock = time(_PARTS_OF_DAY[word])
        elif word not in FILLERS and word not in ("the", "on", "by", "at", "due", "next"):
            return None
        i += 1
    if day is None and clock is None:
        return None
    if day is None:
        return Reading(datetime.combine(today, clock or time()), True, False, day_given=False)
    return Reading(datetime.combine(day, clock or time()), clock is not None, relative)


def _weekday(word: str, vocab: dict[str, int]) -> int | None:
    if 100 <= vocab.get(word, 0) < 200:
        return vocab[word] - 100
    ja = _JA_WEEKDAY.match(word)
    return _JA_WEEKDAYS.index(ja.group(1)) if ja else None


def _next_weekday(today: date, weekday: int, *, next_week: bool) -> date:
    if next_week:  # 来週金曜: Friday of the coming Monday-to-Sunday week
        monday = today + timedelta(days=7 - today.weekday())
        return monday + timedelta(days=weekday)
    ahead = (weekday - today.weekday()) % 7
    return today + timedelta(days=ahead or 7)


def _month_day(today: date, month: int | None, day: int) -> date | None:
    """The next such day (this one if it is today): this month or year, else the next."""
    for step in range(0, 13):
        if month is None:
            y, m = divmod(today.month - 1 + step, 12)
            year, mon = today.year + y, m + 1
        else:
            year, mon = today.year + (1 if step else 0), month
            if step > 1:
                return None
        if not 1 <= mon <= 12 or day < 1 or day > calendar.monthrange(year, mon)[1]:
            continue
        found = date(year, mon, day)
        if found >= today:
            return found
    return None


def _numeric(word: str, languages: tuple[str, ...], today: date) -> date | None:
    ymd = _YMD.match(word)
    if ymd:
        return _valid(int(ymd.group(1)), int(ymd.group(2)), int(ymd.group(3)))
    match = _NUMERIC.match(word)
    if match is None:
        return None
    first, second, year = int(match.group(1)), int(match.group(3)), match.group(4)
    lang = languages[0] if languages else "en"
    if (lang == "en" and match.group(2) == "/") or lang == "ja":
        month, day = first, second
    else:
        day, month = first, second
    if year is None:
        return _month_day(today, month, day) if 1 <= month <= 12 else None
    full = int(year) + (2000 if len(year) == 2 else 0)
    return _valid(full, month, day)


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _named_date(
    words: list[str], i: int, today: date, vocab: dict[str, int]
) -> tuple[date, int] | None:
    """`10. Dezember`, `10 de diciembre`, `15 dic`, and "the 10th" / `am 10.`."""
    word = words[i]
    number = re.match(r"^(\d{1,2})\.?$", word) or _ORDINAL.match(word)
    if number is None:
        return None
    day = int(number.group(1))
    rest = words[i + 1 :]
    if rest[:1] == ["de"]:
        rest = rest[1:]
    month = vocab[rest[0]] - 200 if rest and vocab.get(rest[0], 0) > 200 else None
    if month is not None:
        found = _month_day(today, month, day)
        used = len(words[i + 1 :]) - len(rest) + 2
        return (found, used) if found else None
    previous = words[i - 1] if i else ""
    if (_ORDINAL.match(word) or word.endswith(".")) and previous in ("the", "am", "el", "den"):
        found = _month_day(today, None, day)
        return (found, 1) if found else None
    return None


def _clock(words: list[str], i: int) -> tuple[time, int] | None:
    """`17:00`, `17 Uhr`, `5pm`, `5 pm`, `17h`, `a las 5`, `17時半`, `午後5時`."""
    word = words[i]
    ja = _JA_CLOCK.match(word)
    if ja:
        hour = int(ja.group(2)) + (12 if ja.group(1) == "午後" and int(ja.group(2)) < 12 else 0)
        minute = 30 if ja.group(4) else int(ja.group(3) or 0)
        return (time(hour, minute), 1) if hour < 24 and minute < 60 else None
    match = _CLOCK.match(word)
    if match is None:
        return None
    hour, minute, mark = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    used = 1
    following = words[i + 1] if i + 1 < len(words) else None
    if mark is None and following in ("am", "pm", "uhr", "h"):
        mark, used = following, 2
    previous = words[i - 1] if i else ""
    if mark is None and match.group(2) is None and previous not in ("las", "um", "la"):
        return None
    mark = (mark or "").lower()
    if mark in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if mark == "pm" else 0)
    elif previous in ("las", "la") and hour < 8 and match.group(2) is None:
        hour += 12  # "a las 5" for a task is the afternoon
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute), used


def _duration(words: list[str], local_now: datetime) -> datetime | None:
    """`in 2 Tagen`, `en 3 horas`, `2時間後`."""
    if len(words) == 1 and (ja := _JA_AFTER.match(words[0])):
        unit = {"分": "m", "時間": "h", "日": "d", "週間": "w"}[ja.group(2)]
        return local_now + _delta(int(ja.group(1)), unit)
    if len(words) == 3 and words[0] in ("in", "en", "dentro") and words[1].isdecimal():
        unit_word = words[2]
        if unit_word in _UNITS and len(words[1]) < 5:
            return local_now + _delta(int(words[1]), _UNITS[unit_word])
    return None


def _delta(amount: int, unit: str) -> timedelta:
    minutes = {"m": 1, "h": 60, "d": 1440, "w": 10080}[unit]
    return timedelta(minutes=amount * minutes)
