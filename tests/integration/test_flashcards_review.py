"""Reviewing in chat: FSRS due dates match the fsrs package called directly."""

from __future__ import annotations

from datetime import timedelta

from fsrs import Card, Rating, Scheduler
from sqlalchemy import select

from core.chat.messages import Reply
from core.clock import FixedClock
from core.flashcards.models import CardState, ReviewLog
from core.flashcards.scheduling import format_interval
from teddy.runtime import Runtime
from tests.support.chat_driver import ChatDriver
from tests.support.chat_replies import button


def labels(replies: list[Reply]) -> list[str]:
    return [b.label for r in replies for b in r.buttons]


async def states(core: Runtime) -> list[CardState]:
    async with core.db.transaction() as session:
        return list(await session.scalars(select(CardState).order_by(CardState.card_id)))


async def answer(chat: ChatDriver, replies: list[Reply], rating: str) -> list[Reply]:
    shown = await chat.press(button(replies, "Show answer"))
    return await chat.press(button(shown, rating))


async def test_each_rating_moves_the_due_date_exactly_as_fsrs_says(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/deck Biology")
    await chat.say("/card Mitochondria | powerhouse of the cell")
    await chat.say("/card The {{c1::nucleus}} holds the {{c2::DNA}}")
    rows = await states(core)
    assert len(rows) == 3  # one basic card, two cloze cards
    created = clock.now()

    scheduler = Scheduler(enable_fuzzing=False)
    expected = {r.card_id: Card(card_id=r.card_id, due=created) for r in rows}

    # Three new cards, rated in turn; then each due card again with the remaining ratings.
    plan = [Rating.Again, Rating.Hard, Rating.Good, Rating.Easy, Rating.Good, Rating.Again]
    replies = await chat.send("/review")
    for step, rating in enumerate(plan):
        clock.advance(timedelta(minutes=3 + step))
        front = replies[-1]
        card_id = int(button([front], "Show answer").split(":")[2])
        shown = await chat.press(button([front], "Show answer"))
        # The buttons show the interval fsrs gives for each rating at this moment.
        for r, name in ((Rating.Again, "Again"), (Rating.Good, "Good"), (Rating.Easy, "Easy")):
            preview, _ = scheduler.review_card(expected[card_id], r, clock.now())
            assert f"{name} · {format_interval(preview.due - clock.now())}" in labels(shown)
        clock.advance(timedelta(seconds=7))
        replies = await chat.press(button(shown, rating.name))
        expected[card_id], _ = scheduler.review_card(expected[card_id], rating, clock.now())
        stored = {r.card_id: r for r in await states(core)}[card_id]
        assert stored.due == expected[card_id].due
        assert stored.stability == expected[card_id].stability
        assert stored.difficulty == expected[card_id].difficulty
        assert stored.state == expected[card_id].state.value
        if "Session done" in replies[-1].plain_text():
            clock.advance(timedelta(minutes=15))
            replies = await chat.send("/review")
    async with core.db.transaction() as session:
        logs = list(await session.scalars(select(ReviewLog).order_by(ReviewLog.id)))
    assert [log.rating for log in logs] == [int(r) for r in plan]
    assert [log.duration_ms for log in logs] == [(3 + i) * 60_000 + 7000 for i in range(6)]
    assert logs[0].elapsed_days is None


async def test_a_session_ends_with_a_summary_of_the_ratings(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/deck Chem")
    await chat.say("/card H2O | water")
    await chat.say("/card NaCl | salt")
    replies = await chat.send("/review Chem")
    replies = await answer(chat, replies, "Good")
    replies = await answer(chat, replies, "Easy")
    text = replies[-1].plain_text()
    assert "Session done: 2 cards" in text
    assert "Again 0 · Hard 0 · Good 1 · Easy 1" in text
    assert "Nothing is due in Chem" in await chat.say("/review chem")


async def test_pressing_a_rating_twice_records_one_review(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/deck Chem")
    await chat.say("/card H2O | water")
    shown = await chat.press(button(await chat.send("/review"), "Show answer"))
    good = button(shown, "Good")
    await chat.press(good)
    clock.advance(timedelta(seconds=2))
    again = await chat.press(good)
    assert "already answered" in again[0].plain_text()
    async with core.db.transaction() as session:
        assert len(list(await session.scalars(select(ReviewLog)))) == 1


async def test_decks_lists_due_and_new_counts(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/deck Spanish")
    for word in ("uno | one", "dos | two", "tres | three"):
        await chat.say(f"/card {word}")
    replies = await chat.send("/review")
    await answer(chat, replies, "Again")
    clock.advance(timedelta(minutes=5))
    text = await chat.say("/decks")
    assert "Spanish (current): 1 due · 2 new · 3 cards" in text


async def test_new_cards_per_day_are_capped(core: Runtime, chat: ChatDriver) -> None:
    await chat.say("/deck Big")
    await chat.say("/retention new 1")
    await chat.say("/card a | b")
    await chat.say("/card c | d")
    replies = await answer(chat, await chat.send("/review"), "Easy")
    assert "Session done: 1 card in" in replies[-1].plain_text()
    assert "started today's 1 new cards" in await chat.say("/review")


async def test_desired_retention_changes_the_intervals(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/deck R")
    await chat.say("/card a | b")
    assert "0.97" in await chat.say("/retention 0.97")
    shown = await chat.press(button(await chat.send("/review"), "Show answer"))
    now = clock.now()
    default = Scheduler(enable_fuzzing=False).review_card(Card(due=now), Rating.Easy, now)[0]
    strict = Scheduler(desired_retention=0.97, enable_fuzzing=False).review_card(
        Card(due=now), Rating.Easy, now
    )[0]
    assert strict.due < default.due
    assert f"Easy · {format_interval(strict.due - now)}" in labels(shown)


async def test_bad_retention_and_bad_cards_get_clear_replies(chat: ChatDriver) -> None:
    assert "Pick a deck first" in await chat.say("/card a | b")
    await chat.say("/deck X")
    assert "between 0.70 and 0.99" in await chat.say("/retention 1.5")
    assert "both sides" in await chat.say("/card front |")
    assert "not closed" in await chat.say("/card The capital is {{c1::Paris")
    assert "already in" in (await chat.say("/card a | b"), await chat.say("/card a | b"))[1]


async def test_optimised_parameters_are_used_for_that_user_only(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    from fsrs.scheduler import DEFAULT_PARAMETERS

    from core.flashcards import service
    from tests.integration.test_flashcards_scoping import user_named

    alice, bob = make_chat("alice"), make_chat("bob")
    for chat in (alice, bob):
        await chat.say("/deck P")
        await chat.say("/card a | b")
    tuned = list(DEFAULT_PARAMETERS)
    tuned[3] = 40.0  # initial stability after "Easy"
    user = await user_named(core, "Alice")
    async with core.db.transaction() as session:
        await service.save_parameters(session, user.id, tuned, 1000, clock.now())
    now = clock.now()
    expected = Scheduler(parameters=tuned, enable_fuzzing=False).review_card(
        Card(due=now), Rating.Easy, now
    )[0]
    default = Scheduler(enable_fuzzing=False).review_card(Card(due=now), Rating.Easy, now)[0]
    alice_labels = labels(await alice.press(button(await alice.send("/review"), "Show answer")))
    bob_labels = labels(await bob.press(button(await bob.send("/review"), "Show answer")))
    assert f"Easy · {format_interval(expected.due - now)}" in alice_labels
    assert f"Easy · {format_interval(default.due - now)}" in bob_labels
    assert expected.due != default.due
