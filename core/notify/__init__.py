"""Moved to `core.outbox`. Kept until bots/ and core/rooms/ import
`core.outbox` (branches topology and bridge); then delete this package."""
