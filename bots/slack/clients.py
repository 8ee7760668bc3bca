"""Slack's Web API clients and bolt's app for many workspaces (OAuth installs)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.installations import DatabaseInstallationStore, DatabaseStateStore

# slack_sdk logs every response body at DEBUG (oauth.v2.access: a new bot token) unless its
# logger's own level is above DEBUG, whatever the handlers are set to: never log tokens.
WEB_LOG = logging.getLogger("bots.slack.web")
WEB_LOG.setLevel(logging.INFO)


@dataclass(frozen=True)
class OAuthConfig:
    """The Slack app's OAuth credentials: the app is installed into workspaces through
    /slack/install, each workspace's bot token kept (sealed) in the database."""

    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...]
    redirect_uri: str | None = None
    state_seconds: int = 600


class NotInstalled(Exception):
    """The app is not (or no longer) installed in the workspace a chat belongs to."""


def web_client(
    api_url: str, token: str | None, *, wait_out_rate_limits: bool = True
) -> AsyncWebClient:
    retries: list[AsyncRetryHandler] = (
        [AsyncRateLimitErrorRetryHandler(max_retry_count=3)] if wait_out_rate_limits else []
    )
    return AsyncWebClient(token=token, base_url=api_url, logger=WEB_LOG, retry_handlers=retries)


def oauth_app(
    oauth: OAuthConfig,
    signing_secret: str,
    client: AsyncWebClient,
    store: DatabaseInstallationStore,
    states: DatabaseStateStore,
) -> AsyncApp:
    """Bolt's app installing into workspaces through OAuth, tokens kept in `store`."""
    settings = AsyncOAuthSettings(
        client_id=oauth.client_id,
        client_secret=oauth.client_secret,
        scopes=list(oauth.scopes),
        redirect_uri=oauth.redirect_uri,
        install_page_rendering_enabled=False,  # straight on to Slack's consent page
        installation_store=store,
        state_store=states,
        state_expiration_seconds=oauth.state_seconds,
    )
    # Bolt's own authorize, with its auth.test answers cached per token (an uninstalled
    # workspace is still refused: its installation is looked up first, every time).
    authorize = AsyncInstallationStoreAuthorize(
        logger=logging.getLogger("bots.slack.authorize"),
        installation_store=store,
        client_id=oauth.client_id,
        client_secret=oauth.client_secret,
        cache_enabled=True,
        client=client,
    )
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        oauth_settings=settings,
        authorize=authorize,  # type: ignore[arg-type]  # bolt takes AsyncAuthorize objects too
    )
    app.enable_token_revocation_listeners()  # app_uninstalled, tokens_revoked
    return app
