"""Save, find and delete installations; issue and consume install states.

Tokens cross this module's boundary in plain text and are stored sealed: callers never see
ciphertext, the database never sees a token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.installations.models import Installation, InstallState
from core.installations.sealing import Sealer

STATE_BYTES = 32
MAX_STATE_LENGTH = 128


@dataclass(frozen=True)
class WorkspaceInstall:
    """One installation with its tokens in plain text (kept out of `repr`, hence logs)."""

    platform: str
    workspace_id: str
    bot_token: str = field(repr=False)
    installed_at: datetime
    workspace_name: str = ""
    organization_id: str | None = None
    org_wide: bool = False
    app_id: str | None = None
    bot_id: str | None = None
    bot_user_id: str | None = None
    refresh_token: str | None = field(default=None, repr=False)
    token_expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    installer_id: str | None = None


async def save_installation(
    session: AsyncSession, sealer: Sealer, install: WorkspaceInstall
) -> None:
    """Insert the installation, or replace the workspace's earlier one (a re-install)."""
    values = {
        "workspace_name": install.workspace_name,
        "organization_id": install.organization_id,
        "org_wide": install.org_wide,
        "app_id": install.app_id,
        "bot_id": install.bot_id,
        "bot_user_id": install.bot_user_id,
        "bot_token_sealed": sealer.seal(install.bot_token),
        "refresh_token_sealed": (
            sealer.seal(install.refresh_token) if install.refresh_token is not None else None
        ),
        "token_expires_at": install.token_expires_at,
        "scopes": ",".join(install.scopes),
        "installer_id": install.installer_id,
        "installed_at": install.installed_at,
    }
    await session.execute(
        insert(Installation)
        .values(platform=install.platform, workspace_id=install.workspace_id, **values)
        .on_conflict_do_update(index_elements=["platform", "workspace_id"], set_=values)
    )


async def find_installation(
    session: AsyncSession, sealer: Sealer, platform: str, workspace_id: str
) -> WorkspaceInstall | None:
    """The workspace's installation, tokens opened; None when the bot is not installed there.
    Raises `UnsealError` when the tokens were sealed under another SECRET_KEY."""
    row = await session.scalar(
        select(Installation).where(
            Installation.platform == platform, Installation.workspace_id == workspace_id
        )
    )
    if row is None:
        return None
    return WorkspaceInstall(
        platform=row.platform,
        workspace_id=row.workspace_id,
        bot_token=sealer.open(row.bot_token_sealed),
        installed_at=row.installed_at,
        workspace_name=row.workspace_name,
        organization_id=row.organization_id,
        org_wide=row.org_wide,
        app_id=row.app_id,
        bot_id=row.bot_id,
        bot_user_id=row.bot_user_id,
        refresh_token=(
            sealer.open(row.refresh_token_sealed) if row.refresh_token_sealed is not None else None
        ),
        token_expires_at=row.token_expires_at,
        scopes=tuple(s for s in row.scopes.split(",") if s),
        installer_id=row.installer_id,
    )


async def delete_installation(session: AsyncSession, platform: str, workspace_id: str) -> bool:
    """Forget the workspace's installation (the app was uninstalled); False if there was none."""
    deleted = await session.scalar(
        delete(Installation)
        .where(Installation.platform == platform, Installation.workspace_id == workspace_id)
        .returning(Installation.id)
    )
    return deleted is not None


async def issue_state(
    session: AsyncSession, platform: str, now: datetime, valid_for: timedelta
) -> str:
    """A new unguessable install state, good once until `now + valid_for`."""
    await session.execute(delete(InstallState).where(InstallState.expires_at <= now))
    state = secrets.token_urlsafe(STATE_BYTES)
    session.add(InstallState(state=state, platform=platform, expires_at=now + valid_for))
    await session.flush()
    return state


async def consume_state(session: AsyncSession, platform: str, state: str, now: datetime) -> bool:
    """True once for a state this platform issued that has not expired; False ever after."""
    if not state or len(state) > MAX_STATE_LENGTH:
        return False
    expires_at = await session.scalar(
        delete(InstallState)
        .where(InstallState.platform == platform, InstallState.state == state)
        .returning(InstallState.expires_at)
    )
    return expires_at is not None and expires_at > now
