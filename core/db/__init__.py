"""Database access: the declarative base, the engine and the unit of work."""

from core.db.base import Base, TimestampMixin, utcnow
from core.db.engine import Database
from core.db.rowcount import rows_affected

__all__ = ["Base", "Database", "TimestampMixin", "rows_affected", "utcnow"]
