"""The real python-telegram-bot Application against the Bot API stand-in, with the core.

Assertions are on the exact Bot API calls the bot made. A small test-only capability
(`/note`, a button, a live message, a file handler) stands in for the product's own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bots.telegram.render import TextMessage
from core.chat import Ctx, Reply, Router
from core.chat.markup import escape
from core.chat.messages import Button, Card, FilePart, Text
from core.chat.router import action_id
from core.clock import FixedClock
from core.identity.models import Identity, Membership, Room, User
from core.jobs import JobContext, run_job
from core.outbox import service as outbox
from teddy.runtime import Runtime
from tests.support.rows import count
from tests.support.telegram_harness import TelegramBot, running_bot, wait_for
from tests.support.telegram_standin import (
    BOT_ID,
    BOT_USERNAME,
    callback_update,
    document_update,
    message_update,
    user,
)

ALICE = user(111, "Alice")
BOB = user(222, "Bob")
GROUP = -100123


class Recorder:
    def __init__(self) -> None:
        self.files: list[tuple[str, int, str, bytes]] = []


def notes_router(recorder: Recorder) -> Router:
    router = Router()

    @router.command("note", usage="/note <text>", summary="keep a note", area="test")
    async def note(ctx: Ctx, args: str) -> Reply:
        text = args.strip() or "(empty)"
        return Reply.text(
            f"Noted: {escape(text)}", [Button("Done ✅", action_id("note.done", len(text)))]
        )

    @router.action("note.done")
    async def done(ctx: Ctx, payload: str) -> Reply:
        return Reply.text(
            f"Marked done ({payload} characters), **{escape(ctx.user.display_name)}**."
        )

    @router.command("tick", usage="/tick", summary="a live message", area="test")
    async def tick(ctx: Ctx, args: str) -> None:
        for n in (1, 2, 3):
            await ctx.emit(
                Reply.text(f"Focus: {n} min", [Button("Stop", "note.done:0")], live_id="t")
            )

    @router.command("again", usage="/again", summary="a live state shown twice", area="test")
    async def again(ctx: Ctx, args: str) -> None:
        # The last state of a stream repeated after its edit went out (a tutor's final
        # answer equal to its last streamed part).
        for n in (1, 2, 2):
            await ctx.emit(Reply.text(f"Answer part {n}", live_id="a"))
            await asyncio.sleep(0.3)  # longer than the edit interval: each edit goes out

    @router.command("three", usage="/three", summary="one live state", area="test")
    async def three(ctx: Ctx, args: str) -> None:
        await ctx.emit(Reply.text("Focus: 3 min", [Button("Stop", "note.done:0")], live_id="t"))

    @router.command("essay", usage="/essay", summary="a long reply", area="test")
    async def essay(ctx: Ctx, args: str) -> Reply:
        return Reply.text("\n\n".join(f"Paragraph {i}. " + "blah " * 300 for i in range(4)))

    @router.command(
        "roomonly", usage="/roomonly", summary="rooms only", area="test", rooms_only=True
    )
    async def roomonly(ctx: Ctx, args: str) -> Reply:
        return Reply.text("room!")

    @router.on_file
    async def on_file(ctx: Ctx, text: str) -> None:
        await ctx.emit(Reply.text("Reading… 0%", live_id="ingest"))
        for attachment in ctx.incoming.attachments:
            data = await attachment.fetch()
            recorder.files.append((attachment.name, attachment.size, attachment.mime, data))
        await ctx.emit(Reply.text("Reading… 100%", live_id="ingest"))
        await ctx.emit(Reply.text(f"**Summary** of {escape(ctx.incoming.attachments[0].name)}"))

    @router.command("chart", usage="/chart", summary="a chart and a file", area="test")
    async def chart(ctx: Ctx, args: str) -> Reply:
        card = Card("Your week", (("Focus", "**3h**"),), image=b"\x89PNG fake", image_name="w.png")
        export = FilePart("export.json", b'{"tasks": []}', "application/json")
        return Reply((Text("Stats"), card, export))

    @router.command("secret", usage="/secret", summary="a private reply", area="test")
    async def secret(ctx: Ctx, args: str) -> Reply:
        return Reply.text("only for you", private=True)

    return router


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def with_notes(core: Runtime, recorder: Recorder) -> Iterator[None]:
    router = core.dispatcher.router
    before_commands, before_actions = dict(router.commands), dict(router.actions)
    before_file = router.file_handler
    router.include(notes_router(recorder))
    yield
    router.commands, router.actions = before_commands, before_actions
    router.file_handler = before_file


@pytest.fixture
async def bot(core: Runtime, with_notes: None) -> AsyncIterator[TelegramBot]:
    async with running_bot(core) as running:
        yield running


def texts(bot: TelegramBot, chat_id: int) -> list[str]:
    return [c.params["text"] for c in bot.standin.sent("sendMessage") if c.chat_id == str(chat_id)]


async def test_start_greets_a_new_user_in_telegram_html(core: Runtime, bot: TelegramBot) -> None:
    await bot.process(message_update(ALICE, "/start"))
    [call] = bot.standin.sent("sendMessage")
    assert call.chat_id == "111"
    assert call.params["parse_mode"] == "HTML"
    assert "Hi Alice! I'm <b>Study Teddy</b>" in call.params["text"]
    async with core.db.transaction() as session:
        identity = await session.scalar(select(Identity))
    assert identity is not None
    assert (identity.platform, identity.external_id, identity.dm_chat_id) == (
        "telegram",
        "111",
        "111",
    )


async def test_command_list_is_registered_for_direct_chats_and_groups(bot: TelegramBot) -> None:
    private = [c["command"] for c in bot.standin.commands["default"]]
    groups = [c["command"] for c in bot.standin.commands["all_group_chats"]]
    assert {"start", "help", "settings", "note"} <= set(private)
    assert "roomonly" not in private
    assert "roomonly" in groups


async def test_unchanged_command_list_is_not_sent_again(core: Runtime, with_notes: None) -> None:
    async with running_bot(core) as running:
        await running.adapter.register_commands()
        assert len(running.standin.sent("setMyCommands")) == 2


async def test_button_press_runs_the_core_action_and_answers_the_callback(
    bot: TelegramBot,
) -> None:
    await bot.process(message_update(ALICE, "/note buy milk"))
    [sent] = bot.standin.sent("sendMessage")
    assert sent.params["text"] == "Noted: buy milk"
    assert sent.keyboard == [[{"text": "Done ✅", "callback_data": "note.done:8"}]]
    message = bot.standin.message(111, 1)
    assert message is not None
    await bot.process(callback_update(ALICE, "note.done:8", message))
    assert len(bot.standin.sent("answerCallbackQuery")) == 1
    assert texts(bot, 111)[-1] == "Marked done (8 characters), <b>Alice</b>."


async def test_user_text_is_escaped_and_telegram_accepts_it(bot: TelegramBot) -> None:
    await bot.process(message_update(ALICE, "/note <b>x</b> & **y** <3"))
    [sent] = bot.standin.sent("sendMessage")
    assert sent.params["text"] == "Noted: &lt;b&gt;x&lt;/b&gt; &amp; **y** &lt;3"


async def test_long_reply_is_split_at_paragraph_boundaries(bot: TelegramBot) -> None:
    await bot.process(message_update(ALICE, "/essay"))
    sent = bot.standin.sent("sendMessage")
    assert len(sent) == 2
    assert all(len(c.params["text"]) <= 4096 for c in sent)
    assert all(c.params["text"].startswith("Paragraph") for c in sent)


async def test_live_message_is_sent_once_and_then_edited_in_place(bot: TelegramBot) -> None:
    await bot.process(message_update(ALICE, "/tick"))
    assert [c.method for c in bot.standin.outgoing()] == ["sendMessage", "editMessageText"]
    edit = bot.standin.sent("editMessageText")[0]
    assert edit.params["text"] == "Focus: 3 min"  # the 2-minute state was superseded
    assert edit.params["message_id"] == "1"
    assert edit.keyboard == [[{"text": "Stop", "callback_data": "note.done:0"}]]
    stored = bot.standin.message(111, 1)
    assert stored is not None and stored["text"] == "Focus: 3 min"


async def test_live_message_keeps_editing_the_same_message_on_later_updates(
    bot: TelegramBot,
) -> None:
    await bot.process(message_update(ALICE, "/tick"))
    await bot.process(message_update(ALICE, "/tick"))
    assert len(bot.standin.sent("sendMessage")) == 1
    assert {c.params["message_id"] for c in bot.standin.sent("editMessageText")} == {"1"}


async def test_a_live_state_already_shown_is_not_edited_again(bot: TelegramBot) -> None:
    await bot.process(message_update(ALICE, "/again"))
    calls = [c for c in bot.standin.calls if c.method in ("sendMessage", "editMessageText")]
    # One edit, and no second one refused as "message is not modified".
    assert [(c.method, c.status) for c in calls] == [
        ("sendMessage", 200),
        ("editMessageText", 200),
    ]
    stored = bot.standin.message(111, 1)
    assert stored is not None and stored["text"] == "Answer part 2"


async def test_a_later_update_edits_a_live_message_changed_elsewhere_since(
    bot: TelegramBot,
) -> None:
    await bot.process(message_update(ALICE, "/tick"))  # shows "Focus: 3 min"
    # Edited meanwhile by someone else (another replica, the outbox deliverer).
    await bot.adapter.edit_now(111, "1", TextMessage("Stopped"))
    await bot.process(message_update(ALICE, "/three"))  # "Focus: 3 min" once more
    stored = bot.standin.message(111, 1)
    assert stored is not None and stored["text"] == "Focus: 3 min"


async def test_document_is_handed_to_core_with_name_size_mime_and_bytes(
    bot: TelegramBot, recorder: Recorder
) -> None:
    content = b"%PDF-1.4 cell biology notes"
    stored = bot.standin.add_file("doc1", content)
    await bot.process(document_update(ALICE, stored, "bio notes.pdf", "application/pdf"))
    assert recorder.files == [("bio notes.pdf", len(content), "application/pdf", content)]
    calls = [(c.method, c.params.get("text")) for c in bot.standin.outgoing()]
    assert calls == [
        ("sendMessage", "Reading… 0%"),
        ("editMessageText", "Reading… 100%"),
        ("sendMessage", "<b>Summary</b> of bio notes.pdf"),
    ]


async def test_file_over_the_bot_api_download_limit_gets_a_clear_message(
    bot: TelegramBot, recorder: Recorder
) -> None:
    stored = bot.standin.add_file("big", b"x", size=21 * 1024 * 1024)
    await bot.process(document_update(ALICE, stored, "huge.pdf", "application/pdf"))
    assert recorder.files == []
    assert not bot.standin.sent("getFile")
    [text] = texts(bot, 111)
    assert "“huge.pdf” is over 20 MB" in text


async def test_a_group_becomes_a_room_and_commands_are_answered_there(
    core: Runtime, bot: TelegramBot
) -> None:
    await bot.process(message_update(ALICE, f"/note@{BOT_USERNAME} chem lab", chat_id=GROUP))
    await bot.process(message_update(BOB, "/roomonly", chat_id=GROUP))
    assert texts(bot, GROUP) == ["Noted: chem lab", "room!"]
    async with core.db.transaction() as session:
        room = await session.scalar(select(Room))
    assert room is not None and (room.external_id, room.title) == (str(GROUP), "Study group")
    assert await count(core, Membership) == 2


async def test_in_a_group_only_mentions_and_own_commands_get_an_answer(bot: TelegramBot) -> None:
    await bot.process(message_update(ALICE, "just chatting", chat_id=GROUP))
    await bot.process(message_update(ALICE, "/note@OtherBot x", chat_id=GROUP))
    assert bot.standin.outgoing() == []
    await bot.process(message_update(ALICE, f"@{BOT_USERNAME} hello", chat_id=GROUP))
    [text] = texts(bot, GROUP)
    assert "LLM_BASE_URL" in text  # the mention reached the tutor (offline: how to connect one)


async def test_a_reply_to_the_bot_in_a_group_counts_as_a_mention(bot: TelegramBot) -> None:
    replied: dict[str, Any] = {
        "message_id": 1,
        "date": 0,
        "chat": {"id": GROUP, "type": "supergroup", "title": "Study group"},
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Teddy"},
        "text": "earlier",
    }
    await bot.process(message_update(ALICE, "thanks", chat_id=GROUP, reply_to_message=replied))
    assert len(texts(bot, GROUP)) == 1


async def test_room_only_command_in_a_direct_chat_says_where_it_works(bot: TelegramBot) -> None:
    await bot.process(message_update(ALICE, "/roomonly"))
    assert "group chat" in texts(bot, 111)[0]


async def test_polling_takes_updates_from_get_updates_and_skips_a_redelivered_one(
    core: Runtime, with_notes: None
) -> None:
    async with running_bot(core, polling=True) as running:
        first = running.standin.push_update(message_update(ALICE, "/note one"))
        running.standin.push_update(dict(first))  # the same update_id again
        running.standin.push_update(message_update(ALICE, "/note two"))
        await wait_for(lambda: len(running.standin.sent("sendMessage")) >= 2)
        await wait_for(lambda: len(running.standin.sent("getUpdates")) >= 3)
        assert texts(running, 111) == ["Noted: one", "Noted: two"]


async def test_a_student_adds_lists_and_completes_a_task_with_the_button(
    core: Runtime, bot: TelegramBot
) -> None:
    await bot.process(message_update(ALICE, "/start"))
    await bot.process(message_update(ALICE, "/task Lab report fri 5pm #chem !high"))
    added = bot.standin.sent("sendMessage")[-1]
    assert added.params["text"].startswith("Added <b>1</b>. Lab report — #chem · !high\n")
    assert "due Fri 27 Nov 17:00" in added.params["text"]
    await bot.process(message_update(ALICE, "/tasks"))
    listing = bot.standin.sent("sendMessage")[-1]
    assert listing.chat_id == "111"
    assert "<b>Your open tasks</b> (1)" in listing.params["text"]
    assert listing.keyboard == [[{"text": "✓ 1", "callback_data": "tasks.done:1"}]]
    shown = bot.standin.message(111, 3)  # the bot's third message here: the list
    assert shown is not None and "Your open tasks" in shown["text"]
    await bot.process(callback_update(ALICE, "tasks.done:1", shown))
    done = bot.standin.sent("sendMessage")[-1]
    assert done.params["text"] == "✓ Done: <b>1</b>. Lab report"
    assert done.keyboard == [[{"text": "Undo", "callback_data": "tasks.undo:1"}]]
    assert len(bot.standin.sent("answerCallbackQuery")) == 1
    await bot.process(message_update(ALICE, "/tasks done"))
    assert "Lab report" in bot.standin.sent("sendMessage")[-1].params["text"]


async def test_a_live_message_in_a_group_is_edited_in_the_group(bot: TelegramBot) -> None:
    await bot.process(message_update(ALICE, "/tick", chat_id=GROUP))
    sends, edits = bot.standin.sent("sendMessage"), bot.standin.sent("editMessageText")
    assert [c.chat_id for c in sends + edits] == [str(GROUP), str(GROUP)]
    assert edits[0].params["message_id"] == "1"


async def test_a_reminder_reaches_the_student_through_the_outbox(
    core: Runtime, bot: TelegramBot, clock: FixedClock
) -> None:
    await bot.process(message_update(ALICE, "/settings quiet off"))
    await bot.process(message_update(ALICE, "/remind in 20 minutes stretch"))
    clock.advance(timedelta(minutes=21))
    await run_job("tasks.sweep_reminders", JobContext(core.db, core.services), {})
    deliverer = bot.adapter.deliverer()
    await deliverer.deliver_round()
    last = bot.standin.sent("sendMessage")[-1]
    assert last.chat_id == "111" and "stretch" in last.params["text"]
    assert deliverer.sent == 1
    await deliverer.deliver_round()
    assert deliverer.sent == 1


async def test_chart_card_goes_as_a_photo_and_a_file_as_a_document(bot: TelegramBot) -> None:
    await bot.process(message_update(ALICE, "/chart"))
    assert [c.method for c in bot.standin.outgoing()] == [
        "sendMessage",
        "sendPhoto",
        "sendDocument",
    ]
    photo, document = bot.standin.sent("sendPhoto")[0], bot.standin.sent("sendDocument")[0]
    assert photo.params["caption"] == "<b>Your week</b>\nFocus: <b>3h</b>"
    assert photo.params["photo"].data == b"\x89PNG fake"
    assert (document.params["document"].filename, document.params["document"].data) == (
        "export.json",
        b'{"tasks": []}',
    )


async def test_a_private_reply_in_a_group_goes_to_the_speakers_direct_chat(
    bot: TelegramBot,
) -> None:
    await bot.process(message_update(ALICE, "/secret", chat_id=GROUP))
    assert texts(bot, 111) == ["only for you"]
    assert texts(bot, GROUP) == []
    bot.standin.block(111)
    await bot.process(message_update(ALICE, "/secret", chat_id=GROUP))
    [note] = texts(bot, GROUP)
    assert f"open a chat with @{BOT_USERNAME}" in note


async def test_a_live_notification_from_the_outbox_edits_its_message(
    core: Runtime, bot: TelegramBot
) -> None:
    await bot.process(message_update(ALICE, "/settings quiet off"))
    now = core.services.clock.now()
    for n in (1, 2):
        async with core.db.transaction() as session:
            alice = await session.scalar(
                select(User).join(Identity).where(Identity.external_id == "111")
            )
            assert alice is not None
            assert await outbox.notify_user(
                session,
                alice,
                kind="progress",
                text=f"Ingesting… {n * 50}%",
                dedupe_key=f"p{n}",
                at=now,
                live_id="doc-1",
            )
        deliverer = bot.adapter.deliverer()
        await deliverer.deliver_round()
        assert deliverer.sent == 1
    [sent] = [c for c in bot.standin.sent("sendMessage") if "Ingesting" in c.params["text"]]
    [edit] = bot.standin.sent("editMessageText")
    assert sent.params["text"] == "Ingesting… 50%"
    assert edit.params["text"] == "Ingesting… 100%"
    assert edit.params["message_id"] == str(bot.standin.message(111, 2)["message_id"])  # type: ignore[index]


async def test_room_settings_ask_telegram_who_administers_the_group(
    core: Runtime, bot: TelegramBot
) -> None:
    bot.standin.admins.add((GROUP, 222))  # Bob administers the group; Alice was there first
    await bot.process(message_update(ALICE, "/room", chat_id=GROUP))
    assert bot.standin.sent("getChatMember") == []  # nothing to decide: nobody asked
    await bot.process(message_update(ALICE, "/room voice on", chat_id=GROUP))
    await bot.process(message_update(BOB, "/room voice on", chat_id=GROUP))
    asked = [(c.params["chat_id"], c.params["user_id"]) for c in bot.standin.sent("getChatMember")]
    assert asked == [(str(GROUP), "111"), (str(GROUP), "222")]
    assert texts(bot, GROUP)[1:] == [
        "Only the room's admins can change its settings.",
        "Time in this voice channel counts as study time.",
    ]


async def test_solo_focus_in_a_direct_chat_edits_its_live_message_at_the_break(
    core: Runtime, bot: TelegramBot, clock: FixedClock
) -> None:
    await bot.process(message_update(ALICE, "/focus 25 5 #chem"))
    [started] = bot.standin.sent("sendMessage")
    assert started.chat_id == "111"
    assert "🎯 Focus: <b>25 min</b> left" in started.params["text"]
    assert [b["text"] for b in started.keyboard[0]] == ["Pause", "Stop"]
    clock.advance(timedelta(minutes=25))
    await run_job("rooms.sweep_focus", JobContext(core.db, core.services), {})
    await bot.adapter.deliverer().deliver_round()
    [edit] = bot.standin.sent("editMessageText")
    assert edit.chat_id == "111"
    assert edit.params["message_id"] == str(bot.standin.message(111, 1)["message_id"])  # type: ignore[index]
    assert "☕ Break: <b>5 min</b> left" in edit.params["text"]
    assert len(bot.standin.sent("sendMessage")) == 1  # edited in place, not sent again
