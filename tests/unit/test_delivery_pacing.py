import asyncio

from bots.delivery import Pace, Pacer


class FakeTime:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


async def send_at(pacer: Pacer, clock: FakeTime, chat: str, group: bool = False) -> float:
    async with pacer.turn(chat, group):
        return clock.t


def test_a_chat_waits_its_interval_counted_from_the_answer() -> None:
    clock = FakeTime()
    pacer = Pacer(Pace(per_second=30, chat_interval=1.0, group_per_minute=20, slack=0), clock)
    asyncio.run(send_at(pacer, clock, "a"))
    clock.t += 0.5
    assert pacer.chat_free_at("a", False) == 101.0
    assert pacer.chat_free_at("b", False) == 0.0


def test_a_group_allows_its_per_minute_count_then_waits_a_minute() -> None:
    clock = FakeTime()
    pacer = Pacer(Pace(per_second=30, chat_interval=1.0, group_per_minute=3, slack=0), clock)
    for _ in range(3):
        asyncio.run(send_at(pacer, clock, "g", group=True))
        clock.t += 1.0
    assert pacer.chat_free_at("g", True) == 160.0


def test_a_pause_holds_every_chat() -> None:
    clock = FakeTime()
    pacer = Pacer(Pace(per_second=30, chat_interval=1.0, group_per_minute=20), clock)
    pacer.pause("someone", 5)
    assert pacer.chat_free_at("anyone", False) == 105.0


def test_overall_window_counts_the_last_n_answers() -> None:
    clock = FakeTime()
    pacer = Pacer(Pace(per_second=2, chat_interval=1.0, group_per_minute=20, slack=0), clock)
    asyncio.run(send_at(pacer, clock, "a"))
    clock.t += 0.1
    asyncio.run(send_at(pacer, clock, "b"))
    assert pacer.tenants[""].free_at() == 101.0


def tenant_before_colon(chat_id: str) -> str:
    return chat_id.partition(":")[0]


def test_tenants_have_their_own_budget_and_their_own_pauses() -> None:
    clock = FakeTime()
    pace = Pace(per_second=1, chat_interval=1.0, group_per_minute=20, slack=0)
    pacer = Pacer(pace, clock, tenant_of=tenant_before_colon)
    asyncio.run(send_at(pacer, clock, "TA:C1"))
    assert pacer.tenants["TA"].free_at() == 101.0
    assert "TB" not in pacer.tenants  # TB's budget is untouched by TA's sends

    pacer.pause("TA:C1", 30)
    assert pacer.chat_free_at("TA:C2", False) == 130.0
    assert pacer.chat_free_at("TB:C1", False) == 0.0
