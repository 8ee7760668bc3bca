"""Crafted links are refused with the link message, not a server error. Each of these
escaped `_user_for_token` before its fix (found by the mutation run of core/accounts,
docs/testing.md): a non-ASCII MAC made `hmac.compare_digest` raise TypeError, an expiry
past the year 9999 made `datetime.fromtimestamp` raise ValueError, and one of more than
4,300 digits made `int()` raise ValueError."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import email_links
from core.errors import BadInput
from teddy.runtime import Runtime
from tests.conftest import T0
from tests.integration.test_accounts_mutants import SECRET, new_user


@pytest.fixture
async def session(core: Runtime) -> AsyncIterator[AsyncSession]:
    async with core.db.transaction() as opened:
        yield opened


@pytest.mark.parametrize(
    "shape",
    [
        "{user_id}.{expires}." + "é" * 43,  # a MAC outside ASCII
        "{user_id}.300000000000.{mac}",  # the year 11476
        "{user_id}." + str(2**40) + ".{mac}",
        "{user_id}." + "9" * 5000 + ".{mac}",
    ],
)
async def test_a_crafted_link_for_a_real_account_is_refused_as_invalid(
    session: AsyncSession, shape: str
) -> None:
    user = await new_user(session, email="ann@example.com")
    user_id, expires, mac = email_links.make_token(SECRET, email_links.VERIFY, user, T0).split(".")
    token = shape.format(user_id=user_id, expires=expires, mac=mac)
    for check in (email_links.confirm_email, email_links.check_reset_link):
        with pytest.raises(BadInput) as error:
            await check(session, SECRET, token, T0)
        assert error.value.message == email_links.INVALID
    assert user.email_verified_at is None


async def test_a_link_made_after_2286_has_11_digits_of_expiry_and_works(
    session: AsyncSession,
) -> None:
    user = await new_user(session, email="ann@example.com")
    later = datetime(2300, 1, 1, tzinfo=UTC)
    token = email_links.make_token(SECRET, email_links.VERIFY, user, later)
    assert len(token.split(".")[1]) == 11
    assert await email_links.confirm_email(session, SECRET, token, later) is user
