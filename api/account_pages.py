"""Pages for the sign-in itself: confirming the address, forgotten passwords, changing the
email or password."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.pages import (
    NO_MAIL,
    anonymous_page,
    page,
    render_settings,
    see_other,
    send_mail,
    sign_in_response,
)
from api.web import (
    PRE_CSRF_COOKIE,
    Viewer,
    check_csrf,
    client_address,
    load_user,
    state,
    viewer,
    within_rate,
)
from core.accounts import email_links
from core.accounts import service as accounts
from core.errors import TeddyError

router = APIRouter(include_in_schema=False)
SENT = (
    "If an account uses {email}, a link to choose a new password is on its way "
    "(it works once, for 1 hour). Check the spam folder too."
)


def _notice(request: Request, status: int, title: str, message: str) -> Response:
    return page(request, "notice.html", status, title=title, message=message)


async def _settings(request: Request, who: Viewer, status: int, error: str) -> Response:
    # These routes send mail only after their change is committed, so they keep their own
    # transactions instead of the request's one.
    async with state(request).transaction() as session:
        return await render_settings(request, session, who, status, error=error)


# Confirming the address ----------------------------------------------------------------


@router.get("/verify-email")
async def verify_email(request: Request, token: str = "") -> Response:
    web = state(request)
    try:
        async with web.transaction() as session:
            user = await email_links.confirm_email(session, web.secret, token, web.now())
            address = user.email
    except TeddyError as err:
        return _notice(request, 400, "Link not valid", err.plain)
    return _notice(request, 200, "Email confirmed", f"Thank you: {address} is confirmed.")


@router.post("/settings/verify")
async def resend_verification(request: Request, who: Viewer = Depends(viewer)) -> Response:
    await check_csrf(request, who.csrf_token)
    web = state(request)
    if not await within_rate(web, f"mail:{who.user_id}", 3):
        return await _settings(request, who, 429, error="Wait a minute before asking again.")
    async with web.transaction() as session:
        user = await load_user(session, who)
        if user.email is None or user.email_verified_at is not None:
            return see_other("/settings")
        mail = email_links.confirmation_mail(
            user, web.settings.public_base_url, web.secret, web.now()
        )
    problem = await send_mail(web, mail)
    if problem:
        return await _settings(request, who, 503, error=problem)
    return see_other("/settings?sent=1")


# Changing the email or password ---------------------------------------------------------


@router.post("/settings/sign-in")
async def change_sign_in(request: Request, who: Viewer = Depends(viewer)) -> Response:
    form = await check_csrf(request, who.csrf_token)
    web = state(request)
    if not await within_rate(
        web, f"signin:user:{who.user_id}", web.settings.signin_rate_per_minute
    ):
        return await _settings(request, who, 429, error="Too many attempts; wait a minute.")
    try:
        async with web.transaction() as session:
            user = await load_user(session, who)
            change = await accounts.change_sign_in(
                session,
                user,
                current_password=form.get("current_password", ""),
                email=form.get("email", ""),
                new_password=form.get("new_password", ""),
                keep_session=who.session_token,
            )
            mail = None
            if change.email_changed:
                mail = email_links.confirmation_mail(
                    user, web.settings.public_base_url, web.secret, web.now()
                )
    except TeddyError as err:
        return await _settings(request, who, 400, error=err.plain)
    problem = await send_mail(web, mail) if mail is not None else None
    if problem:
        return await _settings(request, who, 200, error=f"Saved. {problem}")
    return see_other("/settings?saved=1")


# Forgotten password --------------------------------------------------------------------


def _forgot_page(request: Request, status: int = 200, **context: Any) -> Response:
    return anonymous_page(
        request, "forgot.html", status, can_mail=state(request).mailer is not None, **context
    )


@router.get("/forgot-password")
async def forgot_form(request: Request) -> Response:
    return _forgot_page(request)


@router.post("/forgot-password")
async def forgot(request: Request) -> Response:
    form = await check_csrf(request, request.cookies.get(PRE_CSRF_COOKIE))
    web = state(request)
    if web.mailer is None:
        return _forgot_page(request, 503, error=NO_MAIL)
    email = form.get("email", "").strip().lower()
    limit = web.settings.signin_rate_per_minute
    if not (
        await within_rate(web, f"signin:ip:{client_address(request)}", limit)
        and await within_rate(web, f"reset:email:{email}", 3)
    ):
        return _forgot_page(request, 429, error="Too many attempts. Wait a minute and try again.")
    async with web.transaction() as session:
        mail = await email_links.password_reset_mail(
            session, email, web.settings.public_base_url, web.secret, web.now()
        )
    problem = await send_mail(web, mail) if mail is not None else None
    if problem:
        return _forgot_page(request, 503, error=problem)
    return _forgot_page(request, sent=SENT.format(email=email))


@router.get("/reset-password")
async def reset_form(request: Request, token: str = "") -> Response:
    web = state(request)
    try:
        async with web.transaction() as session:
            user = await email_links.check_reset_link(session, web.secret, token, web.now())
            email = user.email
    except TeddyError as err:
        return _notice(request, 400, "Link not valid", err.plain)
    return anonymous_page(request, "reset.html", token=token, email=email)


@router.post("/reset-password")
async def reset(request: Request) -> Response:
    form = await check_csrf(request, request.cookies.get(PRE_CSRF_COOKIE))
    web = state(request)
    token = form.get("token", "")
    limit = web.settings.signin_rate_per_minute
    if not await within_rate(web, f"signin:ip:{client_address(request)}", limit):
        return _notice(request, 429, "Too many attempts", "Wait a minute and try again.")
    try:
        async with web.transaction() as session:
            user = await email_links.reset_password(
                session, web.secret, token, form.get("password", ""), web.now()
            )
            return await sign_in_response(request, session, user.id, "/settings?reset=1")
    except TeddyError as err:
        if err.plain == email_links.INVALID:
            return _notice(request, 400, "Link not valid", err.plain)
        return anonymous_page(request, "reset.html", 400, token=token, error=err.plain)
