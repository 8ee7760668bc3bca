"""Server-rendered pages: sign-in, dashboard, linking, settings, privacy."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.web import (
    PRE_CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    RowId,
    SignedIn,
    Tx,
    Viewer,
    WebState,
    anonymous_csrf,
    check_csrf,
    client_address,
    load_user,
    optional_viewer,
    set_cookie,
    state,
    templates,
    within_rate,
)
from core.accounts import email_links, tokens, userdata
from core.accounts import service as accounts
from core.accounts.mail import Mail, MailNotSent
from core.accounts.ratelimit import link_attempt_allowed
from core.accounts.service import SESSION_TTL
from core.analytics import service as analytics
from core.errors import TeddyError
from core.identity import service as identity
from core.insights import goals

router = APIRouter(include_in_schema=False)
NO_MAIL = (
    "This server cannot send email: its operator has not configured a mail server "
    "(SMTP_URL). Ask them, or sign in with Google if it is offered."
)


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("who", None)
    context.setdefault("google", bool(state(request).settings.google_client_id))
    return templates.TemplateResponse(request, name, context, status_code=status)


def anonymous_page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    token = anonymous_csrf(request)
    response = page(request, name, status, csrf=token, **context)
    set_cookie(request, response, PRE_CSRF_COOKIE, token, 3600)
    return response


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def send_mail(web: WebState, mail: Mail) -> str | None:
    """Send `mail`; a sentence for the page when it could not be sent, else None."""
    if web.mailer is None:
        return NO_MAIL
    try:
        await web.mailer.send(mail)
    except MailNotSent:
        return "The email could not be sent (the mail server did not take it). Try again later."
    return None


async def sign_in_response(
    request: Request, session: AsyncSession, user_id: int, target: str = "/dashboard"
) -> Response:
    """Start a browser session for `user_id` in the caller's transaction; the redirect that
    sets its cookie."""
    new = await accounts.start_web_session(
        session, user_id, state(request).now(), request.headers.get("user-agent", "")
    )
    response = see_other(target)
    set_cookie(request, response, SESSION_COOKIE, new.token, int(SESSION_TTL.total_seconds()))
    return response


@router.get("/")
async def home(who: Viewer | None = Depends(optional_viewer)) -> Response:
    return see_other("/dashboard" if who else "/login")


# Sign-in -----------------------------------------------------------------------------


@router.get("/login")
async def login_form(request: Request) -> Response:
    return anonymous_page(request, "login.html")


@router.post("/login")
async def login(request: Request) -> Response:
    form = await check_csrf(request, request.cookies.get(PRE_CSRF_COOKIE))
    web = state(request)
    email = form.get("email", "").strip().lower()
    limit = web.settings.signin_rate_per_minute
    if not (
        await within_rate(web, f"signin:ip:{client_address(request)}", limit)
        and await within_rate(web, f"signin:email:{email}", limit)
    ):
        return anonymous_page(
            request, "login.html", 429, error="Too many attempts. Wait a minute and try again."
        )
    async with web.transaction() as session:
        user = await accounts.authenticate(session, email, form.get("password", ""))
        if user is None:
            return anonymous_page(request, "login.html", 401, error="Wrong email or password.")
        return await sign_in_response(request, session, user.id)


@router.get("/signup")
async def signup_form(request: Request) -> Response:
    return anonymous_page(request, "signup.html")


@router.post("/signup")
async def signup(request: Request) -> Response:
    form = await check_csrf(request, request.cookies.get(PRE_CSRF_COOKIE))
    web = state(request)
    if not await within_rate(
        web, f"signin:ip:{client_address(request)}", web.settings.signin_rate_per_minute
    ):
        return anonymous_page(request, "signup.html", 429, error="Too many attempts; wait.")
    try:
        async with web.transaction() as session:
            user = await accounts.sign_up(
                session, form.get("email", ""), form.get("password", ""), form.get("name", "")
            )
            mail = email_links.confirmation_mail(
                user, web.settings.public_base_url, web.secret, web.now()
            )
            signed_in = await sign_in_response(request, session, user.id)
    except TeddyError as err:
        return anonymous_page(request, "signup.html", 400, error=err.plain)
    # After the commit: a failure shows on the settings page, with "send again".
    await send_mail(web, mail)
    return signed_in


@router.post("/logout")
async def logout(request: Request, who: SignedIn, session: Tx) -> Response:
    form = await check_csrf(request, who.csrf_token)
    if form.get("everywhere"):
        await accounts.sign_out_everywhere(session, who.user_id)
    else:
        await accounts.end_web_session(session, who.session_token)
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# Dashboard ---------------------------------------------------------------------------


@router.get("/dashboard")
async def dashboard(
    request: Request, who: SignedIn, user: CurrentUser, session: Tx, period: str = "week"
) -> Response:
    try:
        chosen = analytics.parse_period(period)
    except TeddyError:
        chosen = "week"
    now = state(request).now()
    report = await analytics.user_stats(session, user, chosen, now)
    weekly = await goals.progress(session, user, None, now)
    return page(
        request,
        "dashboard.html",
        who=who,
        report=report,
        goals=[(goals.progress_line(p), p) for p in weekly],
        # Inside <script type="application/json">: no "<" may close the element early.
        stats_json=json.dumps(report.as_dict()).replace("<", "\\u003c"),
        summary=analytics.summary_text(report),
        figures=analytics.figures(report),
    )


# Linking -----------------------------------------------------------------------------


@router.get("/link")
async def link_page(request: Request, who: SignedIn, session: Tx) -> Response:
    identities = await accounts.list_identities(session, who.user_id)
    return page(request, "link.html", who=who, identities=identities, csrf=who.csrf_token)


@router.post("/link/code")
async def make_link_code(request: Request, who: SignedIn, session: Tx) -> Response:
    await check_csrf(request, who.csrf_token)
    code = await accounts.create_link_code(session, who.user_id, state(request).now())
    identities = await accounts.list_identities(session, who.user_id)
    return page(
        request, "link.html", who=who, identities=identities, csrf=who.csrf_token, code=code
    )


@router.post("/link")
async def enter_link_code(request: Request, who: SignedIn, session: Tx) -> Response:
    form = await check_csrf(request, who.csrf_token)
    web = state(request)
    if not await link_attempt_allowed(web.redis, who.user_id, web.now()):
        raise HTTPException(429, "Too many link attempts; wait a minute.")
    try:
        async with session.begin_nested():
            await accounts.redeem_link_code(session, form.get("code", ""), who.user_id, web.now())
    except TeddyError as err:
        identities = await accounts.list_identities(session, who.user_id)
        return page(
            request,
            "link.html",
            400,
            who=who,
            identities=identities,
            csrf=who.csrf_token,
            error=err.plain,
        )
    return see_other("/link?linked=1")


@router.post("/identities/{identity_id}/unlink")
async def unlink(request: Request, identity_id: RowId, who: SignedIn, session: Tx) -> Response:
    await check_csrf(request, who.csrf_token)
    await accounts.unlink_identity(session, who.user_id, identity_id)
    return see_other("/link")


# Settings, tokens, privacy -----------------------------------------------------------


async def render_settings(
    request: Request, session: AsyncSession, who: Viewer, status: int = 200, **extra: Any
) -> Response:
    web = state(request)
    user = await load_user(session, who)
    listed = await tokens.list_api_tokens(session, who.user_id)
    return page(
        request,
        "settings.html",
        status,
        who=who,
        user=user,
        tokens=listed,
        csrf=who.csrf_token,
        can_mail=web.mailer is not None,
        token_days=tokens.TOKEN_DAYS,
        default_days=tokens.DEFAULT_TOKEN_DAYS,
        **extra,
    )


@router.get("/settings")
async def settings_page(request: Request, who: SignedIn, session: Tx) -> Response:
    return await render_settings(request, session, who)


@router.post("/settings")
async def save_settings(
    request: Request, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    form = await check_csrf(request, who.csrf_token)
    zone_before = user.timezone
    try:
        identity.update_settings(
            user,
            display_name=form.get("display_name", ""),
            timezone=form.get("timezone", user.timezone),
            quiet=form.get("quiet", "") or "off",
            digest=form.get("digest", "") or "off",
        )
    except TeddyError as err:
        return await render_settings(request, session, who, 400, error=err.plain)
    await analytics.follow_zone(session, user, zone_before)
    return see_other("/settings?saved=1")


@router.post("/tokens")
async def create_token(request: Request, who: SignedIn, user: CurrentUser, session: Tx) -> Response:
    form = await check_csrf(request, who.csrf_token)
    web = state(request)
    scopes = [s for s in tokens.SCOPE_ORDER if form.get(f"scope:{s}")]
    limit = web.settings.signin_rate_per_minute
    if form.get("password") and not await within_rate(web, f"signin:user:{who.user_id}", limit):
        return await render_settings(
            request, session, who, 429, error="Too many attempts; wait a minute."
        )
    try:
        days = int(form.get("days", "") or tokens.DEFAULT_TOKEN_DAYS)
    except ValueError:
        days = 0  # refused below with the choices
    try:
        async with session.begin_nested():
            _, secret = await tokens.create_api_token(
                session,
                user,
                form.get("name", ""),
                web.now(),
                scopes=scopes,
                days=days,
                password=form.get("password", ""),
            )
    except TeddyError as err:
        return await render_settings(request, session, who, 400, error=err.plain)
    return await render_settings(request, session, who, new_token=secret)


@router.post("/tokens/{token_id}/delete")
async def delete_token(request: Request, token_id: RowId, who: SignedIn, session: Tx) -> Response:
    await check_csrf(request, who.csrf_token)
    await tokens.delete_api_token(session, who.user_id, token_id)
    return see_other("/settings")


@router.get("/export.json")
async def export(who: SignedIn, session: Tx) -> Response:
    data = await userdata.export_user(session, who.user_id)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"content-disposition": 'attachment; filename="study-teddy-export.json"'},
    )


@router.post("/delete-account")
async def delete_account(request: Request, who: SignedIn, session: Tx) -> Response:
    form = await check_csrf(request, who.csrf_token)
    if form.get("confirm", "").strip().upper() != "DELETE":
        return await render_settings(
            request,
            session,
            who,
            400,
            error="Type DELETE in the box to confirm deleting your account.",
        )
    await userdata.delete_user(session, who.user_id)
    response = see_other("/login?deleted=1")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
