"""Bolt's installation store and OAuth state store on our database.

Study Teddy asks Slack for bot scopes only: one installation per workspace (or per
organisation, for an org-wide install), re-installs replace it, and no user token is kept.
Rows are filed under a workspace key: the team id, or the enterprise id of an org-wide
install (Slack's ids say which: T… or E…)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.error import BoltError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from core.clock import Clock
from core.db import Database
from core.installations import service
from core.installations.sealing import Sealer, UnsealError
from core.installations.service import WorkspaceInstall

log = logging.getLogger(__name__)

PLATFORM = "slack"


def workspace_key(
    enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
) -> str | None:
    """The id an installation is filed under; an org-wide install has no team of its own."""
    if is_enterprise_install or team_id is None:
        return enterprise_id
    return team_id


class DatabaseInstallationStore(AsyncInstallationStore):
    def __init__(self, db: Database, sealer: Sealer) -> None:
        self.db = db
        self.sealer = sealer

    @property
    def logger(self) -> logging.Logger:
        return log

    async def find(self, workspace: str) -> WorkspaceInstall | None:
        """The workspace's installation; None when there is none or it cannot be opened."""
        try:
            async with self.db.transaction() as session:
                return await service.find_installation(session, self.sealer, PLATFORM, workspace)
        except UnsealError:
            log.error(
                "the bot token of Slack workspace %s cannot be opened (SECRET_KEY changed?): "
                "install the app there again",
                workspace,
            )
            return None

    async def async_save(self, installation: Installation) -> None:
        if not installation.bot_token:
            raise BoltError("Study Teddy needs a bot token: install it with bot scopes")
        async with self.db.transaction() as session:
            await service.save_installation(session, self.sealer, _from_installation(installation))
        log.info(
            "Slack app installed in %s (%s)",
            installation.team_name or installation.enterprise_name,
            workspace_key(
                installation.enterprise_id,
                installation.team_id,
                installation.is_enterprise_install,
            ),
        )

    async def async_save_bot(self, bot: Bot) -> None:
        """Bolt's token rotation saves the refreshed bot token here."""
        key = workspace_key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        current = await self.find(key) if key is not None else None
        if current is None:
            return
        refreshed = replace(
            current,
            bot_token=bot.bot_token,
            refresh_token=bot.bot_refresh_token,
            token_expires_at=_datetime(bot.bot_token_expires_at),
        )
        async with self.db.transaction() as session:
            await service.save_installation(session, self.sealer, refreshed)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        key = workspace_key(enterprise_id, team_id, is_enterprise_install)
        found = await self.find(key) if key is not None else None
        return _to_bot(found) if found is not None else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        key = workspace_key(enterprise_id, team_id, is_enterprise_install)
        found = await self.find(key) if key is not None else None
        if found is None or (user_id is not None and user_id != found.installer_id):
            return None  # no user installs are kept: only the installer's row exists
        return _to_installation(found)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        key = workspace_key(enterprise_id, team_id)
        if key is None:
            return
        async with self.db.transaction() as session:
            deleted = await service.delete_installation(session, PLATFORM, key)
        if deleted:
            log.info("Slack app removed from %s: its bot token is forgotten", key)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if user_id is None:  # a revoked user token was never stored: nothing to forget
            await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)


class DatabaseStateStore(AsyncOAuthStateStore):
    """OAuth states: issued when the installer leaves for Slack, consumed once when they come
    back, refused after `expiration_seconds`."""

    def __init__(self, db: Database, clock: Clock, expiration_seconds: int = 600) -> None:
        self.db = db
        self.clock = clock
        self.valid_for = timedelta(seconds=expiration_seconds)

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        async with self.db.transaction() as session:
            return await service.issue_state(session, PLATFORM, self.clock.now(), self.valid_for)

    async def async_consume(self, state: str) -> bool:
        async with self.db.transaction() as session:
            return await service.consume_state(session, PLATFORM, state, self.clock.now())


def _from_installation(installation: Installation) -> WorkspaceInstall:
    key = workspace_key(
        installation.enterprise_id, installation.team_id, installation.is_enterprise_install
    )
    if key is None or installation.bot_token is None:
        raise BoltError("an installation without a workspace or a bot token cannot be kept")
    return WorkspaceInstall(
        platform=PLATFORM,
        workspace_id=key,
        bot_token=installation.bot_token,
        installed_at=datetime.fromtimestamp(installation.installed_at, UTC),
        workspace_name=installation.team_name or installation.enterprise_name or "",
        organization_id=installation.enterprise_id,
        org_wide=bool(installation.is_enterprise_install),
        app_id=installation.app_id,
        bot_id=installation.bot_id,
        bot_user_id=installation.bot_user_id,
        refresh_token=installation.bot_refresh_token,
        token_expires_at=_datetime(installation.bot_token_expires_at),
        scopes=tuple(installation.bot_scopes or ()),
        installer_id=installation.user_id,
    )


def _to_installation(found: WorkspaceInstall) -> Installation:
    return Installation(**_bot_fields(found), user_id=found.installer_id or "")


def _to_bot(found: WorkspaceInstall) -> Bot:
    fields = _bot_fields(found)
    fields.update(bot_id=found.bot_id or "", bot_user_id=found.bot_user_id or "")
    return Bot(**fields)


def _bot_fields(found: WorkspaceInstall) -> dict[str, Any]:
    """What bolt's `Installation` and `Bot` share."""
    return {
        "app_id": found.app_id,
        "enterprise_id": found.organization_id,
        "team_id": None if found.org_wide else found.workspace_id,
        "team_name": found.workspace_name,
        "bot_token": found.bot_token,
        "bot_id": found.bot_id,
        "bot_user_id": found.bot_user_id,
        "bot_scopes": list(found.scopes),
        "bot_refresh_token": found.refresh_token,
        "bot_token_expires_at": found.token_expires_at,
        "is_enterprise_install": found.org_wide,
        "installed_at": found.installed_at.timestamp(),
    }


def _datetime(epoch: int | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


def chat_key(workspace: str | None, local_id: str) -> str:
    """The id the core knows a Slack channel or user by: the workspace's prefix when the app
    serves many workspaces, the bare Slack id when it serves one."""
    return local_id if workspace is None else f"{workspace}:{local_id}"


def split_key(key: str) -> tuple[str | None, str]:
    """(workspace, Slack id) of a `chat_key`."""
    workspace, sep, local_id = key.rpartition(":")
    return (workspace or None, local_id) if sep else (None, key)


def workspace_of(key: str) -> str:
    """Slack's rate limits and its 429 pauses are per workspace: the deliverer's tenant."""
    return split_key(key)[0] or ""
