"""Linked rooms in chat: `/room link`, `/room join <code>`, `/room unlink`, `/room relay
on|off` (dispatched from `/room`), the linked chats in `/room`, and `/say <text>`."""

from __future__ import annotations

import uuid

from core.chat import Ctx, Reply, Router
from core.chat.markup import escape
from core.chat.router import Param
from core.errors import BadInput
from core.identity.models import Room
from core.identity.service import chat_room
from core.rooms import linking

router = Router()

LINK_KEYS = ("link", "join", "unlink", "relay")
RELAY_USAGE = "`/room relay on|off`: admins choose whether /say is shown in the other chats."


async def own_chat(ctx: Ctx) -> Room:
    """The room of the chat this was said in (itself, even when it joined a linked room)."""
    found = await chat_room(ctx.session, ctx.incoming.chat)
    assert found is not None  # the dispatcher made it before the handler ran
    return found


async def room_link_command(ctx: Ctx, room: Room, key: str, value: str) -> Reply:
    """The linking forms of `/room`."""
    now = ctx.clock.now()
    if key == "link":
        code, expires = await linking.create_code(ctx.session, room, ctx.user, now)
        minutes = int((expires - now).total_seconds() // 60)
        return Reply.text(
            f"Link code: `{code}` (works once, for {minutes} minutes).\n"
            f"An admin of the other chat (Telegram, Discord or Slack) sends there:\n"
            f"/room join {code}"
        )
    if key == "join":
        mine = await own_chat(ctx)
        shared = await linking.join(ctx.session, mine, ctx.user, value.strip(), now)
        labels = [linking.chat_label(c) for c in await linking.chats(ctx.session, shared)]
        return Reply.text(
            "🔗 This chat now shares one room with: "
            + ", ".join(escape(label) for label in labels if label != linking.chat_label(mine))
            + ". Focus sessions, room tasks, decks, documents and the leaderboard are shared."
        )
    if key == "unlink":
        mine = await own_chat(ctx)
        count = await linking.unlink(ctx.session, room, mine, ctx.user, now)
        if room.id != mine.id:
            return Reply.text("This chat is no longer linked: it is a room of its own again.")
        return Reply.text(f"Unlinked {count} chat{'s' if count != 1 else ''} from this room.")
    choice = value.strip().lower()
    if choice not in ("on", "off"):
        raise BadInput(RELAY_USAGE)
    await linking.set_relay(ctx.session, room, ctx.user, choice == "on")
    if choice == "on":
        return Reply.text("Relay on: /say <text> here shows your text in the other linked chats.")
    return Reply.text("Relay off: nothing said here is shown in the other chats.")


async def linked_lines(ctx: Ctx, room: Room) -> list[str]:
    """For `/room`: the chats the room spans, when there is more than one."""
    found = await linking.linked_chats(ctx.session, room, ctx.user)
    if len(found.chats) < 2:
        return []
    relay = "on (/say <text>)" if found.relay else "off"
    return [
        f"- linked chats ({len(found.chats)}): " + ", ".join(escape(c) for c in found.chats),
        f"- relay: {relay}",
    ]


@router.command(
    "say",
    usage="/say <text>",
    summary="linked rooms: show your text in the room's other chats (when the relay is on)",
    area="rooms",
    rooms_only=True,
    params=(Param("text", "what to show in the other linked chats", required=True),),
)
async def say(ctx: Ctx, args: str) -> Reply:
    assert ctx.room is not None
    key = f"say:{ctx.user.id}:{uuid.uuid4().hex}"
    count = await linking.relay(
        ctx.session, ctx.room, await own_chat(ctx), ctx.user, args, key=key, now=ctx.clock.now()
    )
    return Reply.text(f"Sent to {count} other chat{'s' if count != 1 else ''}.")
