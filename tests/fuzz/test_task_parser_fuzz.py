"""The /task text parser (title, due date, #subject, !priority): a task or BadInput."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import BadInput
from core.tasks.parsing import ParsedTask, parse_task_text

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ZONES = st.sampled_from(
    [ZoneInfo(z) for z in ("UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Kathmandu")]
)
WORDS = st.sampled_from(
    [
        "essay", "read", "ch.", "due", "fri", "5pm", "tomorrow", "in", "2", "hours", "days",
        "next", "week", "monday", "none", "off", "at", "by", "on", "#", "#math", "#", "!",
        "!high", "!1", "!urgent", "!!", "2026-12-03", "14:00", "25:99", "31/02", "noon",
        "yesterday", "-3", "9999", "0", "dec", "3rd", "am", "pm", "today", "", "\n", "é",
    ]
)  # fmt: skip
task_text = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(WORDS, st.text(max_size=8)), max_size=12).map(" ".join),
)


@settings(max_examples=150, deadline=None)
@given(task_text, ZONES)
def test_task_text_is_a_task_or_bad_input(text: str, zone: ZoneInfo) -> None:
    try:
        parsed = parse_task_text(text, NOW, zone)
    except BadInput as err:
        assert err.message
        return
    assert isinstance(parsed, ParsedTask)
    if parsed.due is not None:
        assert parsed.due.at.tzinfo is not None and parsed.due.at > NOW


LANGUAGES = st.sampled_from([("de", "en"), ("es", "en"), ("ja", "en"), ("en",)])
FOREIGN = st.sampled_from(
    [
        "morgen", "Freitag", "17", "Uhr", "um", "am", "03.12.", "31.02.", "10.", "Dezember",
        "nächste", "Woche", "abend", "mañana", "pasado", "el", "viernes", "a", "las", "5",
        "de", "diciembre", "en", "días", "por", "la", "tarde", "金曜", "17時", "明日までに",
        "12月15日", "31日", "午後13時", "来週", "3日後", "の朝", "13時半", "99/99", "1/12",
    ]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(FOREIGN, WORDS, st.text(max_size=6)), max_size=12), ZONES, LANGUAGES)
def test_task_text_in_any_language_is_a_task_or_bad_input(
    words: list[str], zone: ZoneInfo, languages: tuple[str, ...]
) -> None:
    try:
        parsed = parse_task_text(" ".join(words), NOW, zone, languages)
    except BadInput as err:
        assert err.message
        return
    if parsed.due is not None:
        assert parsed.due.at.tzinfo is not None and parsed.due.at > NOW
