"""Database access: the declarative base, the engine and the unit of work."""

from core.db.base import Base, TimestampMixin, utcnow
from core.db.engine import Database

__all__ = ["Base", "Database", "TimestampMixin", "utcnow"]
