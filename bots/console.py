"""The console adapter (`teddy chat`): the whole product from a terminal.

Interactive on a terminal (buttons become numbered choices); scripted with `--jsonl` or
when standard input is not a terminal (one event per input line, one JSON object per
reply). The protocol is in the README, section "The console (`teddy chat`)"."""

from __future__ import annotations

import asyncio
import contextlib
import json
import mimetypes
import sys
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bots.console_output import file_name, json_line, printable, user_files_dir, write_private
from core.chat.markup import to_plain
from core.chat.messages import Attachment, Button, Conversation, Incoming, Reply, Sender
from core.dispatch.gateway import Gateway
from core.outbox import service as outbox

PLATFORM = "console"


@dataclass
class ConsoleSession:
    core: Gateway
    user: str
    room: str | None
    jsonl: bool
    out: TextIO = field(default_factory=lambda: sys.stdout)
    files_dir: Path | None = None
    last_buttons: list[Button] = field(default_factory=list)
    sent_live: set[str] = field(default_factory=set)

    @property
    def sender(self) -> Sender:
        return Sender(PLATFORM, self.user, self.user)

    @property
    def chat(self) -> Conversation:
        if self.room is None:
            return Conversation(PLATFORM, f"dm:{self.user}", True)
        return Conversation(PLATFORM, f"room:{self.room}", False, title=self.room)

    # Input -----------------------------------------------------------------

    def incoming_from_line(self, line: str) -> Incoming | None:
        stripped = line.strip()
        if not stripped:
            return None
        if stripped.startswith("{"):
            try:
                data = json.loads(stripped)
            except json.JSONDecodeError as err:
                self.print_error(f"not valid JSON ({err.msg}); send plain text or a JSON object")
                return None
            if not isinstance(data, dict):
                self.print_error("a JSON line must be an object")
                return None
            return self.incoming_from_object(data)
        if not self.jsonl and stripped.isdigit() and 0 < int(stripped) <= len(self.last_buttons):
            return self.incoming(action=self.last_buttons[int(stripped) - 1].action)
        return self.incoming(text=stripped)

    def incoming_from_object(self, data: dict[str, Any]) -> Incoming | None:
        wrong = [
            k for k in ("text", "action", "file") if k in data and not isinstance(data[k], str)
        ]
        if wrong:
            self.print_error(f'"{wrong[0]}" must be a string')
            return None
        text = data.get("text", "")
        if "action" in data:
            return self.incoming(action=data["action"])
        if "file" in data:
            path = Path(data["file"]).expanduser()
            if not _is_file(path):
                self.print_error(f"no such file: {path}")
                return None
            return self.incoming(text=text, attachments=(file_attachment(path),))
        if text:
            return self.incoming(text=text)
        self.print_error('a JSON line needs "text", "action" or "file"')
        return None

    def incoming(
        self, *, text: str = "", action: str | None = None, attachments: tuple[Attachment, ...] = ()
    ) -> Incoming:
        return Incoming(
            self.sender,
            self.chat,
            text=text,
            action=action,
            attachments=attachments,
            mentioned=True,
        )

    # Output ----------------------------------------------------------------

    async def emit(self, reply: Reply) -> None:
        kind = reply.kind
        if reply.live_id is not None:
            kind = "edit" if reply.live_id in self.sent_live else kind
            self.sent_live.add(reply.live_id)
        # A terminal shows no images: a card's image (the /stats chart) becomes a file.
        files = self.write_files(reply.with_images_as_files())
        self.show(kind, reply.plain_text(), reply.buttons, files)

    def show(self, kind: str, text: str, buttons: list[Button], files: list[str]) -> None:
        if self.jsonl:
            record = {
                "kind": kind,
                "text": text,
                "buttons": [{"action": b.action, "label": b.label} for b in buttons],
                "files": files,
            }
            self.out.write(json_line(record))
        else:
            marker = {"edit": "(updated) ", "notification": "🔔 "}.get(kind, "")
            self.out.write(f"teddy> {marker}{printable(text)}\n")
            for i, button in enumerate(buttons, 1):
                self.out.write(f"   [{i}] {printable(button.label)}\n")
            for path in files:
                self.out.write(f"   file: {printable(path)}\n")
        self.out.flush()
        if buttons:
            self.last_buttons = buttons

    def print_error(self, message: str) -> None:
        self.show("error", message, [], [])

    def write_files(self, reply: Reply) -> list[str]:
        if not reply.files:
            return []
        directory = self.files_dir or user_files_dir(self.core.settings.home(), self.user)
        directory.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.mkdir(mode=0o700, exist_ok=True)
        paths = []
        for part in reply.files:
            path = directory / file_name(part.name)
            write_private(path, part.data)
            paths.append(str(path))
        return paths

    # Notifications ---------------------------------------------------------

    async def deliver_notifications(self) -> int:
        """Print what the outbox holds for this console user or room."""
        delivered = 0
        now = self.core.services.clock.now()
        async with self.core.db.transaction() as session:
            for message in await outbox.claim_due(
                session, PLATFORM, now, chat_id=self.chat.external_id
            ):
                buttons = [Button(b["label"], b["action"]) for b in message.buttons]
                kind = "notification"
                if message.live_id is not None:
                    kind = "edit" if message.live_id in self.sent_live else "notification"
                    self.sent_live.add(message.live_id)
                self.show(kind, to_plain(message.text), buttons, [])
                outbox.mark_delivered(message, now)
                delivered += 1
        return delivered

    # Loops -----------------------------------------------------------------

    async def run(self, stdin: TextIO, *, wait_seconds: float = 120.0) -> None:
        await self.deliver_notifications()
        if self.jsonl:
            await self.run_scripted(stdin, wait_seconds)
        else:
            await self.run_interactive(stdin)

    async def run_scripted(self, stdin: TextIO, wait_seconds: float) -> None:
        # Background work (ingestion, reminders, live updates) goes on while input waits.
        poller = asyncio.create_task(self._poll_notifications())
        try:
            async for line in read_lines(stdin):
                incoming = self.incoming_from_line(line)
                if incoming is not None:
                    await self.core.dispatcher.handle(incoming, self.emit)
                await self.deliver_notifications()
        finally:
            poller.cancel()
        await self.finish_background_work(wait_seconds)

    async def finish_background_work(self, wait_seconds: float) -> None:
        jobs = self.core.services.jobs
        drain = getattr(jobs, "drain", None)
        if drain is not None:
            await drain(timeout=wait_seconds)
        await self.deliver_notifications()

    async def run_interactive(self, stdin: TextIO) -> None:
        poller = asyncio.create_task(self._poll_notifications())
        self.out.write("Study Teddy — type /help, or /quit to leave.\n")
        lines = read_lines(stdin)
        try:
            while True:
                self.out.write("you> ")
                self.out.flush()
                line = await anext(lines, "")
                if not line or line.strip() in ("/quit", "/exit"):
                    break
                incoming = self.incoming_from_line(line)
                if incoming is not None:
                    await self.core.dispatcher.handle(incoming, self.emit)
        finally:
            poller.cancel()
        await self.finish_background_work(30)

    async def _poll_notifications(self) -> None:
        while True:
            await asyncio.sleep(2)
            await self.deliver_notifications()


async def read_lines(stdin: TextIO) -> AsyncIterator[str]:
    """The input's lines, read by a daemon thread so the event loop never blocks on them
    (and a process stopped by a signal does not wait for the next line)."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        try:
            for line in iter(stdin.readline, ""):
                loop.call_soon_threadsafe(lines.put_nowait, line)
        except (OSError, ValueError):
            pass  # input closed under us
        finally:
            with contextlib.suppress(RuntimeError):  # the loop is gone
                loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read, name="console-input", daemon=True).start()
    while (line := await lines.get()) is not None:
        yield line


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long, or with a NUL byte (found by fuzzing)
        return False


def file_attachment(path: Path) -> Attachment:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"

    async def fetch() -> bytes:
        return await asyncio.to_thread(path.read_bytes)

    return Attachment(path.name, path.stat().st_size, mime, fetch)
