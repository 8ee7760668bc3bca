"""Domain errors. Each carries a message meant for the student; the router turns it into
a reply and the API into an HTTP status."""

from __future__ import annotations


class TeddyError(Exception):
    """Base of every error with a user-facing message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(TeddyError):
    """The user typed something we cannot act on; the message says the right form."""


class NotFound(TeddyError):
    """The thing asked for does not exist for this user or room."""


class Forbidden(TeddyError):
    """The acting user may not do this here."""


class ServiceUnavailable(TeddyError):
    """An outside service (LLM provider, platform) is down; nothing was lost."""
