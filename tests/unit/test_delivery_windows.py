"""The deliverer's pacing at its edges: the safety margin widens every window, a later
shorter pause never shortens an earlier one, idle history is forgotten only past the
longest window, and a full window remembers its newest events."""

import asyncio

from bots.delivery import Pace, Pacer, RetryLater, Window


class FakeTime:
    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def send(pacer: Pacer, chat: str, group: bool = False) -> None:
    async def one() -> None:
        async with pacer.turn(chat, group):
            pass

    asyncio.run(one())


def test_the_margin_widens_the_chat_group_and_overall_windows() -> None:
    clock = FakeTime()
    pace = Pace(per_second=1, chat_interval=1.0, group_per_minute=1, slack=0.25)
    pacer = Pacer(pace, clock)
    send(pacer, "g", group=True)
    assert pacer.chats["g"].free_at() == 101.25
    assert pacer.groups["g"].free_at() == 160.25
    assert pacer.tenants[""].free_at() == 101.25


def test_a_shorter_pause_never_shortens_a_longer_one() -> None:
    clock = FakeTime(0.0)
    pacer = Pacer(Pace(per_second=30, chat_interval=1.0, group_per_minute=20), clock)
    pacer.pause("a", 0.5)
    assert pacer.paused_until("a") == 0.5
    pacer.pause("a", 10)
    pacer.pause("a", 1)
    assert pacer.paused_until("a") == 10


def test_idle_chats_are_forgotten_only_past_a_minute_and_the_margin() -> None:
    clock = FakeTime(1.0)
    pacer = Pacer(Pace(per_second=30, chat_interval=1.0, group_per_minute=20, slack=0.5), clock)
    send(pacer, "a")  # answered at 1.0
    clock.t = 62.5  # exactly 61 s and the margin later: still kept
    pacer.forget_idle()
    assert "a" in pacer.chats and "" in pacer.tenants
    clock.t = 63.0
    pacer.forget_idle()
    assert pacer.chats == {} and pacer.tenants == {}


def test_a_full_window_keeps_its_newest_events() -> None:
    window = Window(limit=2, period=1.0)
    for at in (0.0, 0.5, 0.9):
        window.finish(window.start(), at)
    assert window.free_at() == 1.5  # the second newest (0.5) plus the period


def test_retry_later_says_how_long() -> None:
    assert str(RetryLater(15)) == "retry after 15s"
    assert RetryLater(2.5).seconds == 2.5
