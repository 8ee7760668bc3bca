"""Discord's people, channels and files as the core's neutral model."""

from __future__ import annotations

from typing import Any

import discord

from core.chat.messages import Attachment, Conversation, Sender

PLATFORM = "discord"
# A person's direct address until a DM channel with them is open: "@<user id>".
USER_ADDRESS = "@"


def sender_of(user: discord.abc.User) -> Sender:
    return Sender(
        PLATFORM, str(user.id), user.display_name, direct_address=f"{USER_ADDRESS}{user.id}"
    )


def is_admin(permissions: discord.Permissions) -> bool:
    """Discord's own word for someone who runs a server or channel."""
    return permissions.administrator or permissions.manage_guild or permissions.manage_channels


def interaction_admin(interaction: discord.Interaction[Any]) -> bool | None:
    if interaction.guild_id is None:
        return None  # a DM: nobody administers it
    return is_admin(interaction.permissions)


def member_admin(channel: Any, author: discord.abc.User) -> bool | None:
    if not isinstance(channel, discord.abc.GuildChannel) or not isinstance(author, discord.Member):
        return None
    return is_admin(channel.permissions_for(author))


def conversation_of(channel: Any) -> Conversation:
    if channel is None:
        return Conversation(PLATFORM, "unknown", True)
    is_dm = getattr(channel, "guild", None) is None
    name = getattr(channel, "name", "") or ""
    return Conversation(PLATFORM, str(channel.id), is_dm, title=f"#{name}" if name else "")


def attachment_of(attachment: discord.Attachment) -> Attachment:
    return Attachment(
        attachment.filename, attachment.size, attachment.content_type or "", attachment.read
    )
