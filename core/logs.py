"""Logging with a correlation id: one id follows a chat event through the jobs it starts.

The dispatcher binds an id per event; the job queue carries it in the task's headers and
the worker binds it again around the job, so every log line of one user action shares it.
"""

from __future__ import annotations

import json
import logging
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
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s]: %(message)s"


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Send logs to stderr as text or JSON lines, each with the correlation id."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
