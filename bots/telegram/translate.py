"""Telegram updates as core `Incoming` events. No rule lives here: only translation."""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import Bot, Message, MessageEntity, Update

from core.chat.messages import AdminCheck, Attachment, Conversation, Incoming, Sender

log = logging.getLogger(__name__)

PLATFORM = "telegram"
# The Bot API's getFile refuses larger files; the bot cannot fetch them at all.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024

Fetcher = Callable[[str], Callable[[], Awaitable[bytes]]]
# (chat id, user id) -> a check that asks Telegram whether the user administers the chat
AdminAsker = Callable[[int, int], AdminCheck]


@dataclass(frozen=True)
class Translated:
    incoming: Incoming
    chat_id: int
    user_id: int
    thread_id: int | None = None
    callback_query_id: str | None = None
    too_large: tuple[str, ...] = ()  # attachments over the Bot API's download limit


@dataclass(frozen=True)
class BotIdentity:
    id: int
    username: str


def read_update(data: dict[str, Any], bot: Bot | None) -> Update | None:
    """The update in a webhook's JSON body; None (and a log line) for one the Bot API
    library cannot read, such as a message without its `date`: answering Telegram with an
    error would only make it send the same update again."""
    try:
        return Update.de_json(data, bot)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
        log.warning(
            "telegram update %r skipped: not a readable update (%s: %s)",
            data.get("update_id"),
            type(err).__name__,
            err,
        )
        return None


def translate(
    update: Update, bot: BotIdentity, fetcher: Fetcher, admins: AdminAsker | None = None
) -> Translated | None:
    """The core event for an update, or None for updates the core has no use for
    (edits, channel posts, membership changes, another bot's commands). In a group,
    `admins` lets the core ask, only when a command needs it, whether the sender is an
    administrator of the chat (a Bot API request, so never asked up front)."""
    if update.callback_query is not None:
        return _callback(update, bot, admins)
    if update.message is not None:
        return _message(update, update.message, bot, fetcher, admins)
    return None


def _asker(
    admins: AdminAsker | None, chat_type: str, chat_id: int, user_id: int
) -> AdminCheck | None:
    if admins is None or chat_type == "private":
        return None
    return admins(chat_id, user_id)


def _callback(update: Update, bot: BotIdentity, admins: AdminAsker | None) -> Translated | None:
    query = update.callback_query
    assert query is not None
    if query.message is None or query.message.chat is None or not query.data:
        return None
    chat = query.message.chat
    thread = getattr(query.message, "message_thread_id", None) if chat.is_forum else None
    who = query.from_user
    incoming = Incoming(
        sender=_sender(who.id, who.full_name, who.language_code),
        chat=_conversation(chat.type, chat.id, chat.title, thread),
        action=query.data,
        event_id=str(update.update_id),
        mentioned=True,
        ask_sender_is_admin=_asker(admins, chat.type, chat.id, who.id),
    )
    return Translated(incoming, chat.id, query.from_user.id, thread, callback_query_id=query.id)


def _message(
    update: Update,
    message: Message,
    bot: BotIdentity,
    fetcher: Fetcher,
    admins: AdminAsker | None,
) -> Translated | None:
    sender = message.from_user
    if sender is None or sender.is_bot or message.chat is None:
        return None
    text = message.text or message.caption or ""
    if _command_for_another_bot(message, bot):
        return None
    mentioned, text = _mention(message, text, bot)
    attachments, too_large = _attachments(message, fetcher)
    thread = message.message_thread_id if message.is_topic_message else None
    incoming = Incoming(
        sender=_sender(sender.id, sender.full_name, sender.language_code),
        chat=_conversation(message.chat.type, message.chat.id, message.chat.title, thread),
        text=text,
        attachments=attachments,
        event_id=str(update.update_id),
        mentioned=mentioned,
        ask_sender_is_admin=_asker(admins, message.chat.type, message.chat.id, sender.id),
    )
    return Translated(incoming, message.chat.id, sender.id, thread, too_large=too_large)


def _sender(user_id: int, name: str, language: str | None) -> Sender:
    return Sender(PLATFORM, str(user_id), name, (language or "en").split("-")[0])


def _conversation(kind: str, chat_id: int, title: str | None, thread: int | None) -> Conversation:
    if kind == "private":
        return Conversation(PLATFORM, str(chat_id), True)
    return Conversation(
        PLATFORM,
        str(chat_id),
        False,
        title=title or "",
        thread_id=str(thread) if thread is not None else None,
    )


def _entities(message: Message) -> dict[MessageEntity, str]:
    if message.text is not None:
        return message.parse_entities()
    return message.parse_caption_entities()


def _command_for_another_bot(message: Message, bot: BotIdentity) -> bool:
    for entity, value in _entities(message).items():
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0 and "@" in value:
            return value.split("@", 1)[1].lower() != bot.username.lower()
    return False


def _mention(message: Message, text: str, bot: BotIdentity) -> tuple[bool, str]:
    """Whether the bot is addressed (an @mention, or a reply to one of its messages), and
    the text without a leading @mention."""
    handle = "@" + bot.username.lower()
    mentioned = False
    for entity, value in _entities(message).items():
        by_name = entity.type == MessageEntity.MENTION and value.lower() == handle
        by_link = entity.type == MessageEntity.TEXT_MENTION and entity.user is not None
        if by_name or (by_link and entity.user is not None and entity.user.id == bot.id):
            mentioned = True
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        mentioned = True
    stripped = text.lstrip()
    if stripped.lower().startswith(handle):
        text = stripped[len(handle) :].lstrip(" ,:")
    return mentioned, text


def _attachments(
    message: Message, fetcher: Fetcher
) -> tuple[tuple[Attachment, ...], tuple[str, ...]]:
    found: list[tuple[str, int, str, str]] = []  # name, size, mime, file_id
    if message.document is not None:
        doc = message.document
        name = doc.file_name or "document"
        mime = doc.mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        found.append((name, doc.file_size or 0, mime, doc.file_id))
    if message.photo:
        largest = message.photo[-1]
        found.append(("photo.jpg", largest.file_size or 0, "image/jpeg", largest.file_id))
    attachments = tuple(
        Attachment(name, size, mime, fetcher(file_id))
        for name, size, mime, file_id in found
        if size <= MAX_DOWNLOAD_BYTES
    )
    too_large = tuple(name for name, size, _, _ in found if size > MAX_DOWNLOAD_BYTES)
    return attachments, too_large
