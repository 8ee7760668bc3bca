"""The platform-neutral conversation model: what comes in, what goes out, and the router."""

from core.chat.context import Ctx, Services
from core.chat.messages import (
    Attachment,
    Button,
    Card,
    Conversation,
    FilePart,
    Incoming,
    Reply,
    Sender,
)
from core.chat.router import Router

__all__ = [
    "Attachment",
    "Button",
    "Card",
    "Conversation",
    "Ctx",
    "FilePart",
    "Incoming",
    "Reply",
    "Router",
    "Sender",
    "Services",
]
