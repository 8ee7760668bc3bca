"""`core.outbox.models` under its old name. Kept until bots/ and core/rooms/ import
`core.outbox` (branches topology and bridge); then delete this package."""

from core.outbox.models import LiveMessage, OutboxMessage

__all__ = ["LiveMessage", "OutboxMessage"]
