"""Reading `/task` text: title, due date in the user's zone, #subject and !priority."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core.errors import BadInput
from core.tasks.parsing import Priority, parse_reminder_text, parse_task_text, parse_when

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wed 18:00 in Tokyo, Wed 01:00 in LA
TOKYO = ZoneInfo("Asia/Tokyo")
LA = ZoneInfo("America/Los_Angeles")


def local(parsed_at: datetime, zone: ZoneInfo) -> str:
    return parsed_at.astimezone(zone).strftime("%a %d %b %H:%M")


@pytest.mark.parametrize("zone", [TOKYO, LA])
def test_title_date_subject_and_priority_are_split(zone: ZoneInfo) -> None:
    parsed = parse_task_text("Lab report fri 5pm #chem !high", NOW, zone)
    assert parsed.title == "Lab report"
    assert parsed.subject == "chem"
    assert parsed.priority is Priority.HIGH
    assert parsed.due is not None and local(parsed.due.at, zone) == "Fri 27 Nov 17:00"


def test_same_words_mean_different_utc_instants_in_different_zones() -> None:
    tokyo = parse_task_text("Essay fri 5pm", NOW, TOKYO).due
    la = parse_task_text("Essay fri 5pm", NOW, LA).due
    assert tokyo is not None and la is not None
    assert tokyo.at == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert la.at == datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "title"),
    [("Read chapter 5", "Read chapter 5"), ("Plan may trip", "Plan may trip"), ("Sunday", "")],
)
def test_numbers_and_lone_words_in_titles_are_not_dates(text: str, title: str) -> None:
    parsed = parse_task_text(text, NOW, TOKYO)
    if title:
        assert (parsed.title, parsed.due) == (title, None)
    else:
        assert parsed.due is not None and parsed.title == ""


def test_a_date_without_time_assumes_five_pm() -> None:
    due = parse_task_text("Essay tomorrow", NOW, TOKYO).due
    assert due is not None and local(due.at, TOKYO) == "Thu 26 Nov 17:00"
    assert not due.time_given


def test_a_date_phrase_at_the_start_is_read_too() -> None:
    parsed = parse_task_text("tomorrow 9am call mom", NOW, LA)
    assert parsed.title == "call mom"
    assert parsed.due is not None and local(parsed.due.at, LA) == "Thu 26 Nov 09:00"


def test_in_hours_is_real_elapsed_time_across_a_dst_change() -> None:
    before_change = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)  # 01:30 PDT, clocks go back at 02:00
    due = parse_when("in 2 hours", before_change, LA)
    assert due is not None and due.at == datetime(2026, 11, 1, 10, 30, tzinfo=UTC)


def test_wall_clock_time_after_dst_change_uses_the_new_offset() -> None:
    saturday = datetime(2026, 10, 31, 19, 0, tzinfo=UTC)  # Sat 12:00 PDT
    due = parse_when("tomorrow 9am", saturday, LA)
    assert due is not None and due.at == datetime(2026, 11, 1, 17, 0, tzinfo=UTC)  # 09:00 PST


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Essay due blurgsday", "couldn't read “blurgsday” as a date"),
        ("Essay yesterday", "in the past"),
        ("Essay !urgentish", "not a priority"),
        ("Essay #chem #bio", "One #subject"),
        ("x" * 10_000, "keep it under 200"),
    ],
)
def test_bad_input_is_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        parse_task_text(text, NOW, TOKYO)


def test_a_dayish_word_that_is_no_date_is_mentioned() -> None:
    parsed = parse_task_text("Essay blurgsday", NOW, TOKYO)
    assert parsed.due is None
    assert parsed.notes == ["I didn't read “blurgsday” as a date"]


def test_due_none_clears_the_date() -> None:
    parsed = parse_task_text("due none", NOW, TOKYO)
    assert parsed.clear_due and parsed.title == ""


def test_reminder_reads_the_time_first_and_keeps_due_in_the_text() -> None:
    found = parse_reminder_text("tomorrow 9am to say the essay is due friday", NOW, TOKYO)
    assert found is not None
    due, text = found
    assert local(due.at, TOKYO) == "Thu 26 Nov 09:00"
    assert text == "say the essay is due friday"


def test_reminder_without_a_time_is_none() -> None:
    assert parse_reminder_text("blurgsday call mom", NOW, TOKYO) is None


def test_an_unknown_locale_falls_back_to_english() -> None:
    due = parse_when("fri 5pm", NOW, TOKYO, ("xx", "en"))
    assert due is not None and local(due.at, TOKYO) == "Fri 27 Nov 17:00"
