"""Core replies as Discord messages: markdown content split at 2,000 characters, embeds for
cards, and buttons whose custom ids carry core action ids."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import discord
from discord.utils import escape_markdown, escape_mentions

from core.chat import markup
from core.chat.markup import split_text
from core.chat.messages import Buttons, Card, Reply, Text

CONTENT_LIMIT = 2000
EMBED_FIELDS = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
LABEL_LIMIT = 80
EMBEDS_PER_MESSAGE = 10
EMBED_TOTAL_LIMIT = 6000  # characters in all the embeds of one message
ACTION_PREFIX = "t:"  # custom ids are "t:<core action id>" (at most 100 characters)


def escape(text: str) -> str:
    # Line by line: discord.py's `^\s*-` lets `\s` take a leading newline, so a list item
    # after a bold heading ("**Goals**\n- ...") got its backslash before the newline,
    # shown as a stray "\" at the heading's end and the dash left a list marker.
    return "\n".join(escape_mentions(escape_markdown(line)) for line in text.split("\n"))


DISCORD_MARKDOWN = markup.Style(
    escape=escape,
    bold="**{}**",
    italic="*{}*",
    code="`{}`",
    link="[{text}]({url})",
    escape_code=lambda text: text.replace("`", "ˋ"),
)


def to_discord_markdown(text: str) -> str:
    return markup.render(text, DISCORD_MARKDOWN)


@dataclass
class Message:
    """One Discord message to send: content, embeds, buttons and files."""

    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)
    view: discord.ui.View | None = None
    files: list[discord.File] = field(default_factory=list)


def render(reply: Reply) -> list[Message]:
    """The reply as one or more messages (long text split, embeds beyond one message's limits
    in further messages); buttons go on the last. Never an empty message: the adapter edits
    live messages with the last one."""
    text = "\n\n".join(to_discord_markdown(p.text) for p in reply.parts if isinstance(p, Text))
    pieces = [p for p in split_text(text, CONTENT_LIMIT) if p.strip()] if text.strip() else []
    messages = [Message(content=piece) for piece in pieces] or [Message()]
    last = messages[-1]
    view = None
    for part in reply.parts:
        if isinstance(part, Card):
            embed, file = card_embed(part)
            if len(last.embeds) >= EMBEDS_PER_MESSAGE or _size(last.embeds) + len(embed) > (
                EMBED_TOTAL_LIMIT
            ):
                last = Message()
                messages.append(last)
            last.embeds.append(embed)
            if file is not None:
                last.files.append(file)
        elif isinstance(part, Buttons):
            view = buttons_view(part)
    last.view = view
    for file_part in reply.files:
        last.files.append(discord.File(io.BytesIO(file_part.data), filename=file_part.name))
    if not (last.content or last.embeds or last.files or (view is not None and view.children)):
        last.content = "…"  # Discord refuses a message with nothing in it
    return messages


def _size(embeds: list[discord.Embed]) -> int:
    return sum(len(e) for e in embeds)


def card_embed(card: Card) -> tuple[discord.Embed, discord.File | None]:
    embed = discord.Embed(title=card.title[:256], colour=discord.Colour.from_rgb(196, 140, 90))
    for name, value in card.fields[:EMBED_FIELDS]:
        field_name = escape(name).strip()[:FIELD_NAME_LIMIT] or "\u200b"
        field_value = to_discord_markdown(value).strip()[:FIELD_VALUE_LIMIT] or "\u200b"
        if len(embed) + len(field_name) + len(field_value) > EMBED_TOTAL_LIMIT:
            break  # the rest would make Discord refuse the whole embed
        embed.add_field(name=field_name, value=field_value, inline=len(value) < 40)
    file = None
    if card.image is not None:
        file = discord.File(io.BytesIO(card.image), filename=card.image_name)
        embed.set_image(url=f"attachment://{card.image_name}")
    return embed, file


def buttons_view(part: Buttons) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for row_index, row in enumerate(part.rows[:5]):
        for button in row[:5]:
            view.add_item(
                discord.ui.Button(
                    label=button.label.strip()[:LABEL_LIMIT] or "·",
                    custom_id=f"{ACTION_PREFIX}{button.action}",
                    style=discord.ButtonStyle.secondary,
                    row=row_index,
                )
            )
    return view
