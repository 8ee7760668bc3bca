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
ACTION_PREFIX = "t:"  # custom ids are "t:<core action id>" (at most 100 characters)


def escape(text: str) -> str:
    return escape_mentions(escape_markdown(text))


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
    """The reply as one or more messages (long text split); buttons and embeds go on the last."""
    text = "\n\n".join(to_discord_markdown(p.text) for p in reply.parts if isinstance(p, Text))
    pieces = split_text(text, CONTENT_LIMIT) if text else [""]
    messages = [Message(content=piece) for piece in pieces]
    last = messages[-1]
    for part in reply.parts:
        if isinstance(part, Card):
            embed, file = card_embed(part)
            last.embeds.append(embed)
            if file is not None:
                last.files.append(file)
        elif isinstance(part, Buttons):
            last.view = buttons_view(part)
    for file_part in reply.files:
        last.files.append(discord.File(io.BytesIO(file_part.data), filename=file_part.name))
    return messages


def card_embed(card: Card) -> tuple[discord.Embed, discord.File | None]:
    embed = discord.Embed(title=card.title[:256], colour=discord.Colour.from_rgb(196, 140, 90))
    for name, value in card.fields[:EMBED_FIELDS]:
        embed.add_field(
            name=escape(name)[:FIELD_NAME_LIMIT] or "\u200b",
            value=to_discord_markdown(value)[:FIELD_VALUE_LIMIT] or "\u200b",
            inline=len(value) < 40,
        )
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
                    label=button.label[:LABEL_LIMIT],
                    custom_id=f"{ACTION_PREFIX}{button.action}",
                    style=discord.ButtonStyle.secondary,
                    row=row_index,
                )
            )
    return view
