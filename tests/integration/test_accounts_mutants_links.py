"""Accounts rules that the survivors of the second mutation run of core/accounts showed
unpinned (docs/testing.md, "Mutation testing"): what a link sent by email is bound to and
how strictly it is read, a session's stored browser name, the order of linked identities."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import email_links
from core.accounts import service as accounts
from core.accounts.models import WebSession
from core.errors import BadInput
from core.identity.models import Identity, User
from teddy.runtime import Runtime
from tests.conftest import T0
from tests.integration.test_accounts_mutants import SECRET, new_user, refused

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.fixture
async def session(core: Runtime) -> AsyncIterator[AsyncSession]:
    async with core.db.transaction() as opened:
        yield opened


async def refused_link(session: AsyncSession, token: str) -> str:
    with pytest.raises(BadInput) as error:
        await email_links.confirm_email(session, SECRET, token, T0)
    return refused(error)


# Links sent by email ----------------------------------------------------------------------


async def test_a_reset_link_dies_with_the_address_it_was_sent_to(session: AsyncSession) -> None:
    user = await new_user(session, email="ann@example.com", password_hash="a-hash")
    reset = email_links.make_token(SECRET, email_links.RESET, user, T0)
    user.email = "ann@new.org"  # same password: only the address changed
    with pytest.raises(BadInput) as error:
        await email_links.check_reset_link(session, SECRET, reset, T0)
    assert refused(error) == email_links.INVALID
    user.email = "ann@example.com"
    assert await email_links.check_reset_link(session, SECRET, reset, T0) is user


async def test_a_link_for_a_deleted_account_or_a_removed_address_is_invalid_not_a_crash(
    session: AsyncSession,
) -> None:
    gone = await new_user(session, "Gone", email="gone@example.com")
    token = email_links.make_token(SECRET, email_links.VERIFY, gone, T0)
    await session.delete(gone)
    await session.flush()
    assert await refused_link(session, token) == email_links.INVALID
    user = await new_user(session, email="ann@example.com")
    token = email_links.make_token(SECRET, email_links.VERIFY, user, T0)
    user.email = None
    assert await refused_link(session, token) == email_links.INVALID


async def test_a_link_is_read_in_ascii_digits_only(session: AsyncSession) -> None:
    """`int()` reads full-width digits too, and the MAC covers the numbers, not how they
    are written: only the ASCII check refuses a rewritten link."""
    user = await new_user(session, email="ann@example.com")
    user_id, expires, mac = email_links.make_token(SECRET, email_links.VERIFY, user, T0).split(".")
    for token in (
        f"{user_id.translate(FULLWIDTH)}.{expires}.{mac}",
        f"{user_id}.{expires.translate(FULLWIDTH)}.{mac}",
    ):
        assert await refused_link(session, token) == email_links.INVALID
    assert user.email_verified_at is None
    assert await email_links.confirm_email(session, SECRET, f"{user_id}.{expires}.{mac}", T0)


async def test_a_user_id_of_18_digits_is_read_and_one_of_19_is_refused(
    session: AsyncSession,
) -> None:
    big = await new_user(session, "Big", id=10**17, email="big@example.com")
    token = email_links.make_token(SECRET, email_links.VERIFY, big, T0)
    assert len(token.split(".")[0]) == 18
    assert await email_links.confirm_email(session, SECRET, token, T0) is big
    expires, mac = token.split(".")[1:]
    # The first fits a bigint; the second does not, and must not reach the database.
    for user_id in ("1" + "0" * 18, "9" * 19):
        assert await refused_link(session, f"{user_id}.{expires}.{mac}") == email_links.INVALID


def test_a_link_keeps_the_base_url_path_and_drops_only_trailing_slashes() -> None:
    user = User(id=7, email="ann@example.com")
    token = email_links.make_token(SECRET, email_links.VERIFY, user, T0)
    base = "https://school.example/STUDY-BOX//"
    link = email_links.link_for(base, SECRET, email_links.VERIFY, user, T0)
    assert link == f"https://school.example/STUDY-BOX/verify-email?token={token}"


# Browser sessions and identities ----------------------------------------------------------


async def test_a_session_started_without_a_browser_name_stores_none(
    session: AsyncSession,
) -> None:
    user = await new_user(session)
    started = await accounts.start_web_session(session, user.id, T0)
    row = await session.get(WebSession, accounts.digest(started.token))
    assert row is not None and row.user_agent == ""


async def test_identities_stay_in_id_order_after_a_merge_moves_an_older_one_over(
    session: AsyncSession,
) -> None:
    ann, bob = await new_user(session, "Ann"), await new_user(session, "Bob")
    older = Identity(user_id=bob.id, platform="telegram", external_id="1")
    session.add(older)
    await session.flush()
    newer = Identity(user_id=ann.id, platform="discord", external_id="2")
    session.add(newer)
    await session.flush()
    ids = [older.id, newer.id]
    code = await accounts.create_link_code(session, ann.id, T0)
    assert await accounts.redeem_link_code(session, code, bob.id, T0) == ann.id
    # The merge rewrote the older row with a new user_id, an indexed column: PostgreSQL
    # stores the new version after the newer row, in the table and in the user_id index,
    # so an unordered scan of either returns it last.
    assert [i.id for i in await accounts.list_identities(session, ann.id)] == ids
