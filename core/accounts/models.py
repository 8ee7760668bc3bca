from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its hash is stored, so a
    database leak does not hand out sessions."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class ApiToken(Base):
    """A bearer token for the user's own scripts (REST API under /api/v1): what it may do
    (space-separated scopes) and until when."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    scopes: Mapped[str] = mapped_column(String(200), server_default="read write")
    expires_at: Mapped[datetime]
    # The token that minted this one (None: made on the web page); revoking it revokes this.
    # A plain id, not a foreign key: the account tables stay flat for merge/export/delete.
    parent_id: Mapped[int | None] = mapped_column(BigInteger, index=True)


class LinkCode(Base):
    """A short-lived, single-use code that joins the account that made it with the account
    that enters it."""

    __tablename__ = "link_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # The API token that made the code, if one did: revoking the token voids the code.
    token_id: Mapped[int | None] = mapped_column(BigInteger)
