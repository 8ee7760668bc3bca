from datetime import UTC, datetime, timedelta

import pytest

from core.errors import BadInput
from core.identity.models import Room
from core.rooms.live import render
from core.rooms.models import FocusParticipant, FocusSession
from core.rooms.service import FocusView, minutes_left, next_update, parse_focus_args
from core.rooms.study import whole_minutes

T = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("", (25, 5)),
        ("50", (50, 5)),
        ("50 10", (50, 10)),
        ("45m 0", (45, 0)),
        ("180 60", (180, 60)),
    ],
)
def test_focus_arguments_default_to_25_and_5(args: str, expected: tuple[int, int]) -> None:
    assert parse_focus_args(args) == expected


@pytest.mark.parametrize("args", ["0", "181", "1000", "abc", "-5", "25 61", "25 x", "1 2 3"])
def test_focus_arguments_out_of_range_are_refused(args: str) -> None:
    with pytest.raises(BadInput):
        parse_focus_args(args)


def test_the_countdown_moves_when_the_shown_minute_changes() -> None:
    ends = T + timedelta(minutes=25)
    assert minutes_left(ends, T) == 25
    assert next_update(ends, T) == T + timedelta(minutes=1)
    later = T + timedelta(minutes=3, seconds=10)
    assert minutes_left(ends, later) == 22
    assert next_update(ends, later) == T + timedelta(minutes=4)
    last = ends - timedelta(seconds=30)
    assert minutes_left(ends, last) == 1 and next_update(ends, last) == ends


def test_minutes_round_half_up() -> None:
    assert [whole_minutes(s) for s in (0, 29, 30, 89, 90, 1500)] == [0, 0, 1, 1, 2, 25]


def test_live_message_escapes_names_and_shows_the_room_time() -> None:
    focus = FocusSession(
        id=7,
        room_id=1,
        focus_minutes=25,
        break_minutes=5,
        phase="focus",
        phase_no=1,
        started_at=T,
        phase_ends_at=T + timedelta(minutes=25),
        stopped=False,
    )
    room = Room(id=1, platform="test", external_id="g", title="g", timezone="Europe/Berlin")
    here = FocusParticipant(user_id=1, first_joined_at=T, joined_at=T, focus_seconds=0)
    gone = FocusParticipant(user_id=2, first_joined_at=T, joined_at=None, focus_seconds=60)
    text, buttons = render(FocusView(focus, room, [(here, "*bold*"), (gone, "Gone")]), T)
    assert "In (1):" in text and "Gone" not in text
    assert "\\*bold\\*" in text and "until 10:25" in text and "**25 min**" in text
    assert [b.action for b in buttons] == ["rooms.join:7", "rooms.leave:7", "rooms.stop:7"]
