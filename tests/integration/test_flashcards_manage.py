"""Fixing cards and decks in chat: /cards, /editcard, /delcard, suspending, and /deck
rename, del and merge; who may do which."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core.chat.messages import Reply
from core.clock import FixedClock
from core.flashcards.models import CardState, Deck, FlashCard, Note, ReviewLog
from teddy.runtime import Runtime
from tests.support.chat_driver import ChatDriver
from tests.support.chat_replies import button


async def answer(chat: ChatDriver, rating: str, deck: str = "") -> list[Reply]:
    shown = await chat.press(button(await chat.send(f"/review {deck}".strip()), "Show answer"))
    return await chat.press(button(shown, rating))


async def rows(core: Runtime, model: type) -> int:
    async with core.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def deck_names(core: Runtime) -> list[str]:
    async with core.db.transaction() as session:
        return list(await session.scalars(select(Deck.name).order_by(Deck.name)))


async def test_deck_sub_commands_no_longer_create_junk_decks(
    core: Runtime, chat: ChatDriver
) -> None:
    await chat.say("/deck Biology")
    await chat.say("/card cell | unit of life")

    asked = await chat.send("/deck del Biology")
    assert "Delete deck Biology with its 1 card" in asked[0].plain_text()
    assert await deck_names(core) == ["Biology"]
    assert "Nothing was deleted" in (await chat.press(button(asked, "Keep it")))[0].plain_text()

    renamed = await chat.say("/deck rename Biology Bio")
    assert "Renamed Biology to Bio" in renamed
    assert await deck_names(core) == ["Bio"]

    asked = await chat.send("/deck del Bio")
    assert button(asked, "Delete Bio (1 card)")
    done = await chat.press(button(asked, "Delete Bio"))
    assert "Deleted deck Bio and its 1 card" in done[0].plain_text()
    assert await deck_names(core) == []
    assert await rows(core, FlashCard) == 0


async def test_a_deck_name_starting_with_a_sub_command_word_is_refused_with_a_hint(
    core: Runtime, chat: ChatDriver
) -> None:
    for typed in ("/deck rename", "/deck del", "/deck merge", "/deck export"):
        reply = await chat.say(typed)
        assert "/deck" in reply and "Created" not in reply
    refused = await chat.say("/deck Delete me")  # a deck called "Delete me"? No: a command.
    assert "no deck called “me”" in refused and "a deck name can't start with “delete”" in refused
    assert await deck_names(core) == []
    # /import into a named deck goes through the same check.
    await chat.say("/deck Chem")
    assert await deck_names(core) == ["Chem"]


async def test_rename_with_spaces_and_a_clash_says_how_to_merge(chat: ChatDriver) -> None:
    await chat.say("/deck Organic Chem")
    await chat.say("/deck Orgo")
    assert "Renamed Organic Chem to Organic Chemistry" in await chat.say(
        "/deck rename Organic Chem Organic Chemistry"
    )
    clash = await chat.say("/deck rename Organic Chemistry | orgo")
    assert "already have a deck called" in clash and "/deck merge" in clash


async def test_merge_moves_cards_with_their_schedules_and_drops_duplicates(
    core: Runtime, chat: ChatDriver
) -> None:
    await chat.say("/deck Bio")
    await chat.say("/card cell | unit of life")
    await chat.say("/card atp | energy")
    await answer(chat, "Good", "Bio")
    await chat.say("/deck Biology")
    await chat.say("/card atp | energy")

    merged = await chat.say("/deck merge Bio into Biology")
    assert "Merged Bio into Biology: 1 card moved" in merged
    assert "1 duplicate already there were dropped" in merged
    assert await deck_names(core) == ["Biology"]
    async with core.db.transaction() as session:
        deck_id = await session.scalar(select(Deck.id))
        states = list(await session.scalars(select(CardState)))
        logs = list(await session.scalars(select(ReviewLog)))
    assert {s.deck_id for s in states} == {deck_id} and len(states) == 2
    assert [log.deck_id for log in logs] == [deck_id]  # the review of "cell" moved along
    assert "Biology (current): 0 due · 1 new · 2 cards" in await chat.say("/decks")


async def test_cards_lists_searches_edits_and_deletes(core: Runtime, chat: ChatDriver) -> None:
    await chat.say("/deck Bio")
    for n in range(7):
        await chat.say(f"/card question {n} | answer {n}")
    await chat.say("/card mitochondria | powerhouse of the cell")

    listed = await chat.send("/cards")
    text = listed[0].plain_text()
    assert "Cards in your decks (8)" in text and "1. question 0 → answer 0" in text
    assert "Showing 1–5 of 8" in text
    more = await chat.press(button(listed, "More"))
    assert "8. mitochondria → powerhouse of the cell" in more[0].plain_text()

    found = await chat.say("/cards Bio powerhouse")
    assert "Cards in Bio matching “powerhouse” (1)" in found and "8. mitochondria" in found

    hint = await chat.press(button(listed, "✏️ 2"))
    assert "/editcard 2 question 1 | answer 1" in hint[0].plain_text()
    edited = await chat.say("/editcard 2 question one | answer one")
    assert "Updated card 2 in Bio: question one → answer one" in edited
    assert "question one → answer one" in await chat.say("/cards one")

    assert "Deleted card 3" in await chat.say("/delcard 3")
    assert "no card 3" in await chat.say("/delcard 3")
    assert "not a card number" in await chat.say("/delcard three")
    asked = await chat.press(button(listed, "🗑 4"))
    assert "Delete card 4" in asked[0].plain_text()
    assert "Deleted card 4" in (await chat.press(button(asked, "Delete card 4")))[0].plain_text()
    assert await rows(core, Note) == 6


async def test_deleting_a_card_removes_its_review_log_rows(core: Runtime, chat: ChatDriver) -> None:
    await chat.say("/deck Bio")
    await chat.say("/card cell | unit of life")
    await answer(chat, "Good")
    assert await rows(core, ReviewLog) == 1
    await chat.say("/delcard 1")
    assert (await rows(core, ReviewLog), await rows(core, CardState)) == (0, 0)


async def test_editing_a_cloze_adds_and_drops_cards_and_keeps_the_others_schedule(
    core: Runtime, chat: ChatDriver
) -> None:
    await chat.say("/deck Geo")
    await chat.say("/card {{c1::Paris}} is the capital of {{c2::France}}")
    await answer(chat, "Good")
    assert await rows(core, FlashCard) == 2
    await chat.say("/editcard 1 {{c1::Paris}} is the capital of France")
    async with core.db.transaction() as session:
        states = list(await session.scalars(select(CardState)))
    assert len(states) == 1 and states[0].reps == 1  # c1 kept its review, c2 is gone
    await chat.say("/editcard 1 {{c1::Paris}} is on the {{c3::Seine}}")
    assert await rows(core, FlashCard) == 2


async def test_a_suspended_card_is_not_reviewed_nor_counted_as_due(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/deck Bio")
    await chat.say("/card cell | unit of life")
    await chat.say("/card atp | energy")
    await answer(chat, "Again")
    clock.advance(timedelta(minutes=20))
    assert "Bio (current): 1 due · 1 new · 2 cards" in await chat.say("/decks")

    listed = await chat.send("/cards")
    suspended = await chat.press(button(listed, "⏸ 1"))
    assert "Suspended card 1" in suspended[0].plain_text()
    await chat.press(button(await chat.send("/cards"), "⏸ 2"))
    assert "⏸ suspended" in await chat.say("/cards")
    assert "Bio (current): 0 due · 0 new · 2 cards" in await chat.say("/decks")
    assert "Nothing is due" in await chat.say("/review")

    back = await chat.press(button(suspended, "▶️ Bring back 1"))
    assert "back in your reviews" in back[0].plain_text()
    assert "cell" in await chat.say("/review")


async def test_another_user_cannot_see_or_change_your_cards_or_decks(
    core: Runtime, make_chat
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_chat("alice"), make_chat("bob")
    await alice.say("/deck Secret")
    await alice.say("/card alice q | alice a")
    listed = await alice.send("/cards")

    assert "No cards in your decks" in await bob.say("/cards")
    assert "No cards in your decks matching “Secret alice”" in await bob.say("/cards Secret alice")
    for typed in ("/editcard 1 x | y", "/delcard 1"):
        assert "There is no card 1 in your decks" in await bob.say(typed)
    for label in ("✏️ 1", "🗑 1", "⏸ 1"):
        pressed = await bob.press(button(listed, label))
        assert "There is no card 1 in your decks" in pressed[0].plain_text()
    assert "There is no card 1" in (await bob.press("fc.cdelok:1"))[0].plain_text()
    for typed in ("/deck rename Secret Mine", "/deck del Secret", "/deck merge Secret | Mine"):
        assert "no deck called" in await bob.say(typed)
    async with core.db.transaction() as session:
        alice_deck = await session.scalar(select(Deck.id))
    refused = await bob.press(f"fc.ddel:{alice_deck}")
    assert "doesn't exist" in refused[0].plain_text()
    assert "alice q → alice a" in await alice.say("/cards")
    assert await deck_names(core) == ["Secret"]
    async with core.db.transaction() as session:
        assert not any(s.suspended for s in await session.scalars(select(CardState)))


async def test_room_members_suspend_for_themselves_but_only_the_owner_changes_a_room_deck(
    core: Runtime, make_chat
) -> None:  # type: ignore[no-untyped-def]
    alice, alice_room = make_chat("alice"), make_chat("alice", room="study")
    bob_room, bob = make_chat("bob", room="study"), make_chat("bob")
    await bob_room.say("/start")
    await alice.say("/deck Anatomy")
    await alice.say("/card femur | thigh bone")
    await alice_room.say("/roomdeck Anatomy")

    listed = await bob.send("/cards")
    assert "1. femur → thigh bone" in listed[0].plain_text()
    assert not [b for b in listed[0].buttons if b.label.startswith("🗑")]
    assert "Only the owner" in await bob.say("/editcard 1 femur | leg bone")
    assert "Only the owner" in await bob.say("/delcard 1")
    assert "Only the owner" in (await bob.press("fc.cdel:1"))[0].plain_text()
    assert "Only the owner" in await bob.say("/deck rename Anatomy Mine")
    assert "Only the owner" in await bob.say("/deck del Anatomy")

    await bob.press(button(listed, "⏸ 1"))
    assert "Anatomy: 0 due · 0 new · 1 card" in await bob.say("/decks")
    assert "Anatomy (current): 0 due · 1 new · 1 card" in await alice.say("/decks")


async def test_odd_input_to_the_new_commands_gets_a_clear_answer(chat: ChatDriver) -> None:
    await chat.say("/deck Bio")
    await chat.say("/card cell | unit of life")
    odd = [
        "/editcard",
        "/editcard 1",
        "/editcard 99999999999 a | b",
        "/editcard 1 a | b | c",
        "/editcard 1 nul\x00 | b",
        "/editcard 1 {{c1::open | b",
        "/editcard -1 a | b",
        "/delcard",
        "/delcard 1.5",
        "/delcard 999999999999999999999999",
        "/cards \x00",
        "/cards " + "x" * 300,
        "/deck rename",
        "/deck rename Bio",
        "/deck rename Bio del Bio",
        "/deck rename Nope Other",
        "/deck merge Bio",
        "/deck merge Bio Bio",
        "/deck del Nope",
        "/deck Bio\x00",
        "/deck rename Bio\x00 X",
        "/deck merge Bio | X\x00",
        "/deck del \x00",
        "/snooze",
        "/snooze 1",
        "/snooze 99999999999 1h",
        "/snooze 1 9999 days",
        "/undo now",
    ]
    for typed in odd:
        answer = await chat.say(typed)
        assert answer and "something went wrong" not in answer, typed
    for action in (
        "fc.cards:x:y",
        "fc.cards:0:99999",
        "fc.cedit:",
        "fc.cdel:abc",
        "fc.csusp:1:2",
        "fc.ddel:99999999999999999999",
        "fc.undo:abc",
        "undo.task:",
        "snooze:r:abc:1h",
        "snooze:r:1:forever",
        "remind.again:1:abc",
        "remind.again:1:99999999999999",
    ):
        answer = "\n".join(r.plain_text() for r in await chat.press(action))
        assert answer and "something went wrong" not in answer, action
    assert "cell → unit of life" in await chat.say("/cards")


async def test_card_numbers_are_suggested_from_the_users_own_cards_only(
    core: Runtime, make_chat
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_chat("alice"), make_chat("bob")
    await alice.say("/deck Bio")
    await alice.say("/card mitochondria | powerhouse")
    await alice.say("/card ribosome | protein factory")
    await bob.say("/start")

    async def suggest(chat: ChatDriver, typed: str) -> list[tuple[str, str]]:
        found = await core.dispatcher.suggest(chat.sender, chat.chat, "card", typed)
        return [(s.label, s.value) for s in found]

    assert await suggest(alice, "ribo") == [("2. ribosome → protein factory", "2")]
    assert await suggest(alice, "1") == [("1. mitochondria → powerhouse", "1")]
    assert [v for _, v in await suggest(alice, "")] == ["1", "2"]
    assert await suggest(bob, "ribo") == []
    assert await suggest(bob, "1") == []


async def test_suspended_cards_stay_out_of_the_plan_and_the_forecast(
    core: Runtime, chat: ChatDriver
) -> None:
    await chat.say("/deck Chemistry")
    await chat.say("/card atom | smallest unit")
    await chat.say("/card ion | charged atom")
    await answer(chat, "Good")
    assert "Chemistry: today 100%" in await chat.say("/forecast")
    assert "- Review Chemistry: 1 card due" in await chat.say("/plan")
    for number in (1, 2):
        await chat.press(f"fc.csusp:{number}:1")
    assert "Chemistry" not in await chat.say("/forecast")
    assert "Nothing to plan yet" in await chat.say("/plan")
