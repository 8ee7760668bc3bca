"""`core.outbox.service` under its old name. Kept until bots/ and core/rooms/ import
`core.outbox` (branches topology and bridge); then delete this package."""

from core.outbox.service import (
    INSERT_ROWS,
    MAX_ATTEMPTS,
    Notice,
    after_quiet_hours,
    as_reply,
    claim_due,
    live_message_id,
    mark_delivered,
    mark_failed,
    mark_unreachable,
    notify_room,
    notify_user,
    queue_notices,
    reachable_identities,
    reachable_identity,
    remember_live_message,
)

__all__ = [
    "INSERT_ROWS",
    "MAX_ATTEMPTS",
    "Notice",
    "after_quiet_hours",
    "as_reply",
    "claim_due",
    "live_message_id",
    "mark_delivered",
    "mark_failed",
    "mark_unreachable",
    "notify_room",
    "notify_user",
    "queue_notices",
    "reachable_identities",
    "reachable_identity",
    "remember_live_message",
]
