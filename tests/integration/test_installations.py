"""Bolt's installation and state stores on the real database: what bolt saves it finds
again for the right workspace only, re-installs replace, tokens are sealed, states are good
once and expire."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import func, select, text

from bots.slack.installations import DatabaseInstallationStore, DatabaseStateStore
from core.clock import FixedClock
from core.installations import service
from core.installations.models import Installation as InstallationRow
from core.installations.models import InstallState
from core.installations.sealing import Sealer
from teddy.runtime import Runtime


def slack_install(team: str | None, token: str, **kw: object) -> Installation:
    values: dict[str, object] = {
        "app_id": "A1",
        "team_id": team,
        "team_name": f"Team {team}",
        "bot_token": token,
        "bot_id": "B1",
        "bot_user_id": "UBOT",
        "bot_scopes": ["commands", "chat:write"],
        "user_id": "UADMIN",
        "installed_at": 1_790_000_000.0,
        **kw,
    }
    return Installation(**values)  # type: ignore[arg-type]


@pytest.fixture
def store(core: Runtime) -> DatabaseInstallationStore:
    return DatabaseInstallationStore(core.db, Sealer(core.settings.resolved_secret_key()))


async def rows(core: Runtime) -> int:
    async with core.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(InstallationRow)) or 0)


async def test_an_installation_is_found_for_its_workspace_only(
    store: DatabaseInstallationStore,
) -> None:
    await store.async_save(slack_install("TA", "xoxb-A"))
    await store.async_save(slack_install("TB", "xoxb-B"))
    found = await store.async_find_installation(enterprise_id=None, team_id="TA")
    assert found is not None
    assert (found.team_id, found.bot_token, found.bot_user_id) == ("TA", "xoxb-A", "UBOT")
    assert found.bot_scopes == ["commands", "chat:write"] and found.user_id == "UADMIN"
    bot = await store.async_find_bot(enterprise_id=None, team_id="TB")
    assert bot is not None and bot.bot_token == "xoxb-B"
    assert await store.async_find_bot(enterprise_id=None, team_id="TC") is None
    assert "xoxb" not in repr(await store.find("TA"))


async def test_reinstalling_replaces_the_token_and_keeps_one_row(
    core: Runtime, store: DatabaseInstallationStore
) -> None:
    await store.async_save(slack_install("TA", "xoxb-old"))
    await store.async_save(slack_install("TA", "xoxb-new", user_id="UOTHER"))
    found = await store.find("TA")
    assert found is not None and (found.bot_token, found.installer_id) == ("xoxb-new", "UOTHER")
    assert await rows(core) == 1


async def test_only_the_installer_has_a_user_installation(
    store: DatabaseInstallationStore,
) -> None:
    await store.async_save(slack_install("TA", "xoxb-A"))
    mine = await store.async_find_installation(enterprise_id=None, team_id="TA", user_id="UADMIN")
    theirs = await store.async_find_installation(enterprise_id=None, team_id="TA", user_id="U2")
    assert mine is not None and theirs is None


async def test_an_org_wide_install_is_found_by_its_organisation(
    store: DatabaseInstallationStore,
) -> None:
    await store.async_save(
        slack_install(None, "xoxb-org", enterprise_id="E1", is_enterprise_install=True)
    )
    bot = await store.async_find_bot(enterprise_id="E1", team_id="T9", is_enterprise_install=True)
    assert bot is not None and bot.bot_token == "xoxb-org" and bot.is_enterprise_install
    assert await store.async_find_bot(enterprise_id="E1", team_id="T9") is None


async def test_revoking_a_user_token_keeps_the_bot_and_uninstalling_removes_it(
    core: Runtime, store: DatabaseInstallationStore
) -> None:
    await store.async_save(slack_install("TA", "xoxb-A"))
    await store.async_save(slack_install("TB", "xoxb-B"))
    await store.async_delete_installation(enterprise_id=None, team_id="TA", user_id="UADMIN")
    assert await rows(core) == 2
    await store.async_delete_all(enterprise_id=None, team_id="TA")
    assert await store.find("TA") is None and await store.find("TB") is not None


async def test_a_rotated_bot_token_is_saved_in_place(store: DatabaseInstallationStore) -> None:
    await store.async_save(slack_install("TA", "xoxe.xoxb-1", bot_refresh_token="xoxe-1"))
    rotated = Bot(
        team_id="TA",
        bot_token="xoxe.xoxb-2",
        bot_id="B1",
        bot_user_id="UBOT",
        bot_refresh_token="xoxe-2",
        bot_token_expires_at=1_790_043_200,
        installed_at=1_790_000_000.0,
    )
    await store.async_save_bot(rotated)
    found = await store.find("TA")
    assert found is not None
    assert (found.bot_token, found.refresh_token) == ("xoxe.xoxb-2", "xoxe-2")
    assert found.token_expires_at is not None and found.installer_id == "UADMIN"


async def test_tokens_are_sealed_and_another_key_cannot_open_them(
    core: Runtime, store: DatabaseInstallationStore, caplog: pytest.LogCaptureFixture
) -> None:
    await store.async_save(slack_install("TA", "xoxb-A", bot_refresh_token="xoxe-r"))
    async with core.db.transaction() as session:
        sealed = (
            await session.execute(
                text("SELECT bot_token_sealed, refresh_token_sealed FROM installations")
            )
        ).one()
    assert not any("xox" in value for value in sealed)
    other = DatabaseInstallationStore(core.db, Sealer("a different secret key"))
    with caplog.at_level(logging.ERROR):
        assert await other.async_find_bot(enterprise_id=None, team_id="TA") is None
    assert "cannot be opened" in caplog.text and "xoxb" not in caplog.text


async def test_a_state_is_good_once_and_only_until_it_expires(
    core: Runtime, clock: FixedClock
) -> None:
    states = DatabaseStateStore(core.db, clock, expiration_seconds=600)
    state = await states.async_issue()
    assert len(state) >= 40
    assert await states.async_consume(state) is True
    assert await states.async_consume(state) is False
    late = await states.async_issue()
    clock.advance(timedelta(seconds=601))
    assert await states.async_consume(late) is False
    assert await states.async_consume("") is False
    assert await states.async_consume("x" * 10_000) is False


async def test_states_belong_to_their_platform_and_expired_ones_are_purged(
    core: Runtime, clock: FixedClock
) -> None:
    async with core.db.transaction() as session:
        other = await service.issue_state(session, "elsewhere", clock.now(), timedelta(minutes=1))
    states = DatabaseStateStore(core.db, clock)
    assert await states.async_consume(other) is False
    clock.advance(timedelta(minutes=2))
    await states.async_issue()
    async with core.db.transaction() as session:
        left = list(await session.scalars(select(InstallState.platform)))
    assert left == ["slack"]
