"""The sweep that removes expired browser sessions, API tokens and link codes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from core.accounts.models import ApiToken, LinkCode, WebSession
from core.jobs import JobContext, periodic

SWEEP_EXPIRED = "accounts.sweep_expired"


@periodic(SWEEP_EXPIRED, timedelta(hours=1))
async def sweep_expired(jc: JobContext) -> None:
    now = jc.services.clock.now()
    async with jc.db.transaction() as session:
        await session.execute(delete(WebSession).where(WebSession.expires_at <= now))
        await session.execute(delete(LinkCode).where(LinkCode.expires_at <= now))
        await session.execute(delete(ApiToken).where(ApiToken.expires_at <= now))
