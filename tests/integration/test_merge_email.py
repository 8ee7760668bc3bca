"""On a merge the email (and its password) moves to the surviving account when that account
has none; the survivor's own email wins otherwise. The browser test walks the same path
through the web pages; this one needs no browser, so it runs wherever the suite runs."""

from __future__ import annotations

from sqlalchemy import select

from core.accounts import service as accounts
from core.identity.models import Identity, User
from teddy.runtime import Runtime
from tests.support.chat_driver import ChatDriver

PASSWORD = "correct horse battery"


async def chat_user_id(core: Runtime, chat: ChatDriver) -> int:
    await chat.say("/start")
    async with core.db.transaction() as session:
        user_id = await session.scalar(
            select(Identity.user_id).where(Identity.external_id == chat.sender.external_id)
        )
    assert user_id is not None
    return user_id


async def test_a_web_account_linked_into_a_chat_account_moves_its_email_and_password(
    core: Runtime, make_chat
) -> None:  # type: ignore[no-untyped-def]
    survivor_id = await chat_user_id(core, make_chat("ana-laptop"))
    now = core.services.clock.now()
    async with core.db.transaction() as session:
        web = await accounts.sign_up(session, "Ana@Example.org", PASSWORD, "Ana")
        code = await accounts.create_link_code(session, survivor_id, now)
    async with core.db.transaction() as session:
        kept = await accounts.redeem_link_code(session, code, web.id, now)
    assert kept == survivor_id
    async with core.db.transaction() as session:
        survivor = await session.get(User, survivor_id)
        assert survivor is not None and survivor.email == "ana@example.org"
        assert await session.get(User, web.id) is None
        signed_in = await accounts.authenticate(session, "ana@example.org", PASSWORD)
        assert signed_in is not None and signed_in.id == survivor_id


async def test_a_survivor_with_its_own_email_keeps_it_and_the_other_is_dropped(
    core: Runtime,
) -> None:
    now = core.services.clock.now()
    async with core.db.transaction() as session:
        keep = await accounts.sign_up(session, "keep@example.org", PASSWORD, "Keep")
        fold = await accounts.sign_up(session, "fold@example.org", PASSWORD + "!", "Fold")
        code = await accounts.create_link_code(session, keep.id, now)
    async with core.db.transaction() as session:
        assert await accounts.redeem_link_code(session, code, fold.id, now) == keep.id
    async with core.db.transaction() as session:
        emails = list(await session.scalars(select(User.email).order_by(User.id)))
        assert emails == ["keep@example.org"]
        assert await accounts.authenticate(session, "fold@example.org", PASSWORD + "!") is None
        signed_in = await accounts.authenticate(session, "keep@example.org", PASSWORD)
        assert signed_in is not None and signed_in.id == keep.id
