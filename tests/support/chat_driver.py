"""A person talking to the core in tests (the `chat` and `make_chat` fixtures)."""

from __future__ import annotations

from core.chat.messages import Conversation, Incoming, Reply, Sender
from teddy.runtime import Runtime


class ChatDriver:
    """Talk to the core as one person would, in a DM or a room, and read the replies."""

    def __init__(
        self, core: Runtime, user: str, room: str | None = None, platform: str = "test"
    ) -> None:
        self.core = core
        self.sender = Sender(platform, user, user.title())
        if room is None:
            self.chat = Conversation(platform, f"dm-{user}", True)
        else:
            self.chat = Conversation(platform, f"room-{room}", False, title=room)

    async def send(self, text: str = "", *, action: str | None = None, **kw: object) -> list[Reply]:
        incoming = Incoming(self.sender, self.chat, text=text, action=action, mentioned=True, **kw)  # type: ignore[arg-type]
        return await self.core.dispatcher.handle(incoming)

    async def say(self, text: str) -> str:
        """Send and return the plain text of all replies joined."""
        return "\n".join(r.plain_text() for r in await self.send(text))

    async def press(self, action: str) -> list[Reply]:
        return await self.send(action=action)
