"""An export holds the person's data and none of their credentials: no calendar feed
token, link code, password or its hash, API token or its hash, session token."""

from __future__ import annotations

import json

from core.accounts import service as accounts
from core.accounts import tokens
from core.identity.models import User
from teddy.runtime import Runtime
from tests.integration.test_accounts import link_code_in, user_id_of
from tests.support.chat_driver import ChatDriver


async def test_an_export_holds_no_credential(core: Runtime, chat: ChatDriver) -> None:
    await chat.say("/task Essay fri")
    feed = await chat.say("/calendar")
    feed_token = next(w for w in feed.split() if w.endswith(".ics")).rsplit("/", 1)[1][:-4]
    link_code = link_code_in(await chat.say("/link"))
    uid = await user_id_of(core, "test", "alice")
    now = core.services.clock.now()
    async with core.db.transaction() as session:
        user = await session.get(User, uid)
        assert user is not None
        await accounts.set_password(session, user, "alice@example.org", "correct horse battery")
        password_hash = user.password_hash
        _, api_secret = await tokens.create_api_token(session, user, "script", now)
        web = await accounts.start_web_session(session, uid, now)
    replies = await chat.send("/export")
    exported = replies[0].files[0].data.decode()
    data = json.loads(exported)
    assert data["tables"]["tasks"][0]["title"] == "Essay"  # the data itself is there
    assert data["tables"]["calendar_tokens"] and data["tables"]["api_tokens"]
    secrets = {
        "calendar feed token": feed_token,
        "link code": link_code,
        "password hash": str(password_hash),
        "API token": api_secret,
        "API token hash": accounts.digest(api_secret),
        "session token": web.token,
        "session token hash": accounts.digest(web.token),
        "CSRF token": web.csrf_token,
    }
    flat = exported.replace("-", "")  # a link code may be shown with a dash in it
    leaked = [what for what, value in secrets.items() if value.replace("-", "") in flat]
    assert leaked == []
