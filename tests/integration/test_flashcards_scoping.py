"""Who sees what: private decks, room decks with a schedule per member, the jobs, stats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.chat.messages import Attachment, Reply
from core.clock import FixedClock
from core.errors import Forbidden, NotFound
from core.flashcards import service, stats
from core.flashcards.models import CardState, Deck, FlashCard
from core.identity.models import User
from core.jobs import JobContext, run_job
from core.outbox.models import OutboxMessage
from teddy.runtime import Runtime
from tests.support.chat_driver import ChatDriver
from tests.support.chat_replies import button


async def answer(chat: ChatDriver, replies: list[Reply], rating: str) -> list[Reply]:
    shown = await chat.press(button(replies, "Show answer"))
    return await chat.press(button(shown, rating))


async def user_named(core: Runtime, name: str) -> User:
    async with core.db.transaction() as session:
        user = await session.scalar(select(User).where(User.display_name == name))
        assert user is not None
        return user


async def test_nobody_sees_reviews_or_imports_into_another_users_deck(
    core: Runtime, make_chat
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_chat("alice"), make_chat("bob")
    await alice.say("/deck Secret")
    await alice.say("/card alice's question | alice's answer")
    alice_review = await alice.send("/review")

    assert "You have no decks" in await bob.say("/decks")
    assert "no deck called" in await bob.say("/review Secret")
    assert "no deck called" in await bob.say("/export_deck Secret")
    assert "Nothing is due" in await bob.say("/review")
    # Bob's /deck Secret makes his own deck; his cards and imports go there.
    assert "Created deck" in await bob.say("/deck Secret")
    await bob.send("/import Secret", attachments=(_csv(b"bob q,bob a\n"),))
    async with core.db.transaction() as session:
        decks = list(await session.scalars(select(Deck).order_by(Deck.id)))
        owners = {d.id: d.owner_id for d in decks}
        cards = list(await session.scalars(select(FlashCard)))
    assert len(decks) == 2 and len({owners[c.deck_id] for c in cards}) == 2

    # Alice's buttons pressed by Bob do nothing to Alice's card, and read like a session
    # that does not exist (her session ids are not to be probed).
    action = button(alice_review, "Show answer")
    assert "review session is over" in (await bob.press(action))[0].plain_text()
    session_id, card_id, shown = action.split(":")[1:]
    grade = f"fc.grade:{session_id}:{card_id}:3:{shown}"
    assert "review session is over" in (await bob.press(grade))[0].plain_text()
    # Even through his own session, Bob cannot grade or see Alice's card.
    bob_review = await bob.send("/review Secret")
    bob_session = button(bob_review, "Show answer").split(":")[1]
    peek = await bob.press(f"fc.show:{bob_session}:{card_id}:{shown}")
    assert "isn't in any of your decks" in peek[0].plain_text()
    steal = await bob.press(f"fc.grade:{bob_session}:{card_id}:3:{shown}")
    assert "isn't in any of your decks" in steal[0].plain_text()

    alice_user = await user_named(core, "Alice")
    bob_user = await user_named(core, "Bob")
    async with core.db.transaction() as session:
        alice_deck = await session.scalar(select(Deck).where(Deck.owner_id == alice_user.id))
        assert alice_deck is not None
        with pytest.raises(NotFound):
            await service.get_deck(session, bob_user, alice_deck.id)
        with pytest.raises(NotFound):
            await stats.deck_stats(session, bob_user, alice_deck.id, core.services.clock.now())
        with pytest.raises(NotFound):
            await stats.list_cards(session, bob_user, alice_deck.id)
        with pytest.raises(Forbidden):
            await service.add_notes(session, bob_user, alice_deck, [], core.services.clock.now())
        reviewed = await session.scalar(
            select(CardState.reps).where(CardState.card_id == int(card_id))
        )
    assert reviewed == 0


async def test_a_room_deck_gives_each_member_their_own_schedule(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    alice_dm, alice_room = make_chat("alice"), make_chat("alice", room="study")
    bob_room, carol = make_chat("bob", room="study"), make_chat("carol")
    await bob_room.say("/start")  # Bob is in the room
    await alice_dm.say("/deck Anatomy")
    await alice_dm.say("/card femur | thigh bone")
    assert "works in a group chat" in await alice_dm.say("/roomdeck Anatomy")
    assert "no deck called" in await bob_room.say("/roomdeck Anatomy")
    assert "now shared with this room" in await alice_room.say("/roomdeck Anatomy")

    bob_dm = make_chat("bob")
    assert "Anatomy: 0 due · 1 new · 1 card · shared with study (room deck)" in (
        await bob_dm.say("/decks")
    )
    # Alice adds a card later: members get it too.
    await alice_dm.say("/card tibia | shin bone")
    await answer(bob_dm, await bob_dm.send("/review Anatomy"), "Again")
    clock.advance(timedelta(minutes=5))
    assert "Anatomy: 1 due · 1 new · 2 cards" in await bob_dm.say("/decks")
    assert "Anatomy (current): 0 due · 2 new · 2 cards" in await alice_dm.say("/decks")
    # Members can't change the deck; outsiders never see it.
    refused = await bob_dm.send("/import Anatomy", attachments=(_csv(b"x,y\n"),))
    assert "Only the owner" in refused[0].plain_text()
    await bob_dm.say("/deck Anatomy")
    assert "Only the owner" in await bob_dm.say("/card a | b")
    # Someone joining the room later can review it straight away.
    await make_chat("dave", room="study").say("/start")
    dave_first = await make_chat("dave").send("/review")
    assert "femur" in dave_first[0].plain_text()
    assert "You have no decks" in await carol.say("/decks")
    assert "no deck called" in await carol.say("/review Anatomy")


async def test_the_due_sweep_queues_one_reminder_per_user_per_day(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    alice = make_chat("alice")
    await alice.say("/settings quiet off")
    await alice.say("/deck D")
    await alice.say("/card a | b")
    await answer(alice, await alice.send("/review"), "Good")
    jc = JobContext(core.db, core.services)
    await run_job("flashcards.sweep_due", jc, {})
    assert await _outbox(core) == []  # nothing due yet
    clock.advance(timedelta(days=3))
    await run_job("flashcards.sweep_due", jc, {})
    clock.advance(timedelta(hours=2))
    await run_job("flashcards.sweep_due", jc, {})
    messages = await _outbox(core)
    assert len(messages) == 1
    assert messages[0].text.startswith("1 flashcard card is due")
    assert messages[0].buttons[0]["action"] == "fc.review:"
    clock.advance(timedelta(days=1))
    await run_job("flashcards.sweep_due", jc, {})
    assert len(await _outbox(core)) == 2
    # The reminder's button starts a review.
    assert "Show answer" in str(
        [b.label for r in await alice.press("fc.review:") for b in r.buttons]
    )


async def _outbox(core: Runtime) -> list[OutboxMessage]:
    async with core.db.transaction() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_deck_stats_report_retention_reviews_per_day_and_forecast(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    alice = make_chat("alice")
    await alice.say("/deck Stats")
    await alice.say("/card a | b")
    await alice.say("/card c | d")
    replies = await answer(alice, await alice.send("/review"), "Easy")
    await answer(alice, replies, "Easy")
    clock.advance(timedelta(days=60))
    replies = await answer(alice, await alice.send("/review"), "Again")
    clock.advance(timedelta(minutes=20))
    await answer(alice, await alice.send("/review"), "Good")
    user = await user_named(core, "Alice")
    async with core.db.transaction() as session:
        [summary] = await service.list_decks(session, user, clock.now())
        found = await stats.deck_stats(session, user, summary.id, clock.now(), days=90)
        cards = await stats.list_cards(session, user, summary.id)
    assert [(c.question, c.reps, c.is_new) for c in cards] == [("a", 2, False), ("c", 2, False)]
    assert found.cards == 2 and found.reviews == 4
    # Of the reviews of cards in the Review state, one failed ("Again") and one passed.
    assert found.retention == pytest.approx(0.5)
    assert sum(count for _, count in found.reviews_per_day) == 4
    assert len(found.reviews_per_day) == 2
    assert len(found.due_forecast) == 14
    assert sum(count for _, count in found.due_forecast) >= 1


async def test_optimizer_picks_users_with_enough_reviews(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    alice = make_chat("alice")
    await alice.say("/deck O")
    await alice.say("/card a | b")
    await answer(alice, await alice.send("/review"), "Good")
    user = await user_named(core, "Alice")
    async with core.db.transaction() as session:
        assert await service.users_to_optimize(session, 1) == [user.id]
        assert await service.users_to_optimize(session, 2) == []
        await service.save_parameters(session, user.id, [0.1] * 21, 1, clock.now())
        assert await service.users_to_optimize(session, 1) == []


def _csv(data: bytes) -> Attachment:
    async def fetch() -> bytes:
        return data

    return Attachment("cards.csv", len(data), "text/csv", fetch)


async def test_the_optimize_job_without_the_optimizer_extra_leaves_defaults(
    core: Runtime, make_chat, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from core.flashcards import jobs

    # Whether or not the extra is installed here, this test is about a machine without it.
    monkeypatch.setattr(jobs, "optimizer_installed", lambda: False)
    monkeypatch.setattr(jobs, "MIN_REVIEWS_TO_OPTIMIZE", 1)
    alice = make_chat("alice")
    await alice.say("/deck O")
    await alice.say("/card a | b")
    await answer(alice, await alice.send("/review"), "Good")
    await run_job("flashcards.optimize", JobContext(core.db, core.services), {})
    assert "the FSRS defaults" in await alice.say("/retention")
