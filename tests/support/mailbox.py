"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it receives, so
tests read the mail Study Teddy sent and follow its links."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from teddy.cli_up import free_port

LINK = re.compile(r"https?://\S+")


@dataclass
class Received:
    to: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None
        return str(body.get_content())  # type: ignore[attr-defined]

    def link(self) -> str:
        """The first link in the message, as a path on the app (for the test client)."""
        found = LINK.search(self.text)
        assert found, self.text
        return re.sub(r"^https?://[^/]+", "", found.group(0))


@dataclass
class Mailbox:
    messages: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(Received(list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=free_port())
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    @property
    def url(self) -> str:
        assert self._controller is not None
        return f"smtp://{self._controller.hostname}:{self._controller.port}"

    def last_to(self, address: str, timeout: float = 5.0) -> Received:
        """The newest message to `address` (waits briefly: delivery runs on another thread)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [m for m in self.messages if address in m.to]
            if found:
                return found[-1]
            time.sleep(0.05)
        raise AssertionError(f"no mail to {address}; got {[m.to for m in self.messages]}")

    def count_to(self, address: str) -> int:
        with self._lock:
            return sum(address in m.to for m in self.messages)
