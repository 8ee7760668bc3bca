"""Accounts rule by rule, through the service functions the web pages, the REST API and
chat share: addresses, passwords, browser sessions, identities, link codes, API tokens,
Google sign-in, the attempt counter and the links sent by email. Written against the
survivors of a mutation run of core/accounts (docs/testing.md); each test states a rule."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import email_links, ratelimit, tokens
from core.accounts import service as accounts
from core.accounts.models import ApiToken, LinkCode, WebSession
from core.accounts.oidc import OidcClaims, user_for_oidc
from core.errors import BadInput, Forbidden, NotFound
from core.identity.models import Identity, User
from teddy.runtime import Runtime
from tests.conftest import T0

PASSWORD = "correct horse battery"
SECRET = "test-secret-key-not-for-production"


@pytest.fixture
async def session(core: Runtime) -> AsyncIterator[AsyncSession]:
    async with core.db.transaction() as opened:
        yield opened


async def new_user(session: AsyncSession, name: str = "Ann", **fields: object) -> User:
    user = User(display_name=name, **fields)
    session.add(user)
    await session.flush()
    return user


async def count(session: AsyncSession, model: type[object], *where: object) -> int:
    query = select(func.count()).select_from(model)
    for condition in where:
        query = query.where(condition)  # type: ignore[arg-type]
    return int(await session.scalar(query) or 0)


def refused(error: pytest.ExceptionInfo[BadInput]) -> str:
    return error.value.message


# Addresses and passwords ------------------------------------------------------------------


def test_digest_is_the_hex_sha256_of_the_secret() -> None:
    assert accounts.digest("abc") == hashlib.sha256(b"abc").hexdigest()


@pytest.mark.parametrize(
    "address",
    [
        "no-at-sign",
        "@example.com",
        "@ann@example.com",  # nothing before the first "@", whatever follows it
        "ann@localhost",
        "ann@",
        "a@" + "b" * 316 + ".io",
    ],
)
def test_what_is_not_an_email_address_is_refused(address: str) -> None:
    with pytest.raises(BadInput) as error:
        accounts.normalise_email(address)
    assert refused(error) == "That does not look like an email address."


def test_an_address_is_trimmed_and_lower_cased_and_320_characters_fit() -> None:
    assert accounts.normalise_email("  Ann@Example.COM ") == "ann@example.com"
    longest = "a@" + "b" * 315 + ".io"
    assert len(longest) == 320 and accounts.normalise_email(longest) == longest


def test_a_password_needs_10_to_1000_characters() -> None:
    with pytest.raises(BadInput) as error:
        accounts.hash_password("x" * 9)
    assert refused(error) == "Use a password of at least 10 characters."
    with pytest.raises(BadInput) as error:
        accounts.hash_password("x" * 1001)
    assert refused(error) == "Use a password of at most 1000 characters."
    for length in (10, 1000):
        hashed = accounts.hash_password("x" * length)
        assert PasswordHasher().verify(hashed, "x" * length)


async def test_a_password_matches_only_its_own_hash(session: AsyncSession) -> None:
    user = await new_user(session, password_hash=accounts.hash_password(PASSWORD))
    assert accounts.password_matches(user, PASSWORD) is True
    assert accounts.password_matches(user, PASSWORD + "!") is False
    user.password_hash = "not an argon2 hash"
    assert accounts.password_matches(user, PASSWORD) is False
    user.password_hash = None
    assert accounts.password_matches(user, PASSWORD) is False


async def test_sign_up_stores_the_tidied_address_and_name(session: AsyncSession) -> None:
    user = await accounts.sign_up(session, " Ann@Example.com ", PASSWORD, "  Ann  Lee ")
    assert user.id is not None and user.email == "ann@example.com"
    assert user.display_name == "Ann  Lee" and user.email_verified_at is None
    assert accounts.password_matches(user, PASSWORD)
    nameless = await accounts.sign_up(session, "bob@example.com", PASSWORD, "   ")
    assert nameless.display_name == "bob"
    long = await accounts.sign_up(session, "cy@example.com", PASSWORD, "n" * 300)
    assert long.display_name == "n" * 200


async def test_a_second_sign_up_with_the_same_address_is_refused(session: AsyncSession) -> None:
    await accounts.sign_up(session, "ann@example.com", PASSWORD, "Ann")
    with pytest.raises(BadInput) as error:
        await accounts.sign_up(session, "ANN@example.com", PASSWORD, "Ann again")
    assert refused(error) == "There is already an account with that email. Sign in instead."
    assert await count(session, User) == 1


async def test_authenticate_answers_none_for_every_mistake(session: AsyncSession) -> None:
    user = await accounts.sign_up(session, "ann@example.com", PASSWORD, "Ann")
    assert await accounts.authenticate(session, " ANN@example.com", PASSWORD) is user
    assert await accounts.authenticate(session, "ann@example.com", "wrong password") is None
    assert await accounts.authenticate(session, "nobody@example.com", PASSWORD) is None
    assert await accounts.authenticate(session, "not an address", PASSWORD) is None


async def test_a_hash_made_with_weaker_settings_is_upgraded_at_sign_in(
    session: AsyncSession,
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    await new_user(session, email="ann@example.com", password_hash=weak)
    user = await accounts.authenticate(session, "ann@example.com", PASSWORD)
    assert user is not None and user.password_hash != weak
    assert not PasswordHasher().check_needs_rehash(user.password_hash)
    assert PasswordHasher().verify(user.password_hash, PASSWORD)
    current = user.password_hash
    await accounts.authenticate(session, "ann@example.com", PASSWORD)
    assert user.password_hash == current  # already current: not rewritten


# Changing the address or password ---------------------------------------------------------


async def two_sessions(session: AsyncSession, user: User) -> tuple[str, str]:
    kept = await accounts.start_web_session(session, user.id, T0)
    other = await accounts.start_web_session(session, user.id, T0)
    return kept.token, other.token


async def test_a_new_address_is_unverified_and_signs_out_the_other_browsers(
    session: AsyncSession,
) -> None:
    user = await accounts.sign_up(session, "ann@example.com", PASSWORD, "Ann")
    user.email_verified_at = T0
    kept, other = await two_sessions(session, user)
    change = await accounts.change_sign_in(
        session, user, current_password=PASSWORD, email="Ann@New.org", keep_session=kept
    )
    assert change == accounts.SignInChange(email_changed=True, password_changed=False)
    assert user.email == "ann@new.org" and user.email_verified_at is None
    assert accounts.password_matches(user, PASSWORD)
    assert await accounts.web_session_user(session, kept, T0) is not None
    assert await accounts.web_session_user(session, other, T0) is None


async def test_a_new_password_keeps_the_address_and_its_verification(
    session: AsyncSession,
) -> None:
    user = await accounts.sign_up(session, "ann@example.com", PASSWORD, "Ann")
    user.email_verified_at = T0
    kept, other = await two_sessions(session, user)
    change = await accounts.change_sign_in(
        session,
        user,
        current_password=PASSWORD,
        email=" ",
        new_password="another long passphrase",
        keep_session=kept,
    )
    assert change == accounts.SignInChange(email_changed=False, password_changed=True)
    assert user.email == "ann@example.com" and user.email_verified_at == T0
    assert accounts.password_matches(user, "another long passphrase")
    assert await accounts.web_session_user(session, kept, T0) is not None
    assert await accounts.web_session_user(session, other, T0) is None


async def test_no_change_signs_nobody_out(session: AsyncSession) -> None:
    user = await accounts.sign_up(session, "ann@example.com", PASSWORD, "Ann")
    await two_sessions(session, user)
    change = await accounts.change_sign_in(
        session, user, current_password=PASSWORD, email="ann@example.com"
    )
    assert change == accounts.SignInChange(False, False)
    assert await count(session, WebSession) == 2


async def test_a_change_without_keep_signs_out_every_browser(session: AsyncSession) -> None:
    user = await accounts.sign_up(session, "ann@example.com", PASSWORD, "Ann")
    await two_sessions(session, user)
    await accounts.change_sign_in(session, user, current_password=PASSWORD, email="a@b.org")
    assert await count(session, WebSession) == 0


async def test_changes_are_refused_for_the_reasons_they_say(session: AsyncSession) -> None:
    await accounts.sign_up(session, "bob@example.com", PASSWORD, "Bob")
    user = await accounts.sign_up(session, "ann@example.com", PASSWORD, "Ann")
    cases = [
        ({"current_password": "wrong one!", "email": ""}, "Your current password is not right."),
        (
            {"current_password": PASSWORD, "email": "BOB@example.com"},
            "Another account uses that email.",
        ),
        (
            {"current_password": PASSWORD, "email": "x", "new_password": ""},
            "That does not look like an email address.",
        ),
        (
            {"current_password": PASSWORD, "email": "", "new_password": "short"},
            "Use a password of at least 10 characters.",
        ),
    ]
    for kwargs, message in cases:
        with pytest.raises(BadInput) as error:
            await accounts.change_sign_in(session, user, **kwargs)  # type: ignore[arg-type]
        assert refused(error) == message, kwargs
    assert user.email == "ann@example.com" and accounts.password_matches(user, PASSWORD)


async def test_an_account_made_in_chat_sets_an_address_and_password_once(
    session: AsyncSession,
) -> None:
    user = await new_user(session)
    other = await accounts.start_web_session(session, user.id, T0)
    with pytest.raises(BadInput) as error:
        await accounts.change_sign_in(session, user, current_password="", email="")
    assert refused(error) == "Enter an email address."
    with pytest.raises(BadInput) as error:
        await accounts.change_sign_in(session, user, current_password="", email="ann@example.com")
    assert refused(error) == "Choose a password to sign in with this email."
    await accounts.set_password(session, user, " Ann@Example.com", PASSWORD)
    assert user.email == "ann@example.com" and accounts.password_matches(user, PASSWORD)
    assert await accounts.web_session_user(session, other.token, T0) is None
    with pytest.raises(BadInput) as error:
        await accounts.set_password(session, user, "ann@example.com", "another long one")
    assert refused(error) == "This account has a password; change it with your current one."


# Browser sessions -------------------------------------------------------------------------


async def test_a_session_lasts_30_days_to_the_second(session: AsyncSession) -> None:
    user = await new_user(session)
    started = await accounts.start_web_session(session, user.id, T0, user_agent="b" * 400)
    assert started.expires_at == T0 + timedelta(days=30)
    assert len(started.token) >= 40 and len(started.csrf_token) >= 40
    assert started.token != started.csrf_token
    row = await session.get(WebSession, accounts.digest(started.token))
    assert row is not None and row.user_agent == "b" * 300 and row.created_at == T0
    assert row.csrf_token == started.csrf_token
    last_second = T0 + timedelta(days=30) - timedelta(seconds=1)
    found = await accounts.web_session_user(session, started.token, last_second)
    assert found is not None and found[0] is user and found[1] is row


async def test_an_expired_session_is_refused_before_the_sweep_removes_it(
    session: AsyncSession,
) -> None:
    user = await new_user(session)
    started = await accounts.start_web_session(session, user.id, T0)
    assert await accounts.web_session_user(session, started.token, T0 + timedelta(days=30)) is None
    assert await count(session, WebSession) == 1  # still there, not yet swept
    assert await accounts.web_session_user(session, "made-up token", T0) is None


async def test_ending_sessions_ends_only_the_ones_named(session: AsyncSession) -> None:
    ann, bob = await new_user(session, "Ann"), await new_user(session, "Bob")
    first, second = await two_sessions(session, ann)
    bobs = await accounts.start_web_session(session, bob.id, T0)
    await accounts.end_web_session(session, first)
    assert await accounts.web_session_user(session, first, T0) is None
    assert await accounts.web_session_user(session, second, T0) is not None
    await accounts.start_web_session(session, ann.id, T0)
    assert await accounts.end_all_web_sessions(session, ann.id) == 2
    assert await accounts.web_session_user(session, bobs.token, T0) is not None


async def test_signing_out_everywhere_spares_other_users(session: AsyncSession) -> None:
    ann, bob = await new_user(session, "Ann"), await new_user(session, "Bob")
    for user in (ann, bob):
        await accounts.start_web_session(session, user.id, T0)
        await tokens.create_api_token(session, user, "script", T0)
        await accounts.create_link_code(session, user.id, T0)
    await accounts.sign_out_everywhere(session, ann.id)
    for model in (WebSession, ApiToken, LinkCode):
        assert await count(session, model, model.user_id == ann.id) == 0  # type: ignore[attr-defined]
        assert await count(session, model, model.user_id == bob.id) == 1  # type: ignore[attr-defined]


# Identities -------------------------------------------------------------------------------


async def test_identities_are_listed_oldest_first_and_only_the_owner_unlinks_one(
    session: AsyncSession,
) -> None:
    ann, bob = await new_user(session, "Ann"), await new_user(session, "Bob")
    made = []
    for platform in ("telegram", "discord"):
        identity = Identity(user_id=ann.id, platform=platform, external_id="1")
        session.add(identity)
        await session.flush()
        made.append(identity.id)
    session.add(Identity(user_id=bob.id, platform="slack", external_id="1"))
    await session.flush()
    assert [i.id for i in await accounts.list_identities(session, ann.id)] == made
    first = await session.get(Identity, made[0])
    assert first is not None
    # A rename need not move the row (a heap-only update keeps its place in the index); the
    # merge case that does is in test_accounts_mutants_links.py.
    first.display_name = "renamed"
    await session.flush()
    assert [i.id for i in await accounts.list_identities(session, ann.id)] == made
    with pytest.raises(NotFound, match=r"^No such linked account"):
        await accounts.unlink_identity(session, bob.id, made[0])
    await accounts.unlink_identity(session, ann.id, made[0])
    await session.flush()
    assert [i.id for i in await accounts.list_identities(session, ann.id)] == made[1:]


# Link codes -------------------------------------------------------------------------------


async def test_a_link_code_reads_aloud_and_is_typed_back_in_any_case(
    session: AsyncSession,
) -> None:
    ann, bob = await new_user(session, "Ann"), await new_user(session, "Bob")
    code = await accounts.create_link_code(session, ann.id, T0)
    head, dash, tail = code.partition("-")
    assert dash and len(head) == len(tail) == 4
    assert set(head + tail) <= set(accounts.LINK_ALPHABET)
    row = (await session.scalars(select(LinkCode))).one()
    assert row.code_hash == accounts.digest(head + tail)
    assert row.expires_at == T0 + timedelta(minutes=10) and row.created_at == T0
    typed = f" {head.lower()} {tail.lower()} "
    assert await accounts.redeem_link_code(session, typed, bob.id, T0) == ann.id
    assert await session.get(User, bob.id) is None  # merged into Ann
    assert await count(session, LinkCode) == 0


async def test_a_new_link_code_voids_the_earlier_ones_of_that_user_only(
    session: AsyncSession,
) -> None:
    ann, bob = await new_user(session, "Ann"), await new_user(session, "Bob")
    await accounts.create_link_code(session, bob.id, T0)
    first = await accounts.create_link_code(session, ann.id, T0)
    second = await accounts.create_link_code(session, ann.id, T0, token_id=7)
    assert await count(session, LinkCode, LinkCode.user_id == ann.id) == 1
    assert await count(session, LinkCode, LinkCode.user_id == bob.id) == 1
    row = (await session.scalars(select(LinkCode).where(LinkCode.user_id == ann.id))).one()
    assert row.token_id == 7
    carol = await new_user(session, "Carol")
    with pytest.raises(BadInput, match="not valid"):
        await accounts.redeem_link_code(session, first, carol.id, T0)
    assert await accounts.redeem_link_code(session, second, carol.id, T0) == ann.id


async def test_a_link_code_dies_at_ten_minutes_and_cannot_join_its_own_account(
    session: AsyncSession,
) -> None:
    ann, bob = await new_user(session, "Ann"), await new_user(session, "Bob")
    code = await accounts.create_link_code(session, ann.id, T0)
    with pytest.raises(BadInput) as error:
        await accounts.redeem_link_code(session, code, bob.id, T0 + timedelta(minutes=10))
    assert refused(error) == (
        "That link code is not valid (codes work once, for 10 minutes). Send /link for a fresh one."
    )
    code = await accounts.create_link_code(session, ann.id, T0)
    with pytest.raises(BadInput) as error:
        await accounts.redeem_link_code(session, code, ann.id, T0)
    assert refused(error).startswith("That code is from this same account")
    assert await count(session, LinkCode) == 0  # used up all the same
    code = await accounts.create_link_code(session, ann.id, T0)
    last_second = T0 + timedelta(minutes=10) - timedelta(seconds=1)
    assert await accounts.redeem_link_code(session, code, bob.id, last_second) == ann.id


# API tokens -------------------------------------------------------------------------------


def test_scopes_are_trimmed_checked_and_written_in_one_order() -> None:
    assert tokens.parse_scopes([" write ", "", "read", "  "]) == {"read", "write"}
    with pytest.raises(BadInput) as error:
        tokens.parse_scopes(["read", "zap", "admin"])
    assert refused(error) == (
        "Unknown scope 'admin'; use read, write, tokens:create, link-codes:create."
    )
    with pytest.raises(BadInput) as error:
        tokens.parse_scopes([" ", ""])
    assert refused(error) == "Give the token at least one scope (read or write)."
    assert tokens.scope_text(["link-codes:create", "write", "tokens:create", "read"]) == (
        "read write tokens:create link-codes:create"
    )


async def test_a_token_is_stored_hashed_with_its_name_scopes_and_lifetime(
    session: AsyncSession,
) -> None:
    user = await new_user(session)
    token, secret = await tokens.create_api_token(
        session, user, "  " + "n" * 120, T0, scopes=["write"], days=7
    )
    assert secret.startswith("tt_") and len(secret) > 40
    assert token.token_hash == accounts.digest(secret) and token.user_id == user.id
    assert token.name == "n" * 100 and token.scopes == "write" and token.created_at == T0
    assert token.expires_at == T0 + timedelta(days=7) and token.parent_id is None
    unnamed, _ = await tokens.create_api_token(session, user, "   ", T0)
    assert unnamed.name == "script" and unnamed.scopes == "read write"
    assert unnamed.expires_at == T0 + timedelta(days=90)
    for days in (30, 365):
        made, _ = await tokens.create_api_token(session, user, "x", T0, days=days)
        assert made.expires_at == T0 + timedelta(days=days)
    with pytest.raises(BadInput) as error:
        await tokens.create_api_token(session, user, "x", T0, days=14)
    assert refused(error) == "A token lives 7, 30, 90, 365 days; pick one."


async def test_twenty_tokens_is_the_most_a_user_holds(session: AsyncSession) -> None:
    ann, bob = await new_user(session, "Ann"), await new_user(session, "Bob")
    await tokens.create_api_token(session, bob, "bob's", T0)
    for n in range(tokens.MAX_TOKENS):
        await tokens.create_api_token(session, ann, f"t{n}", T0)
    with pytest.raises(BadInput) as error:
        await tokens.create_api_token(session, ann, "one more", T0)
    assert refused(error) == "You have 20 API tokens already; delete one first."


async def test_powerful_scopes_need_the_accounts_password(session: AsyncSession) -> None:
    user = await new_user(session, password_hash=accounts.hash_password(PASSWORD))
    for scope in ("tokens:create", "link-codes:create"):
        with pytest.raises(BadInput) as error:
            await tokens.create_api_token(session, user, "x", T0, scopes=[scope], password="nope")
        assert refused(error) == (
            "To let a token make tokens or link codes, enter your current password "
            "(accounts without one: set a password first)."
        )
        made, _ = await tokens.create_api_token(
            session, user, "x", T0, scopes=[scope], password=PASSWORD
        )
        assert made.scopes == scope


async def test_a_minted_token_is_bounded_by_its_maker(session: AsyncSession) -> None:
    user = await new_user(session)
    maker = tokens.TokenHolder(
        user.id, 41, frozenset({"read", "tokens:create"}), T0 + timedelta(days=10)
    )
    token, _ = await tokens.mint_api_token(session, maker, "child", T0, scopes=["read"], days=7)
    assert token.parent_id == 41 and token.expires_at == T0 + timedelta(days=7)
    longer, _ = await tokens.mint_api_token(session, maker, "child", T0, scopes=["read"], days=30)
    assert longer.expires_at == T0 + timedelta(days=10)
    with pytest.raises(BadInput) as error:
        await tokens.mint_api_token(session, maker, "x", T0, scopes=["read", "write"])
    assert refused(error) == "A token can only give scopes it has itself."
    with pytest.raises(BadInput) as error:
        await tokens.mint_api_token(session, maker, "x", T0, scopes=["tokens:create"])
    assert refused(error) == (
        "Tokens that make tokens or link codes are made on the settings page."
    )
    plain = tokens.TokenHolder(user.id, 42, frozenset({"read", "write"}), T0 + timedelta(days=10))
    with pytest.raises(Forbidden) as forbidden:
        await tokens.mint_api_token(session, plain, "x", T0, scopes=["read"])
    assert forbidden.value.message == (
        "This token may not make tokens (it lacks the tokens:create scope)."
    )


async def test_a_token_speaks_until_it_expires_and_notes_its_use_every_five_minutes(
    session: AsyncSession,
) -> None:
    user = await new_user(session)
    token, secret = await tokens.create_api_token(session, user, "x", T0, scopes=["read"], days=7)
    holder = await tokens.holder_for_api_token(session, secret, T0)
    assert holder == tokens.TokenHolder(user.id, token.id, frozenset({"read"}), token.expires_at)
    assert holder.allows("read") and not holder.allows("write")
    assert token.last_used_at == T0
    await tokens.holder_for_api_token(session, secret, T0 + timedelta(minutes=5))
    assert token.last_used_at == T0  # within five minutes: not written
    later = T0 + timedelta(minutes=5, seconds=1)
    await tokens.holder_for_api_token(session, secret, later)
    assert token.last_used_at == later
    last_second = token.expires_at - timedelta(seconds=1)
    assert await tokens.holder_for_api_token(session, secret, last_second) is not None
    assert await tokens.holder_for_api_token(session, secret, token.expires_at) is None
    assert await tokens.holder_for_api_token(session, "tt_unknown", T0) is None


async def test_tokens_are_listed_oldest_first_for_their_owner(session: AsyncSession) -> None:
    ann, bob = await new_user(session, "Ann"), await new_user(session, "Bob")
    first, _ = await tokens.create_api_token(session, ann, "first", T0)
    await tokens.create_api_token(session, bob, "bob's", T0)
    second, _ = await tokens.create_api_token(session, ann, "second", T0)
    assert [t.id for t in await tokens.list_api_tokens(session, ann.id)] == [first.id, second.id]
    # Renaming the first rewrites its row, which PostgreSQL then stores after the second:
    # the list still goes by age.
    first.name = "renamed"
    await session.flush()
    assert [t.id for t in await tokens.list_api_tokens(session, ann.id)] == [first.id, second.id]


async def test_revoking_a_token_revokes_what_it_made_and_nothing_else(
    session: AsyncSession,
) -> None:
    ann, bob = await new_user(session, "Ann"), await new_user(session, "Bob")
    maker, _ = await tokens.create_api_token(session, ann, "maker", T0)
    other, _ = await tokens.create_api_token(session, ann, "other", T0)
    holder = tokens.TokenHolder(
        ann.id, maker.id, frozenset({"read", "tokens:create"}), maker.expires_at
    )
    child, _ = await tokens.mint_api_token(session, holder, "child", T0, scopes=["read"])
    await accounts.create_link_code(session, ann.id, T0, token_id=child.id)
    await accounts.create_link_code(session, bob.id, T0, token_id=maker.id)
    with pytest.raises(NotFound, match=r"^No such API token"):
        await tokens.delete_api_token(session, bob.id, maker.id)
    await tokens.delete_api_token(session, ann.id, maker.id)
    assert [t.id for t in await tokens.list_api_tokens(session, ann.id)] == [other.id]
    assert await count(session, LinkCode, LinkCode.user_id == ann.id) == 0
    assert await count(session, LinkCode, LinkCode.user_id == bob.id) == 1


async def test_revoking_a_token_keeps_link_codes_made_without_it(session: AsyncSession) -> None:
    ann = await new_user(session)
    token, _ = await tokens.create_api_token(session, ann, "x", T0)
    await accounts.create_link_code(session, ann.id, T0)
    await tokens.delete_api_token(session, ann.id, token.id)
    assert await count(session, LinkCode) == 1


# Google sign-in ---------------------------------------------------------------------------


def google(email: str | None = "Ann@Example.com ", verified: bool = True) -> OidcClaims:
    return OidcClaims("google", "sub-1", "Ann G", email, verified)


async def google_identity(session: AsyncSession) -> Identity | None:
    return await session.scalar(select(Identity).where(Identity.platform == "google"))


async def test_google_makes_a_new_user_holding_its_verified_address(
    session: AsyncSession,
) -> None:
    user_id = await user_for_oidc(session, google(), None, T0, default_timezone="Europe/Paris")
    user = await session.get(User, user_id)
    assert user is not None and user.email == "ann@example.com" and user.email_verified_at == T0
    assert user.timezone == "Europe/Paris"
    identity = await google_identity(session)
    assert identity is not None and identity.user_id == user_id
    assert (identity.external_id, identity.display_name) == ("sub-1", "Ann G")
    assert await user_for_oidc(session, google(), None, T0) == user_id  # known: same user


async def test_google_accounts_are_told_apart_by_platform_and_subject(
    session: AsyncSession,
) -> None:
    chat_user = await new_user(session, "Chat Ann")
    session.add(Identity(user_id=chat_user.id, platform="telegram", external_id="sub-1"))
    await session.flush()
    first = await user_for_oidc(session, google(None), None, T0)
    assert first != chat_user.id  # a Telegram id that happens to equal the subject
    other = await user_for_oidc(session, OidcClaims("google", "sub-2", "Bo", None, True), None, T0)
    assert other not in (first, chat_user.id)
    new = await session.get(User, other)
    assert new is not None and new.timezone == "UTC"  # no zone given: UTC


async def test_an_unverified_google_address_is_not_taken(session: AsyncSession) -> None:
    user_id = await user_for_oidc(session, google(verified=False), None, T0)
    user = await session.get(User, user_id)
    assert user is not None and user.email is None and user.email_verified_at is None
    no_email = await user_for_oidc(
        session, OidcClaims("google", "sub-2", "X", None, True), None, T0
    )
    assert (await session.get(User, no_email)).email is None  # type: ignore[union-attr]


async def test_google_enters_only_an_account_whose_address_was_confirmed(
    session: AsyncSession,
) -> None:
    confirmed = await new_user(session, email="ann@example.com", email_verified_at=T0)
    assert await user_for_oidc(session, google(), None, T0) == confirmed.id
    identity = await google_identity(session)
    assert identity is not None and identity.user_id == confirmed.id
    assert (identity.external_id, identity.display_name) == ("sub-1", "Ann G")


async def test_google_leaves_an_unconfirmed_holder_of_its_address_alone(
    session: AsyncSession,
) -> None:
    holder = await new_user(session, email="ann@example.com")
    user_id = await user_for_oidc(session, google(), None, T0)
    assert user_id != holder.id
    new = await session.get(User, user_id)
    assert new is not None and new.email is None and new.email_verified_at is None
    assert holder.email == "ann@example.com" and holder.email_verified_at is None


async def test_google_linked_while_signed_in_joins_that_user_and_confirms_the_same_address(
    session: AsyncSession,
) -> None:
    user = await new_user(session, email="ann@example.com")
    assert await user_for_oidc(session, google(), user.id, T0) == user.id
    assert user.email_verified_at == T0
    identity = await google_identity(session)
    assert identity is not None and identity.user_id == user.id
    assert (identity.external_id, identity.display_name) == ("sub-1", "Ann G")
    await user_for_oidc(session, google(), user.id, T0 + timedelta(days=1))
    assert user.email_verified_at == T0  # confirmed once, not moved


async def test_google_linked_while_signed_in_confirms_no_other_address(
    session: AsyncSession,
) -> None:
    user = await new_user(session, email="ann@work.org")
    await user_for_oidc(session, google(), user.id, T0)
    assert user.email == "ann@work.org" and user.email_verified_at is None
    other = await new_user(session, "Bob", email="ann@example.com")
    await user_for_oidc(session, google(verified=False), other.id, T0)
    assert other.email_verified_at is None


async def test_google_known_on_another_user_is_merged_into_the_signed_in_one(
    session: AsyncSession,
) -> None:
    first = await user_for_oidc(session, google(), None, T0)
    signed_in = await new_user(session, "Ann web")
    assert await user_for_oidc(session, google(), signed_in.id, T0) == signed_in.id
    session.expunge_all()
    assert await session.get(User, first) is None
    identity = await google_identity(session)
    assert identity is not None and identity.user_id == signed_in.id
    assert await count(session, Identity) == 1


# The attempt counter ----------------------------------------------------------------------


async def test_the_counter_allows_the_limit_per_window_and_expires_its_key(core: Runtime) -> None:
    redis = core.services.redis
    assert isinstance(redis, Redis)
    now = datetime(2026, 11, 25, 9, 0, 30, tzinfo=UTC)
    for _ in range(3):
        assert await ratelimit.within_rate(redis, "k", 3, now)
    assert not await ratelimit.within_rate(redis, "k", 3, now)
    name = f"teddy:rate:k:{int(now.timestamp()) // 60}"
    assert int(await redis.get(name)) == 4
    assert 60 < await redis.ttl(name) <= 65
    next_minute = now + timedelta(seconds=30)
    assert await ratelimit.within_rate(redis, "k", 3, next_minute)
    assert await ratelimit.within_rate(redis, "other", 3, now)
    hourly = await ratelimit.within_rate(redis, "h", 1, now, window=3600)
    assert hourly and 3600 < await redis.ttl(f"teddy:rate:h:{int(now.timestamp()) // 3600}") <= 3605


async def test_five_wrong_link_codes_a_minute_per_user(core: Runtime) -> None:
    redis = core.services.redis
    assert isinstance(redis, Redis)
    assert [await ratelimit.link_attempt_allowed(redis, 1, T0) for _ in range(6)] == [
        True,
        True,
        True,
        True,
        True,
        False,
    ]
    assert await ratelimit.link_attempt_allowed(redis, 2, T0)
    assert await redis.exists(f"teddy:rate:link:1:{int(T0.timestamp()) // 60}")
    assert await ratelimit.link_attempt_allowed(None, 1, T0)


# Links sent by email ----------------------------------------------------------------------


async def test_a_confirmation_link_is_user_expiry_and_mac_and_lasts_two_days(
    session: AsyncSession,
) -> None:
    user = await new_user(session, email="ann@example.com")
    link = email_links.link_for("https://teddy.example/", SECRET, email_links.VERIFY, user, T0)
    token = link.removeprefix("https://teddy.example/verify-email?token=")
    user_id, expires, mac = token.split(".")
    assert int(user_id) == user.id and int(expires) == int((T0 + timedelta(days=2)).timestamp())
    assert len(mac) == 43 and "=" not in mac
    late = T0 + timedelta(days=2)
    with pytest.raises(BadInput, match="not valid any more"):
        await email_links.confirm_email(session, SECRET, token, late)
    confirmed = await email_links.confirm_email(
        session, SECRET, f" {token} ", late - timedelta(seconds=1)
    )
    assert confirmed is user and user.email_verified_at == late - timedelta(seconds=1)
    await email_links.confirm_email(session, SECRET, token, T0 + timedelta(days=1))
    assert user.email_verified_at == late - timedelta(seconds=1)  # again: harmless, unchanged


async def test_the_mail_sent_for_confirmation_greets_and_links(session: AsyncSession) -> None:
    user = await new_user(session, "", email="ann@example.com")
    mail = email_links.confirmation_mail(user, "https://teddy.example", SECRET, T0)
    assert mail.to == "ann@example.com" and mail.text.startswith("Hi there,")
    token = email_links.make_token(SECRET, email_links.VERIFY, user, T0)
    assert f"https://teddy.example/verify-email?token={token}" in mail.text


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "1.2",
        "1.2.3.4",
        "x.99999999999.mac",
        "１.99999999999.mac",
        "1.１２.mac",
        "1234567890123456789.99999999999.mac",
        "1.2000000000000.mac",
    ],
)
async def test_malformed_links_are_refused_alike(session: AsyncSession, bad: str) -> None:
    with pytest.raises(BadInput) as error:
        await email_links.confirm_email(session, SECRET, bad, T0)
    assert refused(error) == email_links.INVALID


async def test_a_link_stops_working_when_what_it_is_bound_to_changes(
    session: AsyncSession,
) -> None:
    user = await new_user(session, email="ann@example.com", password_hash="old-hash")
    verify = email_links.make_token(SECRET, email_links.VERIFY, user, T0)
    reset = email_links.make_token(SECRET, email_links.RESET, user, T0)
    with pytest.raises(BadInput):  # the purpose is part of the MAC
        await email_links.check_reset_link(session, SECRET, verify, T0)
    with pytest.raises(BadInput):  # and so is the secret
        await email_links.check_reset_link(session, "another secret", reset, T0)
    user.password_hash = "new-hash"
    with pytest.raises(BadInput):
        await email_links.check_reset_link(session, SECRET, reset, T0)
    assert await email_links.confirm_email(session, SECRET, verify, T0) is user
    user.email = "ann@new.org"
    with pytest.raises(BadInput):
        await email_links.confirm_email(session, SECRET, verify, T0)
    user.email = None
    fresh = f"{user.id}.{verify.split('.')[1]}.{verify.split('.')[2]}"
    with pytest.raises(BadInput):
        await email_links.confirm_email(session, SECRET, fresh, T0)


async def test_a_reset_link_lasts_an_hour_and_works_once(session: AsyncSession) -> None:
    user = await accounts.sign_up(session, "ann@example.com", PASSWORD, "Ann")
    await accounts.start_web_session(session, user.id, T0)
    await tokens.create_api_token(session, user, "x", T0)
    await accounts.create_link_code(session, user.id, T0)
    mail = await email_links.password_reset_mail(
        session, " ANN@example.com", "https://teddy.example/", SECRET, T0
    )
    assert mail is not None and mail.to == "ann@example.com" and "Hi Ann," in mail.text
    token = mail.text.split("reset-password?token=")[1].split()[0]
    assert int(token.split(".")[1]) == int((T0 + timedelta(hours=1)).timestamp())
    with pytest.raises(BadInput):
        await email_links.reset_password(
            session, SECRET, token, "a new passphrase", T0 + timedelta(hours=1)
        )
    when = T0 + timedelta(minutes=59)
    assert await email_links.check_reset_link(session, SECRET, token, when) is user
    await email_links.reset_password(session, SECRET, token, "a new passphrase", when)
    assert accounts.password_matches(user, "a new passphrase")
    assert user.email_verified_at == when
    for model in (WebSession, ApiToken, LinkCode):
        assert await count(session, model) == 0
    with pytest.raises(BadInput):
        await email_links.reset_password(session, SECRET, token, "yet another one!", when)


async def test_a_reset_keeps_an_earlier_confirmation_time(session: AsyncSession) -> None:
    user = await accounts.sign_up(session, "ann@example.com", PASSWORD, "Ann")
    user.email_verified_at = T0
    token = email_links.make_token(SECRET, email_links.RESET, user, T0)
    await email_links.reset_password(
        session, SECRET, token, "a new passphrase", T0 + timedelta(minutes=1)
    )
    assert user.email_verified_at == T0


async def test_a_reset_mail_goes_only_to_an_existing_address(session: AsyncSession) -> None:
    await new_user(session, "", email="ann@example.com")
    base = "https://teddy.example"
    assert (
        await email_links.password_reset_mail(session, "nobody@example.com", base, SECRET, T0)
        is None
    )
    assert (
        await email_links.password_reset_mail(session, "not an address", base, SECRET, T0) is None
    )
    mail = await email_links.password_reset_mail(session, "ann@example.com", base, SECRET, T0)
    assert mail is not None and mail.text.startswith("Hi there,")
