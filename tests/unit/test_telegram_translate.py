from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update

from bots.telegram.translate import BotIdentity, Translated, translate
from tests.support.telegram_standin import (
    BOT_ID,
    BOT_USERNAME,
    StoredFile,
    callback_update,
    document_update,
    message_update,
    user,
)

BOT = BotIdentity(BOT_ID, BOT_USERNAME)
ALICE = user(111, "Alice", language_code="pt-BR")
GROUP = -100500


def fetcher(file_id: str) -> Callable[[], Awaitable[bytes]]:
    async def fetch() -> bytes:
        return file_id.encode()

    return fetch


def run(data: dict[str, Any]) -> Translated | None:
    return translate(Update.de_json({"update_id": 42, **data}, None), BOT, fetcher)


def test_direct_message_becomes_an_incoming_with_sender_chat_and_event_id() -> None:
    t = run(message_update(ALICE, "/task read ch. 5"))
    assert t is not None
    incoming = t.incoming
    assert (incoming.sender.platform, incoming.sender.external_id) == ("telegram", "111")
    assert (incoming.sender.display_name, incoming.sender.locale) == ("Alice", "pt")
    assert incoming.chat.is_direct and incoming.chat.external_id == "111"
    assert (incoming.text, incoming.event_id) == ("/task read ch. 5", "42")


def test_group_message_is_a_room_conversation_with_its_title() -> None:
    t = run(message_update(ALICE, "/tasks", chat_id=GROUP, title="Bio 101"))
    assert t is not None
    assert not t.incoming.chat.is_direct
    assert (t.incoming.chat.external_id, t.incoming.chat.title) == (str(GROUP), "Bio 101")
    assert not t.incoming.mentioned


def test_forum_topic_message_keeps_its_thread() -> None:
    t = run(
        message_update(ALICE, "/focus", chat_id=GROUP, message_thread_id=7, is_topic_message=True)
    )
    assert t is not None and t.thread_id == 7 and t.incoming.chat.thread_id == "7"


def test_a_command_for_another_bot_is_not_ours() -> None:
    assert run(message_update(ALICE, "/start@OtherBot", chat_id=GROUP)) is None
    assert run(message_update(ALICE, f"/start@{BOT_USERNAME}", chat_id=GROUP)) is not None


def test_a_leading_mention_addresses_the_bot_and_is_dropped_from_the_text() -> None:
    t = run(message_update(ALICE, f"@{BOT_USERNAME} what is osmosis?", chat_id=GROUP))
    assert t is not None and t.incoming.mentioned
    assert t.incoming.text == "what is osmosis?"


def test_button_press_carries_the_action_id_and_the_query_to_answer() -> None:
    message = {"message_id": 3, "date": 0, "chat": {"id": 111, "type": "private"}, "text": "x"}
    t = run(callback_update(ALICE, "tasks.done:12", message))
    assert t is not None
    assert t.incoming.action == "tasks.done:12"
    assert t.callback_query_id is not None and t.chat_id == 111


def test_document_becomes_an_attachment_and_large_ones_are_flagged() -> None:
    small = StoredFile("f1", "documents/f1", b"", 1234)
    t = run(document_update(ALICE, small, "notes.md", "text/markdown", "/import"))
    assert t is not None
    [attachment] = t.incoming.attachments
    assert (attachment.name, attachment.size, attachment.mime) == (
        "notes.md",
        1234,
        "text/markdown",
    )
    assert t.incoming.text == "/import"
    big = StoredFile("f2", "documents/f2", b"", 25 * 1024 * 1024)
    t = run(document_update(ALICE, big, "scan.pdf", "application/pdf"))
    assert t is not None and t.incoming.attachments == () and t.too_large == ("scan.pdf",)


def test_edits_and_bots_and_channel_posts_are_ignored() -> None:
    edited = message_update(ALICE, "/start")
    assert run({"edited_message": edited["message"]}) is None
    from_bot = message_update({**ALICE, "is_bot": True}, "/start")
    assert run(from_bot) is None


def test_a_message_or_button_press_without_its_chat_is_not_ours() -> None:
    sender = {"id": 111, "is_bot": False, "first_name": "Alice"}
    assert run({"message": {"message_id": 1, "date": 1, "from": sender, "text": "/start"}}) is None
    press = {"id": "9", "chat_instance": "1", "from": sender, "data": "tasks.done:1"}
    press["message"] = {"message_id": 1, "date": 1}
    assert run({"callback_query": press}) is None
