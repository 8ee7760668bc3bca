"""Linked rooms through the dispatcher: chats on three platforms joined into one room with
one-time codes, sharing focus sessions, room tasks and the leaderboard; isolation of
unlinked chats and of spent, expired or forged codes; admins on both sides; relay, the
bot removed from a chat, export and deletion."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from core.accounts import userdata
from core.clock import FixedClock
from core.identity.models import LinkedChat, User
from core.jobs import JobContext
from core.outbox.models import OutboxMessage
from core.rooms import linking, voice
from core.rooms.jobs import sweep_focus_once
from teddy.runtime import Runtime

CODE = re.compile(r"/room join ([A-Z0-9]{5}-[A-Z0-9]{5})")


def code_in(text: str) -> str:
    found = CODE.search(text)
    assert found is not None, text
    return found.group(1)


async def outbox(core: Runtime, platform: str | None = None) -> list[OutboxMessage]:
    async with core.db.transaction() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if platform is not None:
            query = query.where(OutboxMessage.platform == platform)
        return list(await session.scalars(query))


async def link_three(make_chat):  # type: ignore[no-untyped-def]
    """Ann (Discord admin), Ben (Telegram admin), Cat (Slack admin): three linked chats."""
    ann = make_chat("ann", room="study-hall", platform="discord")
    ben = make_chat("ben", room="bio-group", platform="telegram")
    cat = make_chat("cat", room="class-42", platform="slack")
    for admin, other in ((ann, ben), (ann, cat)):
        link = await admin.send("/room link", sender_is_admin=True)
        code = code_in(link[0].plain_text())
        joined = await other.send(f"/room join {code}", sender_is_admin=True)
        assert "now shares one room" in joined[0].plain_text()
    return ann, ben, cat


async def test_three_chats_share_one_room_and_list_each_other_by_name_only(
    core: Runtime,
    make_chat,  # type: ignore[no-untyped-def]
) -> None:
    _, ben, _ = await link_three(make_chat)
    status = await ben.say("/room")
    assert "linked chats (3): Discord · study-hall, Telegram · bio-group, Slack · class-42" in (
        status
    )
    assert "room-" not in status  # the chats' platform ids are never shown
    for name in ("Ann", "Ben", "Cat"):
        assert name in status
    # The other chats heard of each join, through the outbox.
    assert any("Telegram · bio-group joined" in m.text for m in await outbox(core, "discord"))


async def test_one_focus_session_with_live_messages_in_every_chat(
    core: Runtime,
    clock: FixedClock,
    make_chat,  # type: ignore[no-untyped-def]
) -> None:
    ann, ben, cat = await link_three(make_chat)
    started = await ann.send("/focus 25 5")
    join = next(b.action for b in started[0].buttons if b.label == "Join")
    assert "already running" in await ben.say("/focus 25")
    joined = await ben.press(join)
    await cat.press(join)
    assert "In (2): Ann, Ben" in joined[0].plain_text()
    rows = [r for r in await outbox(core) if r.live_id is not None]
    # Every press went to the two chats that did not press (the presser got the reply).
    assert {(r.platform, r.kind) for r in rows} == {
        ("telegram", "focus"),
        ("slack", "focus"),
        ("discord", "focus"),
    }
    assert "In (3): Ann, Ben, Cat" in rows[-1].text
    # Only the latest state waits for each chat: Cat's press replaced Ben's for Discord.
    assert sorted(r.platform for r in rows) == ["discord", "slack", "telegram"]
    clock.advance(timedelta(minutes=25))
    await sweep_focus_once(JobContext(core.db, core.services))
    phase = [r for r in await outbox(core) if r.live_id is not None and "Break" in r.text]
    assert sorted(r.platform for r in phase) == ["discord", "slack", "telegram"]
    board = await cat.say("/leaderboard")
    for name in ("Ann", "Ben", "Cat"):
        assert f"{name}: 25 min" in board


async def test_room_tasks_are_shared_and_linked_accounts_count_once(
    core: Runtime,
    clock: FixedClock,
    make_chat,  # type: ignore[no-untyped-def]
) -> None:
    ann, ben, cat = await link_three(make_chat)
    await cat.say("/roomtask Poster draft")
    assert "Poster draft" in await ben.say("/roomtasks")
    await cat.say("/roomdone 1")
    assert "Poster draft" in await ben.say("/roomtasks done")
    # Ann also speaks in the Telegram chat, under her linked account: one person.
    ann_tg = make_chat("ann-tg", room="bio-group", platform="telegram")
    code = (await make_chat("ann", platform="discord").say("/link")).split("code: ")[1].split()[0]
    assert "Linked" in await make_chat("ann-tg", platform="telegram").say(f"/link {code}")
    started = await ann_tg.send("/focus 10 0")
    join = next(b.action for b in started[0].buttons if b.label == "Join")
    await ben.press(join)
    # Ann presses Join in Discord too: the same person, already in the session.
    assert "In (2)" in (await ann.press(join))[0].plain_text()
    clock.advance(timedelta(minutes=10))
    await sweep_focus_once(JobContext(core.db, core.services))
    board = await cat.say("/leaderboard")
    ranked = [line for line in board.splitlines() if ": 10 min" in line]
    assert len(ranked) == 2 and "Ben: 10 min" in board and "Cat" not in board


async def test_unlinked_chat_spent_expired_and_forged_codes_get_nothing(
    core: Runtime,
    clock: FixedClock,
    make_chat,  # type: ignore[no-untyped-def]
) -> None:
    ann = make_chat("ann", room="study-hall", platform="discord")
    ben = make_chat("ben", room="bio-group", platform="telegram")
    eve = make_chat("eve", room="elsewhere", platform="slack")
    await ann.say("/roomtask Secret plan")
    await ann.send("/room", sender_is_admin=True)
    code = code_in(await ann.say("/room link"))
    await ben.send(f"/room join {code}", sender_is_admin=True)
    # Eve's chat was never linked: it sees nothing of the room.
    assert "Secret plan" not in await eve.say("/roomtasks")
    assert "linked chats" not in await eve.say("/room")
    # The same code again, from another chat: refused, and nothing joined.
    again = await eve.send(f"/room join {code}", sender_is_admin=True)
    assert "not valid" in again[0].plain_text()
    assert (
        "not valid"
        in (await eve.send("/room join AAAAA-BBBBB", sender_is_admin=True))[0].plain_text()
    )
    late = code_in(await ann.say("/room link"))
    clock.advance(linking.CODE_LIFETIME + timedelta(seconds=1))
    expired = await eve.send(f"/room join {late}", sender_is_admin=True)
    assert "not valid" in expired[0].plain_text()
    assert "Secret plan" not in await eve.say("/roomtasks")
    async with core.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(LinkedChat)) == 1


async def test_linking_needs_an_admin_on_both_sides(
    core: Runtime,
    make_chat,  # type: ignore[no-untyped-def]
) -> None:
    ann = make_chat("ann", room="study-hall", platform="discord")
    bob = make_chat("bob", room="study-hall", platform="discord")
    ben = make_chat("ben", room="bio-group", platform="telegram")
    await ann.send("/room", sender_is_admin=True)
    refused = await bob.send("/room link", sender_is_admin=False)
    assert "Only the room's admins" in refused[0].plain_text()
    code = code_in(await ann.say("/room link"))
    not_admin = await ben.send(f"/room join {code}", sender_is_admin=False)
    assert "Only an admin of this chat" in not_admin[0].plain_text()
    # The refusal did not spend the code: an admin there can still use it.
    assert (
        "now shares" in (await ben.send(f"/room join {code}", sender_is_admin=True))[0].plain_text()
    )


async def test_unlink_relay_and_a_chat_that_removed_the_bot(
    core: Runtime,
    make_chat,  # type: ignore[no-untyped-def]
) -> None:
    ann, ben, cat = await link_three(make_chat)
    assert "relay is off" in await ben.say("/say hello")
    assert "Only the room's admins" in (
        (
            await make_chat("zed", room="class-42", platform="slack").send(
                "/room relay on", sender_is_admin=False
            )
        )[0].plain_text()
    )
    await ann.say("/room relay on")
    assert "Sent to 2 other chats" in await ben.say("/say hello *all*")
    relayed = [m for m in await outbox(core) if m.kind == "relay"]
    assert sorted(m.platform for m in relayed) == ["discord", "slack"]
    assert all("**Ben** (Telegram): hello \\*all\\*" in m.text for m in relayed)
    # Slack removed the bot: that chat leaves, the others are told.
    async with core.db.transaction() as session:
        assert (
            await linking.chat_refused_bot(
                session, "slack", "room-class-42", core.services.clock.now()
            )
            == 1
        )
    notes = [m.text for m in await outbox(core, "telegram") if "removed Teddy" in m.text]
    assert notes == ["🔗 Slack · class-42 removed Teddy and no longer shares this room."]
    assert "Poster" not in await cat.say("/roomtasks")
    # Ben unlinks his chat: he keeps his own room, and sees the shared tasks no more.
    await ann.say("/roomtask Shared only")
    assert "Shared only" in await ben.say("/roomtasks")
    unlinked = await ben.send("/room unlink", sender_is_admin=True)
    assert "room of its own again" in unlinked[0].plain_text()
    assert "Shared only" not in await ben.say("/roomtasks")


async def test_export_names_chats_without_ids_and_deleteme_takes_relayed_words(
    core: Runtime,
    make_chat,  # type: ignore[no-untyped-def]
) -> None:
    ann, ben, _ = await link_three(make_chat)
    await ann.say("/room relay on")
    await ben.say("/say my words")
    async with core.db.transaction() as session:
        ben_id = await session.scalar(select(User.id).where(User.display_name == "Ben"))
        assert ben_id is not None
        data = await userdata.export_user(session, ben_id)
    rooms = data["extra"]["rooms"]["linked_rooms"]
    assert rooms == [
        {
            "room": "study-hall",
            "chats": ["Discord · study-hall", "Telegram · bio-group", "Slack · class-42"],
        }
    ]
    assert "room-class-42" not in str(data)
    async with core.db.transaction() as session:
        await userdata.delete_user(session, ben_id)
    assert not [m for m in await outbox(core) if m.kind == "relay"]


async def test_time_in_a_linked_voice_channel_counts_for_the_shared_room(
    core: Runtime,
    clock: FixedClock,
    make_chat,  # type: ignore[no-untyped-def]
) -> None:
    ann = make_chat("ann", room="study-hall", platform="discord")
    channel = make_chat("ann", room="voice-1", platform="discord")
    await ann.send("/room voice on", sender_is_admin=True)
    code = code_in((await ann.send("/room link", sender_is_admin=True))[0].plain_text())
    await channel.send(f"/room join {code}", sender_is_admin=True)
    async with core.db.transaction() as session:
        await voice.voice_moved(
            session, person=ann.sender, left=None, joined=channel.chat, at=clock.now()
        )
    clock.advance(timedelta(minutes=30))
    async with core.db.transaction() as session:
        await voice.voice_moved(
            session, person=ann.sender, left=channel.chat, joined=None, at=clock.now()
        )
    assert "Ann: 30 min" in await ann.say("/leaderboard")
