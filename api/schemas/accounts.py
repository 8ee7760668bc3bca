"""Who the caller is, their tokens, linking and the export."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from core.accounts.models import ApiToken


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL: refuse it as bad input, not a database error.
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


PlainText = Annotated[str, AfterValidator(_no_nul)]


class Me(BaseModel):
    id: int
    display_name: str
    timezone: str
    email: str | None


class IdentityOut(BaseModel):
    id: int
    platform: str
    display_name: str
    last_seen_at: datetime


class TokenOut(BaseModel):
    id: int
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(
            id=token.id,
            name=token.name,
            scopes=token.scopes.split(),
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
        )


class NewToken(BaseModel):
    name: PlainText = Field(default="script", max_length=100)
    scopes: list[Literal["read", "write"]] = Field(default=["read", "write"], min_length=1)
    days: Literal[7, 30, 90, 365] = 90


class CreatedToken(TokenOut):
    token: str


class LinkCodeOut(BaseModel):
    code: str
    expires_in_seconds: int


class LinkIn(BaseModel):
    code: PlainText = Field(min_length=4, max_length=20)


class Linked(BaseModel):
    user_id: int


class ExportOut(BaseModel):
    """Everything stored about the caller: `tables` maps each table to its rows."""

    format: str
    user: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]]
    extra: dict[str, Any]
