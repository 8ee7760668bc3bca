"""The findings from issue 20: dates read anywhere in the text, in the user's language and
day/month order, a title without the date words, and a note for what was guessed."""

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core.tasks.parsing import Priority, parse_reminder_text, parse_task_text

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wed 10:00 in Berlin, 18:00 in Tokyo
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")


def read(text: str, languages: tuple[str, ...], zone: ZoneInfo = BERLIN) -> tuple[str, str]:
    parsed = parse_task_text(text, NOW, zone, languages)
    assert parsed.due is not None, text
    return parsed.title, parsed.due.at.astimezone(zone).strftime("%a %d %b %Y %H:%M")


def test_the_nth_is_the_next_such_day_of_a_month() -> None:
    assert read("Submit form on the 10th", ("en",)) == ("Submit form", "Thu 10 Dec 2026 17:00")


def test_a_date_before_a_priority_leaves_a_clean_title_and_the_alias_is_noted() -> None:
    parsed = parse_task_text("Prepare presentation for Dec 15 !urgent", NOW, BERLIN)
    assert parsed.title == "Prepare presentation" and parsed.priority is Priority.HIGH
    assert parsed.notes == ["I took “!urgent” as !high"]


def test_a_canonical_priority_or_its_abbreviation_gets_no_note() -> None:
    assert parse_task_text("Essay !h", NOW, BERLIN).notes == []
    assert parse_task_text("Essay !med", NOW, BERLIN).notes == []


def test_a_japanese_weekday_and_hour_are_read() -> None:
    assert read("化学レポート 金曜 17時", ("ja", "en"), TOKYO) == (
        "化学レポート",
        "Fri 27 Nov 2026 17:00",
    )


def test_japanese_written_without_spaces_loses_its_date_words() -> None:
    assert read("明日までにレポート提出", ("ja", "en"), TOKYO) == (
        "レポート提出",
        "Thu 26 Nov 2026 17:00",
    )


@pytest.mark.parametrize(
    ("text", "languages", "expected"),
    [
        ("Aufsatz bis Freitag 17 Uhr abgeben", ("de", "en"), ("Aufsatz abgeben", "Fri 27 Nov")),
        ("Referat am 10. Dezember", ("de", "en"), ("Referat", "Thu 10 Dec")),
        ("Entregar ensayo el viernes a las 5", ("es", "en"), ("Entregar ensayo", "Fri 27 Nov")),
        ("Examen 15 de diciembre", ("es", "en"), ("Examen", "Tue 15 Dec")),
        ("Essay 12/03/2026", ("en",), ("Essay", "Thu 03 Dec")),
        ("Ensayo 03/12/2026", ("es", "en"), ("Ensayo", "Thu 03 Dec")),
    ],
)
def test_dates_are_read_in_the_users_language_and_day_month_order(
    text: str, languages: tuple[str, ...], expected: tuple[str, str]
) -> None:
    title, when = read(text, languages)
    assert (title, when[:10]) == expected


def test_a_date_inside_the_text_is_read_and_taken_out_of_the_title() -> None:
    assert read("Email tutor tomorrow 9am about the essay", ("en",)) == (
        "Email tutor about the essay",
        "Thu 26 Nov 2026 09:00",
    )


def test_another_languages_words_are_not_dates() -> None:
    parsed = parse_task_text("Buy mañana bread", NOW, BERLIN, ("en",))
    assert (parsed.title, parsed.due) == ("Buy mañana bread", None)


def test_a_reminder_in_german_reads_its_time_first() -> None:
    found = parse_reminder_text("morgen 8:00 Mama anrufen", NOW, BERLIN, ("de", "en"))
    assert found is not None and found[1] == "Mama anrufen"


def test_a_long_text_of_impossible_dates_is_answered_quickly() -> None:
    parse_task_text("Essay fri", NOW, BERLIN, ("de", "en"))  # dateparser loads once
    started = time.perf_counter()
    parsed = parse_task_text("x " + "31/02 " * 30 + "y", NOW, BERLIN, ("de", "en"))
    assert parsed.due is None
    assert time.perf_counter() - started < 1.0


def test_a_day_number_left_in_the_title_is_said_not_to_be_read() -> None:
    parsed = parse_task_text("Pay phone bill 28th", NOW, BERLIN)
    assert (parsed.title, parsed.due) == ("Pay phone bill 28th", None)
    assert parsed.notes == ["I didn't read “28th” as a date"]


def test_a_second_date_word_left_in_the_title_is_said_not_to_be_read() -> None:
    parsed = parse_task_text("tomorrow call mum fri", NOW, BERLIN)
    assert parsed.title == "tomorrow call mum"
    assert parsed.notes == ["I didn't read “tomorrow” as a date"]
