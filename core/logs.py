"""Logging with a correlation id: one id follows a chat event through the jobs it starts.

The dispatcher binds an id per event; the job queue carries it in the task's headers and
the worker binds it again around the job, so every log line of one user action shares it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

correlation_id: ContextVar[str | None] = ContextVar("teddy_correlation_id", default=None)

# Extra attributes (passed with `log.info(..., extra={...})`) that the JSON format keeps.
EXTRA_FIELDS = ("job", "task_id", "attempt", "child", "pid")


def new_correlation_id() -> str:
    return uuid.uuid4().hex[:16]


@contextmanager
def correlation(value: str | None = None) -> Iterator[str]:
    """Bind `value` (or the id already bound, or a new one) for the enclosed code."""
    bound = value or correlation_id.get() or new_correlation_id()
    token = correlation_id.set(bound)
    try:
        yield bound
    finally:
        correlation_id.reset(token)


class CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", None) or correlation_id.get(),
        }
        for name in EXTRA_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_text:  # already formatted (and redacted) by RedactingFilter
            entry["exc"] = record.exc_text
        elif record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s]: %(message)s"

REDACTED = "<redacted>"
# Libraries that log every request URL at INFO; Telegram's Bot API puts the bot token in
# each URL ("/bot<token>/getUpdates").
QUIET_LOGGERS = ("httpx", "httpcore", "telegram")
_SECRETS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Telegram bot tokens, bare or in a Bot API URL: <bot id>:<35 characters>.
    (re.compile(r"(bot)?(\d{3,}):[A-Za-z0-9_-]{30,}"), rf"\1\2:{REDACTED}"),
    # Slack bot, user, app-level and refresh tokens.
    (re.compile(r"\bxox[a-z]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+"), REDACTED),
    # Discord bot tokens: <base64 id>.<timestamp>.<hmac>.
    (re.compile(r"\b[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}"), REDACTED),
    # Bearer credentials, and our API tokens wherever they appear.
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), rf"\1{REDACTED}"),
    (re.compile(r"\btt_[A-Za-z0-9_-]{20,}"), f"tt_{REDACTED}"),
    # OAuth redirects and anything else secret carried in a query string or a form.
    (
        re.compile(
            r"(?i)([?&;](?:code|state|token|access_token|refresh_token|id_token|"
            r"client_secret|password|secret)=)[^&#\s\"']+"
        ),
        rf"\1{REDACTED}",
    ),
    # The same parameters as a library logs them parsed: {'code': ['…'], "state": "…"}.
    (
        re.compile(
            r"""(?i)(["'](?:code|state|token|access_token|refresh_token|id_token|"""
            r"""client_secret|bot_token|user_token|password|secret)["']\s*:\s*\[?\s*["'])"""
            r"""[^"']+"""
        ),
        rf"\1{REDACTED}",
    ),
    # Discord interaction and webhook tokens, and Slack's response URLs: each lets anyone
    # holding it post as the bot for a while.
    (re.compile(r"(/(?:interactions|webhooks)/\d+/)[A-Za-z0-9_.-]+"), rf"\1{REDACTED}"),
    (re.compile(r"(hooks\.slack\.com/[a-z]+/)[^\s\"'<>]+"), rf"\1{REDACTED}"),
    # A calendar feed URL is its own secret.
    (re.compile(r"(/calendar/)[A-Za-z0-9_%-]+(\.ics)"), rf"\1{REDACTED}\2"),
    # password=..., "password": "...", passwd: ... in messages and reprs.
    (
        re.compile(r"""(?i)((?:password|passwd|client_secret)["']?\s*[=:]\s*["']?)[^\s&"',}]+"""),
        rf"\1{REDACTED}",
    ),
)


def redact(text: str) -> str:
    """`text` with the secrets we know the shape of replaced by <redacted>."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Removes tokens, OAuth codes, feed URLs and passwords from every record a handler
    writes: its message, its arguments and its traceback (an HTTP error's text holds the
    URL it failed on)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let logging report it as it would
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Send logs to stderr as text or JSON lines, each with the correlation id and with
    secrets redacted. HTTP servers log through these handlers too (uvicorn is started
    without a logging config of its own), so access logs are redacted as well."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(CorrelationFilter())
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
