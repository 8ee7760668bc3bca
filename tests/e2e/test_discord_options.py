"""Typed slash options, autocomplete, server admins and DMs opened for people seen only in a
server: the real discord.py client against the Discord stand-in, the real core behind it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bots.discord.adapter import TeddyDiscord
from core.clock import FixedClock
from core.identity.models import Identity
from core.jobs import JobContext, run_job
from teddy.runtime import Runtime
from tests.e2e import test_discord as base
from tests.e2e import test_discord_flows as flows
from tests.e2e.test_discord import (
    ALICE,
    callbacks,
    message_create,
    slash,
    start_client,
    stop_client,
)
from tests.e2e.test_discord_flows import BOB
from tests.support.discord_standin import (
    BOT_ID,
    MEMBER_PERMISSIONS,
    OWNER_ID,
    TEXT_CHANNEL,
    VOICE_CHANNEL,
    DiscordStandIn,
    member,
    user,
)

ALICE_DM = f"77{ALICE[-10:]}"  # the DM channel the stand-in opens for Alice

standin = base.standin  # the same fixtures: the stand-in, and the client without test commands
bot = flows.bot


async def run(standin: DiscordStandIn, name: str, options: dict[str, Any], **how: Any) -> str:
    """Send one slash command (in the guild's text channel unless `dm=True`); return the
    content of its answer."""
    answer = await flows.run(standin, name, options, **{"dm": False, **how})
    assert answer["type"] == 4
    return str(answer["data"]["content"])


async def complete(
    standin: DiscordStandIn, name: str, options: dict[str, Any], focused: str, **how: Any
) -> list[dict[str, Any]]:
    """Send an autocomplete interaction; return the choices the bot answered with."""
    seen = len(callbacks(standin))
    payload = slash(name, options, kind=4, focused=focused, **how)
    await standin.dispatch("INTERACTION_CREATE", payload)
    [call] = await standin.wait_for("POST", f"/interactions/{payload['id']}/")
    assert call.path == f"/interactions/{payload['id']}/{payload['token']}/callback"
    assert len(callbacks(standin)) == seen + 1
    assert call.body["type"] == 8  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
    return list(call.body["data"]["choices"])


async def test_typed_options_are_joined_into_the_command_the_core_parses(
    bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    added = await run(
        standin,
        "task",
        {"title": "Lab report", "due": "fri 5pm", "subject": "chem", "priority": "high"},
        dm=True,
    )
    assert added.startswith("Added **1**. Lab report — #chem · !high\ndue Fri 27 Nov 17:00")
    assert await run(standin, "done", {"number": 1}, dm=True) == "✓ Done: **1**. Lab report"
    wrong = await run(standin, "done", {"number": 7}, dm=True)
    assert wrong == "There is no task 7 in your list. Send /tasks all to see them."
    # Only the break given: the minutes before it take their default, not its place.
    started = await run(standin, "focus", {"break": 10}, dm=False)
    assert "25 min focus, 10 min break" in started


async def test_a_command_sent_with_options_it_does_not_take_is_answered_not_left_silent(
    bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    # An older version of /remind, still shown by a Discord client, sent one free-text
    # option; today's /remind requires `when` and `text`.
    stale = await run(standin, "remind", {"text": "in 2 hours stretch"}, dm=True)
    assert stale.startswith("I could not read the options of /remind")
    assert "/help remind" in stale
    assert callbacks(standin)[-1]["data"]["flags"] == 64  # only the sender sees it
    # The bot keeps answering.
    assert "Added **1**" in await run(standin, "task", {"title": "Essay"}, dm=True)


async def test_deck_autocomplete_offers_only_the_users_own_and_shared_decks(
    bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    bob = member(BOB, "bob")
    for name in ("Biology", "Botany", "Chemistry"):
        await run(standin, "deck", {"deck": name}, dm=True)
    await run(standin, "deck", {"deck": "Bonsai"}, who=bob)
    await run(standin, "deck", {"deck": "Bees"}, who=bob)
    assert "shared with this room" in await run(standin, "roomdeck", {"deck": "Bees"}, who=bob)

    mine = await complete(standin, "review", {"deck": "b"}, "deck", dm=True)
    assert mine == [{"name": "Biology", "value": "Biology"}, {"name": "Botany", "value": "Botany"}]
    await run(standin, "room", {}, who=member(ALICE, "alice"))  # Alice joins the room
    in_room = await complete(standin, "review", {"deck": "b"}, "deck")
    assert [c["value"] for c in in_room] == ["Biology", "Botany", "Bees"]
    # Sharing a deck offers only your own decks; Bob's never reach Alice.
    own = await complete(standin, "roomdeck", {"deck": ""}, "deck")
    assert [c["value"] for c in own] == ["Biology", "Botany", "Chemistry"]
    nothing = await complete(standin, "review", {"deck": "Bonsai"}, "deck")
    assert nothing == []


async def test_task_number_autocomplete_shows_open_tasks_with_their_titles(
    bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    for title in ("Lab report", "Read chapter 3", "Essay draft"):
        await run(standin, "task", {"title": title}, dm=True)
    await run(standin, "done", {"number": 2}, dm=True)
    await run(standin, "task", {"title": "Bob's secret"}, who=member(BOB, "bob"))

    choices = await complete(standin, "done", {"number": ""}, "number", dm=True)
    assert choices == [
        {"name": "1. Lab report", "value": 1},
        {"name": "3. Essay draft", "value": 3},
    ]
    typed = await complete(standin, "edit", {"number": "ess", "changes": "x"}, "number", dm=True)
    assert typed == [{"name": "3. Essay draft", "value": 3}]


async def test_only_a_server_admin_can_turn_on_voice_study_time(
    bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    alice = member(ALICE, "alice", permissions=MEMBER_PERMISSIONS)
    bob = member(BOB, "bob")  # Administrator and the rest
    voice_on = {"setting": "voice", "value": "on"}
    status = await run(standin, "room", {}, channel=VOICE_CHANNEL, who=alice)
    assert "members (1): Alice" in status  # Alice was first in the room

    refused = await run(standin, "room", voice_on, channel=VOICE_CHANNEL, who=alice)
    assert refused == "Only the room's admins can change its settings."
    allowed = await run(standin, "room", voice_on, channel=VOICE_CHANNEL, who=bob)
    assert allowed == "Time in this voice channel counts as study time."
    still = await run(
        standin, "room", {"setting": "voice", "value": "off"}, channel=VOICE_CHANNEL, who=alice
    )
    assert still == "Only the room's admins can change its settings."


async def test_a_member_whose_admin_role_was_taken_away_loses_room_settings(
    bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    tz = {"setting": "tz", "value": "Europe/Berlin"}
    changed = await run(standin, "room", tz, who=member(ALICE, "alice"))
    assert changed == "This room's time zone is now Europe/Berlin."
    demoted = member(ALICE, "alice", permissions=MEMBER_PERMISSIONS)
    refused = await run(standin, "room", tz, who=demoted)
    assert refused == "Only the room's admins can change its settings."


async def test_a_reminder_reaches_a_person_seen_only_in_a_server_through_a_new_dm(
    core: Runtime, bot: TeddyDiscord, standin: DiscordStandIn, clock: FixedClock
) -> None:
    await run(standin, "remind", {"when": "in 20 minutes", "text": "stretch"})
    await run(standin, "remind", {"when": "in 40 minutes", "text": "drink water"})
    clock.advance(timedelta(minutes=21))
    await run_job("tasks.sweep_reminders", JobContext(core.db, core.services), {})
    await bot.deliverer().deliver_round()

    opened = standin.named("POST", "/users/@me/channels")
    assert [c.body for c in opened] == [{"recipient_id": int(ALICE)}]
    [sent] = standin.named("POST", f"/channels/{ALICE_DM}/messages")
    assert "stretch" in sent.body["content"]
    assert standin.named("POST", f"/channels/{TEXT_CHANNEL}/messages") == []
    async with core.db.transaction() as session:
        identity = await session.scalar(select(Identity).where(Identity.external_id == ALICE))
    assert identity is not None and identity.dm_chat_id == ALICE_DM

    clock.advance(timedelta(minutes=20))  # the next one goes to the DM now on record
    await run_job("tasks.sweep_reminders", JobContext(core.db, core.services), {})
    await bot.deliverer().deliver_round()
    assert len(standin.named("POST", "/users/@me/channels")) == 1
    second = standin.named("POST", f"/channels/{ALICE_DM}/messages")[1]
    assert "drink water" in second.body["content"]


async def test_a_server_only_person_who_refuses_dms_is_marked_unreachable(
    core: Runtime, bot: TeddyDiscord, standin: DiscordStandIn, clock: FixedClock
) -> None:
    standin.forbidden_channels.add(ALICE_DM)  # 50007: Cannot send messages to this user
    await run(standin, "remind", {"when": "in 20 minutes", "text": "stretch"})
    clock.advance(timedelta(minutes=21))
    await run_job("tasks.sweep_reminders", JobContext(core.db, core.services), {})
    await bot.deliverer().deliver_round()
    assert len(standin.named("POST", f"/channels/{ALICE_DM}/messages")) == 1
    async with core.db.transaction() as session:
        identity = await session.scalar(select(Identity).where(Identity.external_id == ALICE))
    assert identity is not None and identity.unreachable

    await asyncio.sleep(0)
    await bot.deliverer().deliver_round()  # given up: not tried again
    assert len(standin.named("POST", f"/channels/{ALICE_DM}/messages")) == 1


async def test_a_mention_carries_the_members_server_permissions(
    core: Runtime, standin: DiscordStandIn
) -> None:
    standin.everyone_permissions = MEMBER_PERMISSIONS  # only the owner may manage the server
    client, task = await start_client(core, standin)
    try:
        for count, author in enumerate((user(ALICE, "alice"), user(OWNER_ID, "owner")), 1):
            message = message_create(f"<@{BOT_ID}> /room voice on", dm=False, mention=True)
            message["author"] = author
            message["member"] = {k: v for k, v in member(author["id"], "x").items() if k != "user"}
            await standin.dispatch("MESSAGE_CREATE", message)
            # One at a time: two mentions in flight could be answered in either order.
            sent = await standin.wait_for("POST", f"/channels/{TEXT_CHANNEL}/messages", count)
    finally:
        await stop_client(client, task)
    assert [c.body["content"] for c in sent] == [
        "Only the room's admins can change its settings.",
        "Time in this voice channel counts as study time.",
    ]
