"""Reading `/log` durations and subjects."""

import pytest

from core.errors import BadInput
from core.rooms.studylog import format_minutes, parse_duration, split_subject


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [
        ("45m", 45),
        ("45", 45),
        ("45 min", 45),
        ("90m", 90),
        ("1h30", 90),
        ("1h 30m", 90),
        ("1h30min", 90),
        ("1.5h", 90),
        ("1,5h", 90),
        ("2 hours", 120),
        ("0.25h", 15),
        ("16h", 960),
        ("1H30", 90),
    ],
)
def test_durations_are_read_the_ways_students_write_them(typed: str, minutes: int) -> None:
    assert parse_duration(typed) == minutes


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("soon", "can't read “soon”"),
        ("45m chemistry", "A subject goes after a #"),
        ("0", "no time at all"),
        ("0h", "no time at all"),
        ("17h", "more than a day of study can hold"),
        ("1000", "more than a day of study can hold"),
        ("1h75", "75 minutes after the hours"),
        ("1.5h30", "1h30 or 1.5h, not both"),
        ("-5m", "can't read"),
    ],
)
def test_bad_or_absurd_durations_get_a_clear_message(typed: str, message: str) -> None:
    with pytest.raises(BadInput) as refused:
        parse_duration(typed)
    assert message in str(refused.value)


def test_one_subject_is_taken_out_of_the_words_in_lower_case() -> None:
    assert split_subject("1h30 #Chem") == ("1h30", "chem")
    assert split_subject("45m") == ("45m", None)
    with pytest.raises(BadInput, match="One #subject"):
        split_subject("45m #a #b")
    with pytest.raises(BadInput, match="A subject is a #"):
        split_subject("45m #bad!")


def test_minutes_read_as_hours_and_minutes() -> None:
    assert [format_minutes(m) for m in (5, 60, 90, 1000)] == [
        "5 min",
        "1 h",
        "1 h 30 min",
        "16 h 40 min",
    ]
