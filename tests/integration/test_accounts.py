"""Linking merges users without losing rows; /export and /deleteme cover every table."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    String,
    Table,
    UniqueConstraint,
    func,
    insert,
    select,
)

from core.accounts import service as accounts
from core.accounts import tokens, userdata
from core.chat.messages import Card
from core.db import Base
from core.identity.models import Identity, Membership, Room, User
from teddy.runtime import Runtime


@pytest.fixture
async def decks(core: Runtime) -> AsyncIterator[tuple[Table, Table]]:
    """Two tables a future capability might add: a deck per user and name (unique), and
    cards that belong to a deck only. The merge/export/delete code must cover them unseen."""
    deck = Table(
        "test_decks",
        Base.metadata,
        Column("id", BigInteger, primary_key=True),
        Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        Column("name", String(50), nullable=False),
        UniqueConstraint("user_id", "name"),
    )
    card = Table(
        "test_cards",
        Base.metadata,
        Column("id", BigInteger, primary_key=True),
        Column("deck_id", ForeignKey("test_decks.id", ondelete="CASCADE"), nullable=False),
        Column("front", String(50), nullable=False),
    )
    async with core.db.engine.begin() as conn:
        await conn.run_sync(lambda c: Base.metadata.create_all(c, tables=[deck, card]))
    try:
        yield deck, card
    finally:
        async with core.db.engine.begin() as conn:
            await conn.run_sync(lambda c: Base.metadata.drop_all(c, tables=[card, deck]))
        Base.metadata.remove(card)
        Base.metadata.remove(deck)


async def user_id_of(core: Runtime, platform: str, external_id: str) -> int:
    async with core.db.transaction() as session:
        found = await session.scalar(
            select(Identity.user_id).where(
                Identity.platform == platform, Identity.external_id == external_id
            )
        )
    assert found is not None
    return found


async def add_deck(
    core: Runtime, tables: tuple[Table, Table], user_id: int, name: str, *fronts: str
) -> None:
    deck, card = tables
    async with core.db.transaction() as session:
        deck_id = await session.scalar(
            insert(deck).values(user_id=user_id, name=name).returning(deck.c.id)
        )
        for front in fronts:
            await session.execute(insert(card).values(deck_id=deck_id, front=front))


def link_code_in(text: str) -> str:
    return text.split("code: ")[1].split(" ")[0]


async def test_linking_two_users_with_data_merges_every_row(
    core: Runtime, make_chat, decks
) -> None:  # type: ignore[no-untyped-def]
    phone = make_chat("ana", platform="telegram")
    laptop = make_chat("ana", platform="console")
    await phone.say("/settings tz Europe/Berlin")
    for driver in (phone, laptop):
        await make_chat("ana", room="biology", platform=driver.sender.platform).say("/help")
    # Both platforms' rooms share one room id here: same user in the same room twice.
    phone_id = await user_id_of(core, "telegram", "ana")
    laptop_id = await user_id_of(core, "console", "ana")
    await add_deck(core, decks, phone_id, "Bio", "cell", "atom")
    await add_deck(core, decks, laptop_id, "Bio", "gene")
    await add_deck(core, decks, laptop_id, "Chem", "acid")

    code = link_code_in(await phone.say("/link"))
    answer = await laptop.say(f"/link {code.lower()}")

    assert "Linked" in answer
    assert await user_id_of(core, "console", "ana") == phone_id
    deck, card = decks
    async with core.db.transaction() as session:
        assert await session.get(User, laptop_id) is None
        names = sorted(await session.scalars(select(deck.c.name).where(deck.c.user_id == phone_id)))
        fronts = sorted(await session.scalars(select(card.c.front)))
        memberships = await session.scalar(
            select(func.count()).where(Membership.user_id == phone_id)
        )
        survivor = await session.get(User, phone_id)
    assert names == ["Bio", "Chem"]
    assert fronts == ["acid", "atom", "cell", "gene"]
    assert memberships == 2  # one room per platform, none lost
    assert survivor is not None and survivor.timezone == "Europe/Berlin"


async def test_shared_room_membership_collision_keeps_one_membership(core: Runtime) -> None:
    async with core.db.transaction() as session:
        a, b = User(display_name="a"), User(display_name="b")
        session.add_all([a, b])
        await session.flush()
        room = Room(platform="test", external_id="r1")
        session.add(room)
        await session.flush()
        session.add_all(
            [Membership(room_id=room.id, user_id=a.id), Membership(room_id=room.id, user_id=b.id)]
        )
        await session.flush()
        await userdata.merge_users(session, source_id=b.id, target_id=a.id)
    async with core.db.transaction() as session:
        rows = list(await session.scalars(select(Membership.user_id)))
    assert rows == [a.id]


async def test_link_code_works_once_and_expires(core: Runtime, make_chat, clock) -> None:  # type: ignore[no-untyped-def]
    first, second, third = make_chat("u1"), make_chat("u2"), make_chat("u3")
    code = link_code_in(await first.say("/link"))
    assert "Linked" in await second.say(f"/link {code}")
    assert "not valid" in await third.say(f"/link {code}")
    stale = link_code_in(await third.say("/link"))
    clock.advance(timedelta(minutes=11))
    assert "not valid" in await first.say(f"/link {stale}")
    own = link_code_in(await first.say("/link"))
    assert "same account" in await first.say(f"/link {own}")


async def test_wrong_link_codes_in_chat_are_limited_to_five_a_minute(
    core: Runtime, make_chat, clock
) -> None:  # type: ignore[no-untyped-def]
    owner, guesser = make_chat("owner"), make_chat("guesser")
    code = link_code_in(await owner.say("/link"))
    for guess in ("AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD", "EEEE-EEEE"):
        assert "not valid" in await guesser.say(f"/link {guess}")
    refused = await guesser.say(f"/link {code}")  # even the right code waits now
    assert "Too many link attempts" in refused and "Wait a minute" in refused
    assert "Too many link attempts" not in await make_chat("other").say("/link ZZZZ-ZZZZ")
    clock.advance(timedelta(minutes=1))
    assert "Linked" in await guesser.say(f"/link {code}")


async def test_export_holds_every_table_and_no_secrets(core: Runtime, chat, decks) -> None:  # type: ignore[no-untyped-def]
    await chat.say("/start")
    uid = await user_id_of(core, "test", "alice")
    await add_deck(core, decks, uid, "Bio", "cell")
    async with core.db.transaction() as session:
        user = await session.get(User, uid)
        assert user is not None
        await accounts.set_password(session, user, "alice@example.org", "correct horse battery")
        await tokens.create_api_token(session, user, "script", core.services.clock.now())
    replies = await chat.send("/export")
    data = json.loads(replies[0].files[0].data)
    assert data["user"]["email"] == "alice@example.org"
    assert "password_hash" not in data["user"]
    assert data["tables"]["test_cards"][0]["front"] == "cell"
    assert data["tables"]["identities"][0]["platform"] == "test"
    assert "token_hash" not in data["tables"]["api_tokens"][0]
    assert "argon2" not in replies[0].files[0].data.decode()


async def test_deleteme_removes_everything_after_confirmation_only(
    core: Runtime, make_chat, decks
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_chat("alice"), make_chat("bob")
    await bob.say("/start")
    replies = await alice.send("/deleteme")
    uid = await user_id_of(core, "test", "alice")
    await add_deck(core, decks, uid, "Bio", "cell")
    await add_deck(core, decks, await user_id_of(core, "test", "bob"), "Bio", "bob's")
    delete_button = replies[0].buttons[0]
    refused = await bob.press(delete_button.action)
    assert "not for you" in refused[0].plain_text()
    async with core.db.transaction() as session:
        assert await session.get(User, uid) is not None
    done = await alice.press(delete_button.action)
    assert "deleted" in done[0].plain_text()
    _deck, card = decks
    async with core.db.transaction() as session:
        assert await session.get(User, uid) is None
        assert list(await session.scalars(select(card.c.front))) == ["bob's"]
        assert await session.scalar(select(func.count()).select_from(Identity)) == 1


async def test_stats_in_chat_sends_a_png_chart_and_a_summary(core: Runtime, chat) -> None:  # type: ignore[no-untyped-def]
    replies = await chat.send("/stats month")
    card = next(p for p in replies[0].parts if isinstance(p, Card))
    assert card.image is not None and card.image.startswith(b"\x89PNG")
    assert "last 30 days" in replies[0].plain_text()
    assert "Use /stats week" in await chat.say("/stats decade")


async def count(core: Runtime, table: str, where: str = "true") -> int:
    from sqlalchemy import text

    async with core.db.transaction() as session:
        return int(await session.scalar(text(f"SELECT count(*) FROM {table} WHERE {where}")) or 0)


async def test_linking_keeps_every_task_card_and_review_of_both_users(
    core: Runtime, make_chat
) -> None:  # type: ignore[no-untyped-def]
    phone = make_chat("bo", platform="telegram")
    laptop = make_chat("bo", platform="console")
    for driver, subject in ((phone, "chem"), (laptop, "bio")):
        await driver.say(f"/task Lab report fri 5pm #{subject}")
        await driver.say(f"/task Read chapter {subject}")
        await driver.say("/deck Biology")
        await driver.say(f"/card {subject} front | back")
        await driver.say("/done 1")
    before = {t: await count(core, t) for t in ("tasks", "flashcard_notes", "flashcard_cards")}
    assert before["tasks"] == 4 and before["flashcard_notes"] == 2

    code = link_code_in(await phone.say("/link"))
    assert "Linked" in await laptop.say(f"/link {code}")

    survivor = await user_id_of(core, "telegram", "bo")
    assert await count(core, "tasks", f"user_id = {survivor}") == 4
    numbers = await count(core, "(SELECT DISTINCT number FROM tasks) AS n")
    assert numbers == 4  # renumbered, none folded away
    assert await count(core, "flashcard_decks") == 1  # same deck name: one deck
    assert await count(core, "flashcard_notes") == 2  # both cards kept, in that deck
    assert await count(core, "users") == 1
    listing = await laptop.say("/tasks all")
    assert "chapter chem" in listing and "chapter bio" in listing
    assert "something went wrong" not in await laptop.say("/task After linking")
    assert await count(core, "tasks") == 5


async def test_linking_moves_documents_to_the_survivors_search_scope(
    core: Runtime, make_chat, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from core.chat.messages import Attachment

    phone = make_chat("cy", platform="telegram")
    laptop = make_chat("cy", platform="console")
    for driver, body in ((phone, "Mitochondria make ATP."), (laptop, "Osmosis moves water.")):
        data = body.encode()

        async def fetch(data: bytes = data) -> bytes:
            return data

        attachment = Attachment(f"{body[:5]}.txt", len(data), "text/plain", fetch)
        await driver.send("", attachments=(attachment,))
    await core.services.jobs.drain(timeout=60)  # type: ignore[attr-defined]
    code = link_code_in(await phone.say("/link"))
    assert "Linked" in await laptop.say(f"/link {code}")
    survivor = await user_id_of(core, "telegram", "cy")
    assert await count(core, "documents", f"scope = 'u:{survivor}'") == 2
    assert await count(core, "document_chunks", f"scope <> 'u:{survivor}'") == 0
    found = await laptop.say("/search osmosis")
    assert "Osmosis" in found
    exported = json.loads((await laptop.send("/export"))[0].files[0].data)
    assert len(exported["tables"]["documents"]) == 2
    assert len(exported["tables"]["document_files"]) == 2  # the files themselves, base64
    assert exported["tables"]["document_chunks"]
    deleteme = await laptop.send("/deleteme")
    await laptop.press(deleteme[0].buttons[0].action)
    for table in ("documents", "document_chunks", "document_files", "document_lexeme_stats"):
        assert await count(core, table) == 0, table
    assert await count(core, "document_scope_stats", "chunks > 0") == 0


async def test_expired_sessions_and_link_codes_are_swept(core: Runtime, chat, clock) -> None:  # type: ignore[no-untyped-def]
    from core.accounts.jobs import SWEEP_EXPIRED
    from core.app import load_jobs
    from core.jobs import JobContext, run_job

    await chat.say("/link")
    uid = await user_id_of(core, "test", "alice")
    async with core.db.transaction() as session:
        await accounts.start_web_session(session, uid, clock.now())
    clock.advance(timedelta(minutes=11))
    async with core.db.transaction() as session:
        await accounts.start_web_session(session, uid, clock.now())
    load_jobs()
    await run_job(SWEEP_EXPIRED, JobContext(core.db, core.services), {})
    assert await count(core, "link_codes") == 0
    assert await count(core, "web_sessions") == 2  # 30-day sessions are still valid
    clock.advance(timedelta(days=30, minutes=5))
    await run_job(SWEEP_EXPIRED, JobContext(core.db, core.services), {})
    assert await count(core, "web_sessions") == 0


async def test_linking_two_histories_with_the_same_deck_and_card_keeps_every_review(
    core: Runtime,
) -> None:
    from bench.web_seed import seed_history
    from core.chat.messages import Sender
    from core.identity.service import user_for_sender

    now = core.services.clock.now()
    async with core.db.transaction() as session:
        a = await user_for_sender(session, Sender("x", "a", "A"), now)
        b = await user_for_sender(session, Sender("y", "b", "B"), now)
        first = await seed_history(session, a, days=20, now=now)
        second = await seed_history(session, b, days=20, now=now, seed=3)
        keep, fold = a.id, b.id
    async with core.db.transaction() as session:
        await userdata.merge_users(session, source_id=fold, target_id=keep)
    assert await count(core, "flashcard_reviews", f"user_id = {keep}") == (
        first["reviews"] + second["reviews"]
    )
    assert await count(core, "tasks", f"user_id = {keep}") == first["tasks"] + second["tasks"]
    assert await count(core, "study_sessions", f"user_id = {keep}") == (
        first["study_sessions"] + second["study_sessions"]
    )
    assert await count(core, "flashcard_cards") == 1  # the same card, folded
    assert await count(core, "flashcard_states") == 1
