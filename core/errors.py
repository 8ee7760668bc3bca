"""Domain errors. Each carries a message meant for the student; the router turns it into
a reply and the API into an HTTP status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.chat.markup import to_plain


class TeddyError(Exception):
    """Base of every error with a user-facing message.

    `plain` says what went wrong in words that fit any edge (a web page, a REST error);
    `hint` is the chat's next step ("Send /tasks all to see them.") and `message` joins
    the two, as the chat shows it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.hint = hint
        self.message = f"{message} {hint}" if hint else message
        self._said = message
        super().__init__(self.message)

    @property
    def plain(self) -> str:
        """The message without the chat's hint or markup."""
        return to_plain(self._said)


class BadInput(TeddyError):
    """The user typed something we cannot act on; the message says the right form."""


class NotFound(TeddyError):
    """The thing asked for does not exist for this user or room."""


class Forbidden(TeddyError):
    """The acting user may not do this here."""


class ServiceUnavailable(TeddyError):
    """An outside service (LLM provider, platform) is down; nothing was lost."""


class WarmUpFirst(Exception):
    """The work needs something loaded first that takes seconds (a local model). Raised
    from inside a transaction so that the caller rolls it back, awaits `warm_up()` outside
    any transaction (holding no connection), and runs the work again."""

    def __init__(self, warm_up: Callable[[], Awaitable[None]]) -> None:
        super().__init__("load the model before this work, outside the transaction")
        self.warm_up = warm_up
