"""The finer rules of reading `/task`, `/remind` and `/reminders` text, each pinned exactly:
boundaries (a title of 200 characters, a due time equal to now), the words that clear or
strip, the user's language and zone, and the messages a student sees. Written against the
mutants that survived the first mutation run (docs/testing.md)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import BadInput
from core.tasks.parsing import (
    Priority,
    format_local,
    languages_for,
    parse_offsets,
    parse_reminder_text,
    parse_task_text,
    parse_when,
)

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wed 18:00 in Tokyo, Wed 01:00 in LA
AT_FIVE_IN_TOKYO = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # Wed 17:00 in Tokyo
TOKYO = ZoneInfo("Asia/Tokyo")
LA = ZoneInfo("America/Los_Angeles")


def local(at: datetime, zone: ZoneInfo = TOKYO) -> str:
    return at.astimezone(zone).strftime("%a %d %b %Y %H:%M")


def refusal(text: str, now: datetime = NOW, zone: ZoneInfo = TOKYO, **kw: object) -> str:
    with pytest.raises(BadInput) as refused:
        parse_task_text(text, now, zone, **kw)  # type: ignore[arg-type]
    return refused.value.message


# Languages -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "languages"),
    [
        ("pt-BR", ("pt", "en")),
        ("pt_BR", ("pt", "en")),
        ("DE", ("de", "en")),
        ("en-GB", ("en",)),
        ("EN_us", ("en",)),
        (None, ("en",)),
        ("", ("en",)),
    ],
)
def test_the_date_languages_are_the_locales_language_then_english(
    locale: str | None, languages: tuple[str, ...]
) -> None:
    assert languages_for(locale) == languages


def test_a_due_phrase_is_read_in_the_users_language() -> None:
    parsed = parse_task_text("Aufsatz due morgen 9:00", NOW, TOKYO, ("de", "en"))
    assert parsed.due is not None and local(parsed.due.at) == "Thu 26 Nov 2026 09:00"
    assert refusal("Essay due mañana").startswith("I couldn't read “mañana” as a date.")


@pytest.mark.parametrize("text", ["Essay 03.12.2026", "Essay 03.12."])
def test_a_numeric_date_is_read_in_the_users_day_month_order(text: str) -> None:
    german = parse_task_text(text, NOW, TOKYO, ("de", "en")).due
    assert german is not None and local(german.at) == "Thu 03 Dec 2026 17:00"


def test_a_language_dateparser_does_not_know_falls_back_to_english() -> None:
    parsed = parse_task_text("Essay due tomorrow 9am", NOW, TOKYO, ("xx", "en"))
    assert parsed.due is not None and local(parsed.due.at) == "Thu 26 Nov 2026 09:00"


# Due dates ---------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["none", "off", "never", "OFF"])
def test_due_none_off_or_never_clears_the_due_date(word: str) -> None:
    parsed = parse_task_text(f"Essay due {word}", NOW, TOKYO)
    assert (parsed.title, parsed.due, parsed.clear_due) == ("Essay", None, True)


def test_a_plain_task_neither_clears_nor_sets_a_date_nor_a_priority() -> None:
    parsed = parse_task_text("Read chapter 5", NOW, TOKYO)
    assert parsed.clear_due is False and parsed.due is None
    assert parsed.priority is None and parsed.subject is None and parsed.notes == []


def test_due_with_nothing_after_it_asks_for_a_date() -> None:
    assert refusal("Essay due") == "`due` needs a date after it, for example: due fri 5pm."


def test_a_due_phrase_that_is_no_date_is_refused_quoting_the_phrase() -> None:
    assert refusal("Essay due blorp zork") == (
        "I couldn't read “blorp zork” as a date. Try something like "
        "“fri 5pm”, “tomorrow”, “in 2 hours” or “2026-12-03 14:00”."
    )


@pytest.mark.parametrize("phrase", ["december", "2027"])
def test_a_whole_month_or_year_is_not_a_due_date(phrase: str) -> None:
    assert refusal(f"Essay due {phrase}").startswith(f"I couldn't read “{phrase}” as a date.")


def test_a_due_phrase_is_read_in_the_users_zone() -> None:
    tokyo = parse_task_text("Essay due fri 5pm", NOW, TOKYO).due
    la = parse_task_text("Essay due fri 5pm", NOW, LA).due
    assert tokyo is not None and tokyo.at == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert la is not None and la.at == datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    assert (tokyo.phrase, tokyo.time_given) == ("fri 5pm", True)


def test_a_date_in_the_past_is_refused_in_the_users_zone() -> None:
    assert refusal("Essay due 2026-11-20 10:00") == (
        "“2026-11-20 10:00” is Fri 20 Nov 10:00, which is in the past. "
        "Give a time that is still ahead, e.g. “tomorrow 9am”."
    )


def test_a_reminder_due_exactly_now_is_already_past() -> None:
    with pytest.raises(BadInput, match="which is in the past"):
        parse_reminder_text("in 0 minutes stretch", NOW, TOKYO)


def test_a_past_reminder_is_refused_with_the_time_in_the_users_zone() -> None:
    with pytest.raises(BadInput) as refused:
        parse_reminder_text("2026-11-20 10:00 call mum", NOW, LA)
    assert refused.value.message.startswith("“2026-11-20 10:00” is Fri 20 Nov 10:00,")


# Times of day ------------------------------------------------------------------------


def test_today_without_a_time_is_five_pm_while_that_is_ahead() -> None:
    due = parse_task_text("Essay today", NOW, LA).due  # 01:00 in LA
    assert due is not None and local(due.at, LA) == "Wed 25 Nov 2026 17:00"
    assert due.time_given is False


@pytest.mark.parametrize("now", [NOW, AT_FIVE_IN_TOKYO])
def test_today_without_a_time_is_the_end_of_the_day_from_five_pm_on(now: datetime) -> None:
    due = parse_task_text("Essay today", now, TOKYO).due
    assert due is not None and local(due.at) == "Wed 25 Nov 2026 23:59"


def test_a_bare_time_already_past_today_means_tomorrow() -> None:
    due = parse_task_text("Essay 5pm", NOW, TOKYO).due  # 18:00 in Tokyo
    assert due is not None and local(due.at) == "Thu 26 Nov 2026 17:00"
    assert due.time_given is True


def test_a_bare_time_equal_to_now_means_tomorrow() -> None:
    due = parse_task_text("Essay 5pm", AT_FIVE_IN_TOKYO, TOKYO).due
    assert due is not None and local(due.at) == "Thu 26 Nov 2026 17:00"


def test_a_bare_time_still_ahead_today_stays_today() -> None:
    due = parse_task_text("Essay 7pm", NOW, TOKYO).due
    assert due is not None and local(due.at) == "Wed 25 Nov 2026 19:00"


def test_today_with_a_time_already_past_is_refused_not_moved_to_tomorrow() -> None:
    assert "which is in the past" in refusal("Essay today 5pm")


@pytest.mark.parametrize(
    ("phrase", "later"),
    [
        ("in 90 minutes", timedelta(minutes=90)),
        ("in 2 hours", timedelta(hours=2)),
        ("in 3 Days", timedelta(days=3)),
        ("in 2 weeks", timedelta(weeks=2)),
    ],
)
def test_in_a_duration_is_that_much_real_time_from_now(phrase: str, later: timedelta) -> None:
    due = parse_when(phrase, NOW, TOKYO)
    assert due is not None
    assert (due.at, due.phrase, due.time_given) == (NOW + later, phrase, True)


def test_a_duration_at_the_end_of_a_title_is_its_due_time() -> None:
    parsed = parse_task_text("Essay in 2 hours", NOW, TOKYO)
    assert parsed.due is not None and parsed.due.at == NOW + timedelta(hours=2)
    assert parsed.title == "Essay"


def test_short_forms_of_tomorrow_are_tomorrow() -> None:
    for short in ("tmr", "TMRW", "2moro"):
        parsed = parse_task_text(f"Essay {short}", NOW, TOKYO)
        assert parsed.due is not None and local(parsed.due.at) == "Thu 26 Nov 2026 17:00"
        assert parsed.title == "Essay"


# Which words make the date -----------------------------------------------------------


def test_a_number_next_to_a_month_or_am_pm_is_part_of_the_date() -> None:
    month = parse_task_text("Essay dec 5", NOW, TOKYO)
    spaced = parse_task_text("Essay fri 5 pm", NOW, TOKYO)
    assert month.due is not None and local(month.due.at) == "Sat 05 Dec 2026 17:00"
    assert spaced.due is not None and local(spaced.due.at) == "Fri 27 Nov 2026 17:00"
    assert month.title == spaced.title == "Essay"


def test_a_number_two_words_from_a_month_is_not_part_of_the_date() -> None:
    parsed = parse_task_text("Essay dec at 5", NOW, TOKYO)
    assert (parsed.title, parsed.due) == ("Essay dec at 5", None)


def test_a_date_phrase_never_starts_with_and() -> None:
    parsed = parse_task_text("Pens and fri", NOW, TOKYO)
    assert parsed.title == "Pens and"
    assert parsed.due is not None and local(parsed.due.at) == "Fri 27 Nov 2026 17:00"


def test_a_task_reads_its_date_from_the_end_before_the_start() -> None:
    parsed = parse_task_text("tomorrow call mum fri", NOW, TOKYO)
    assert parsed.title == "tomorrow call mum"
    assert parsed.due is not None and local(parsed.due.at) == "Fri 27 Nov 2026 17:00"


def test_a_reminder_reads_its_date_from_the_start_before_the_end() -> None:
    found = parse_reminder_text("tomorrow call mum fri", NOW, TOKYO)
    assert found is not None
    due, text = found
    assert (local(due.at), text) == ("Thu 26 Nov 2026 17:00", "call mum fri")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("tomorrow 9am to call mum", "call mum"),
        ("tomorrow 9am that the lab opens", "the lab opens"),
        ("tomorrow 9am about the essay", "the essay"),
        ("tomorrow 9am To about call", "call"),
    ],
)
def test_a_reminder_drops_to_that_and_about_before_what_to_say(text: str, said: str) -> None:
    found = parse_reminder_text(text, NOW, TOKYO)
    assert found is not None and found[1] == said


def test_a_last_word_ending_in_day_that_is_no_date_gets_a_note() -> None:
    parsed = parse_task_text("Plan friday holiday", NOW, TOKYO)
    assert (parsed.title, parsed.due) == ("Plan friday holiday", None)
    assert parsed.notes == ["I didn't read “holiday” as a date"]


def test_a_task_of_tags_only_has_an_empty_title_and_no_note() -> None:
    parsed = parse_task_text("#chem", NOW, TOKYO)
    assert (parsed.title, parsed.subject, parsed.notes) == ("", "chem", [])


def test_a_trailing_connector_is_dropped_from_the_title() -> None:
    assert parse_task_text("Finish lab report by", NOW, TOKYO).title == "Finish lab report"
    assert parse_task_text("Hand in essay on the", NOW, TOKYO).title == "Hand in essay"


# Titles and tags ---------------------------------------------------------------------


def test_a_title_of_200_characters_is_fine_and_201_is_refused() -> None:
    assert parse_task_text("x" * 200, NOW, TOKYO).title == "x" * 200
    assert refusal("x" * 201) == (
        "That title is 201 characters; keep it under 200. Put the details in a shorter title."
    )


def test_one_letter_tags_count_and_lone_marks_stay_in_the_title() -> None:
    parsed = parse_task_text("Essay #c !h # ! !!", NOW, TOKYO)
    assert (parsed.title, parsed.subject, parsed.priority) == ("Essay # ! !!", "c", Priority.HIGH)


def test_a_second_subject_or_a_long_one_is_refused() -> None:
    assert refusal("Essay #chem #bio") == "One #subject per task, please (for example #chem)."
    assert parse_task_text("Essay #" + "s" * 40, NOW, TOKYO).subject == "s" * 40
    assert refusal("Essay #" + "s" * 41) == "A #subject is at most 40 characters."


def test_an_unknown_priority_is_refused_quoting_it() -> None:
    assert refusal("Essay !urgentest") == (
        "“!urgentest” is not a priority: use !high, !medium or !low."
    )


def test_quoted_input_in_a_message_is_cut_at_40_characters() -> None:
    phrase = "blorp " * 10
    message = refusal(f"Essay due {phrase}")
    quoted = message.split("“")[1].split("”")[0]
    assert len(quoted) == 40 and quoted.endswith("…")


def test_a_date_in_another_year_shows_the_year() -> None:
    now = datetime(2026, 11, 25, 9, 0)
    assert format_local(datetime(2027, 1, 4, 9, 0), now) == "Mon 04 Jan 2027 09:00"
    assert format_local(datetime(2026, 12, 4, 9, 0), now) == "Fri 04 Dec 09:00"


# Reminder offsets --------------------------------------------------------------------


@pytest.mark.parametrize("word", ["off", "none", "NONE"])
def test_reminders_off_or_none_means_no_reminders(word: str) -> None:
    assert parse_offsets(word) == []


def test_an_offset_that_is_not_a_time_is_refused_with_an_example() -> None:
    with pytest.raises(BadInput) as refused:
        parse_offsets("1d soon")
    assert refused.value.message == (
        "“soon” is not a time before the due date. Use e.g. "
        "`/reminders 1d 1h 0` (a day, an hour and at the due time) or `/reminders off`."
    )


def test_no_offsets_at_all_asks_when() -> None:
    with pytest.raises(BadInput) as refused:
        parse_offsets(" , ")
    assert refused.value.message == "Say when: `/reminders 1h 0` or `/reminders off`."


# Written against the second run's survivors -------------------------------------------

THURSDAY_IN_TOKYO = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # Thu 05:00 there, Wed in UTC


def test_tomorrow_is_the_day_after_the_users_today_not_utcs() -> None:
    due = parse_task_text("Essay tomorrow", THURSDAY_IN_TOKYO, TOKYO).due
    assert due is not None and local(due.at) == "Fri 27 Nov 2026 17:00"


def test_a_past_time_is_shown_without_the_year_when_it_is_the_users_year() -> None:
    new_year = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)  # 1 Jan 2027, 05:00 in Tokyo
    assert refusal("Party due 2027-01-01 01:00", new_year).startswith(
        "“2027-01-01 01:00” is Fri 01 Jan 01:00, which is in the past."
    )


def test_an_unknown_language_falls_back_to_english_only() -> None:
    assert refusal("Essay due mañana", languages=("xx", "en")).startswith(
        "I couldn't read “mañana” as a date."
    )


def test_an_ordinal_alone_is_not_a_date() -> None:
    parsed = parse_task_text("Practise Beethovens 5th", NOW, TOKYO)
    assert (parsed.title, parsed.due) == ("Practise Beethovens 5th", None)


def test_a_number_before_am_pm_starts_a_date_phrase() -> None:
    parsed = parse_task_text("Essay 5 pm fri", NOW, TOKYO)
    assert parsed.title == "Essay"
    assert parsed.due is not None and local(parsed.due.at) == "Fri 27 Nov 2026 17:00"


def test_a_number_two_words_before_a_unit_stays_in_the_title() -> None:
    parsed = parse_task_text("Room 5 next week", NOW, TOKYO)
    assert parsed.title == "Room 5" and parsed.due is not None
