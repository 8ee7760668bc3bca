"""Sign in with Google: OpenID Connect through Authlib (state, nonce and PKCE checked; the
id_token's signature checked against the provider's JWKS). The discovery URL is a setting,
so tests and other OpenID providers work the same way."""

from __future__ import annotations

import logging
from typing import Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.pages import page, sign_in_response
from api.web import Viewer, client_address, state, viewer_in, within_rate
from core.accounts.oidc import OidcClaims, user_for_oidc
from core.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
PLATFORM = "google"


def make_oauth(settings: Settings) -> OAuth | None:
    if not settings.google_client_id:
        return None
    oauth = OAuth()
    secret = settings.google_client_secret
    oauth.register(
        "google",
        client_id=settings.google_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        server_metadata_url=settings.google_discovery_url,
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
    )
    return oauth


def _client(request: Request) -> Any:
    oauth: OAuth | None = request.app.state.oauth
    if oauth is None:
        raise HTTPException(404, "Google sign-in is not configured on this server.")
    return oauth.create_client("google")


@router.get("/auth/google")
async def google_start(request: Request) -> Response:
    client = _client(request)
    web = state(request)
    limit = web.settings.signin_rate_per_minute
    if not await within_rate(web, f"signin:ip:{client_address(request)}", limit):
        raise HTTPException(429, "Too many attempts. Wait a minute and try again.")
    redirect_uri = web.settings.public_base_url.rstrip("/") + "/auth/google/callback"
    response: Response = await client.authorize_redirect(request, redirect_uri)
    return response


@router.get("/auth/google/callback")
async def google_callback(request: Request) -> Response:
    client = _client(request)
    try:
        token = await client.authorize_access_token(request)
    except (OAuthError, ValueError, KeyError) as err:
        log.info("google sign-in rejected: %s", err)
        return page(request, "error.html", 400, message="Google sign-in failed. Please try again.")
    except Exception as err:  # joserfc raises its own errors for a bad signature or claims
        log.info("google id_token rejected: %s", type(err).__name__)
        return page(request, "error.html", 400, message="Google sign-in failed. Please try again.")
    claims = token.get("userinfo")
    if not claims or not claims.get("sub"):
        return page(request, "error.html", 400, message="Google did not say who you are.")
    async with state(request).transaction() as session:
        who = await viewer_in(session, request)
        user_id = await _user_for_claims(request, session, dict(claims), who)
        return await sign_in_response(request, session, user_id, "/link" if who else "/dashboard")


async def _user_for_claims(
    request: Request, session: AsyncSession, claims: dict[str, Any], who: Viewer | None
) -> int:
    web = state(request)
    email = str(claims.get("email") or "") or None
    found = OidcClaims(
        platform=PLATFORM,
        subject=str(claims["sub"]),
        name=str(claims.get("name") or email or "Google user"),
        email=email,
        # Only a literal true: some providers send the string "false".
        email_verified=claims.get("email_verified") is True,
    )
    signed_in = who.user_id if who else None
    return await user_for_oidc(session, found, signed_in, web.now(), web.settings.default_timezone)
