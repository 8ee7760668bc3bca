"""Incoming events and outgoing replies, free of any platform's vocabulary."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from core.chat import markup

MAX_ACTION_BYTES = 64  # Telegram's callback_data limit, the tightest of our platforms.


@dataclass(frozen=True)
class Sender:
    """Who is speaking. `direct_address` is where a direct message can reach this person
    before they have ever written in a direct chat: an address the adapter itself
    resolves when it delivers (None: the platform cannot open direct chats on its own)."""

    platform: str
    external_id: str
    display_name: str = ""
    locale: str = "en"
    direct_address: str | None = None


@dataclass(frozen=True)
class Conversation:
    """Where a message was said: a direct chat, or a group chat/channel (a room)."""

    platform: str
    external_id: str
    is_direct: bool
    title: str = ""
    thread_id: str | None = None


@dataclass(frozen=True)
class Attachment:
    name: str
    size: int
    mime: str
    fetch: Callable[[], Awaitable[bytes]]


AdminCheck = Callable[[], Awaitable[bool | None]]


@dataclass(frozen=True)
class Incoming:
    """One event. `sender_is_admin` is the platform's word on whether the sender
    administers this conversation: True, False, or None when the adapter does not know;
    an adapter for which asking costs a request gives `ask_sender_is_admin` instead, called
    only when a command needs the answer."""

    sender: Sender
    chat: Conversation
    text: str = ""
    action: str | None = None
    attachments: Sequence[Attachment] = ()
    event_id: str | None = None
    mentioned: bool = False
    sender_is_admin: bool | None = None
    ask_sender_is_admin: AdminCheck | None = None

    async def sender_admin(self, *, ask: bool) -> bool | None:
        """The platform's word on the sender being an admin here; with `ask`, a platform
        that must be asked is asked."""
        if self.sender_is_admin is not None or not ask or self.ask_sender_is_admin is None:
            return self.sender_is_admin
        return await self.ask_sender_is_admin()


@dataclass(frozen=True)
class Button:
    label: str
    action: str

    def __post_init__(self) -> None:
        if len(self.action.encode()) > MAX_ACTION_BYTES:
            raise ValueError(f"action id longer than {MAX_ACTION_BYTES} bytes: {self.action!r}")


@dataclass(frozen=True)
class Text:
    """Text in the chat markdown subset (see core.chat.markup)."""

    text: str


@dataclass(frozen=True)
class Buttons:
    rows: tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Card:
    title: str
    fields: tuple[tuple[str, str], ...] = ()
    image: bytes | None = None
    image_name: str = "chart.png"


@dataclass(frozen=True)
class FilePart:
    name: str
    data: bytes
    mime: str


Part = Text | Buttons | Card | FilePart


@dataclass(frozen=True)
class Reply:
    """One message. A reply with a `live_id` is a live message: the first one with a given
    id is sent, later ones with the same id edit it in place."""

    parts: tuple[Part, ...]
    live_id: str | None = None
    private: bool = False
    kind: str = "reply"

    @classmethod
    def text(
        cls,
        text: str,
        buttons: Sequence[Sequence[Button]] | Sequence[Button] = (),
        *,
        live_id: str | None = None,
        private: bool = False,
    ) -> Reply:
        parts: list[Part] = [Text(text)]
        rows = normalise_rows(buttons)
        if rows:
            parts.append(Buttons(rows))
        return cls(tuple(parts), live_id=live_id, private=private)

    def with_parts(self, *parts: Part) -> Reply:
        return Reply(self.parts + parts, self.live_id, self.private, self.kind)

    @property
    def buttons(self) -> list[Button]:
        return [b for p in self.parts if isinstance(p, Buttons) for row in p.rows for b in row]

    @property
    def files(self) -> list[FilePart]:
        return [p for p in self.parts if isinstance(p, FilePart)]

    def with_images_as_files(self) -> Reply:
        """This reply with each card's image also as a file part, for a platform that
        shows no images but can hand over files (the console writes them to disk)."""
        images = [
            FilePart(p.image_name, p.image, "image/png")
            for p in self.parts
            if isinstance(p, Card) and p.image is not None
        ]
        return self.with_parts(*images) if images else self

    def plain_text(self) -> str:
        """The reply as plain text, markup removed: for the console and for tests."""
        chunks: list[str] = []
        for part in self.parts:
            if isinstance(part, Text):
                chunks.append(markup.to_plain(part.text))
            elif isinstance(part, Card):
                lines = [part.title] + [f"{k}: {markup.to_plain(v)}" for k, v in part.fields]
                chunks.append("\n".join(lines))
        return "\n\n".join(c for c in chunks if c)


def normalise_rows(
    buttons: Sequence[Sequence[Button]] | Sequence[Button],
) -> tuple[tuple[Button, ...], ...]:
    rows: list[tuple[Button, ...]] = []
    loose: list[Button] = []
    for item in buttons:
        if isinstance(item, Button):
            loose.append(item)
        else:
            rows.append(tuple(item))
    if loose:
        rows.insert(0, tuple(loose))
    return tuple(r for r in rows if r)


@dataclass
class ReplyBatch:
    """Replies collected while a handler runs (used by tests and scripted adapters)."""

    replies: list[Reply] = field(default_factory=list)

    async def __call__(self, reply: Reply) -> None:
        self.replies.append(reply)
