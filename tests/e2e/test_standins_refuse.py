"""Each platform stand-in refuses what the platform refuses, at the published limit: a
payload one over the limit is refused the way the platform answers, one at the limit goes
through. (The e2e suites then fail on anything our renderers send over a limit.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.support import discord_standin as dc
from tests.support import slack_standin as sl
from tests.support.discord_standin import DiscordStandIn
from tests.support.rate_limit import RateLimit
from tests.support.slack_standin import SlackStandIn
from tests.support.telegram_standin import TelegramStandIn

# Slack ------------------------------------------------------------------------------


@pytest.fixture
async def slack_standin() -> AsyncIterator[SlackStandIn]:
    server = SlackStandIn()
    await server.start()
    yield server
    await server.stop()


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def button(text: str = "ok", value: str = "v", action_id: str = "a") -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "value": value,
        "action_id": action_id,
    }


def actions(elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "actions", "elements": elements}


# Each limit: a builder of the blocks for `n` (the limit itself goes through, one more is
# refused), the limit, and the json-pointer Slack's error names.
SLACK_BLOCK_LIMITS = {
    "50 blocks in a message": (
        lambda n: [section("x")] * n,
        sl.MAX_BLOCKS_IN_MESSAGE,
        "must be less than 51 items [json-pointer:/blocks]",
    ),
    "3,000 characters of section text": (
        lambda n: [section("x" * n)],
        sl.MAX_SECTION_TEXT,
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
    ),
    "10 fields in a section": (
        lambda n: [{"type": "section", "fields": [mrkdwn("f")] * n}],
        sl.MAX_SECTION_FIELDS,
        "must be less than 11 items [json-pointer:/blocks/0/fields]",
    ),
    "2,000 characters in a field": (
        lambda n: [{"type": "section", "fields": [mrkdwn("f" * n)]}],
        sl.MAX_FIELD_TEXT,
        "must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
    ),
    "150 characters in a header": (
        lambda n: [{"type": "header", "text": {"type": "plain_text", "text": "h" * n}}],
        sl.MAX_HEADER_TEXT,
        "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
    ),
    "25 elements in an actions block": (
        lambda n: [actions([button(action_id=f"a{i}") for i in range(n)])],
        sl.MAX_ACTIONS_ELEMENTS,
        "must be less than 26 items [json-pointer:/blocks/0/elements]",
    ),
    "10 elements in a context block": (
        lambda n: [{"type": "context", "elements": [mrkdwn("c")] * n}],
        sl.MAX_CONTEXT_ELEMENTS,
        "must be less than 11 items [json-pointer:/blocks/0/elements]",
    ),
    "75 characters of button text": (
        lambda n: [actions([button(text="b" * n)])],
        sl.MAX_BUTTON_TEXT,
        "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
    ),
    "2,000 characters of button value": (
        lambda n: [actions([button(value="v" * n)])],
        sl.MAX_BUTTON_VALUE,
        "must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]",
    ),
    "255 characters of action_id": (
        lambda n: [actions([button(action_id="a" * n)])],
        sl.MAX_ACTION_ID,
        "must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]",
    ),
}


@pytest.mark.parametrize("limit", list(SLACK_BLOCK_LIMITS))
async def test_the_slack_stand_in_refuses_blocks_over_each_published_limit(
    slack_standin: SlackStandIn, limit: str
) -> None:
    build, at_most, error = SLACK_BLOCK_LIMITS[limit]
    client = AsyncWebClient(token=sl.DEFAULT_TOKEN, base_url=slack_standin.api_url)
    await client.chat_postMessage(channel="C1", text="t", blocks=build(at_most))
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="C1", text="t", blocks=build(at_most + 1))
    assert refused.value.response["error"] == "invalid_blocks"
    assert refused.value.response["errors"] == [error]
    assert [c.error for c in slack_standin.take_refusals()] == ["invalid_blocks"]


async def test_the_slack_stand_in_refuses_a_home_tab_over_100_blocks(
    slack_standin: SlackStandIn,
) -> None:
    client = AsyncWebClient(token=sl.DEFAULT_TOKEN, base_url=slack_standin.api_url)
    await client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("x")] * 100})
    with pytest.raises(SlackApiError) as refused:
        await client.views_publish(
            user_id="U1", view={"type": "home", "blocks": [section("x")] * 101}
        )
    assert refused.value.response["errors"] == [
        "must be less than 101 items [json-pointer:/blocks]"
    ]
    slack_standin.take_refusals()


async def test_the_slack_stand_in_refuses_message_text_over_40000_characters(
    slack_standin: SlackStandIn,
) -> None:
    client = AsyncWebClient(token=sl.DEFAULT_TOKEN, base_url=slack_standin.api_url)
    await client.chat_postMessage(channel="C1", text="t" * sl.MAX_MESSAGE_TEXT)
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="C1", text="t" * (sl.MAX_MESSAGE_TEXT + 1))
    assert refused.value.response["error"] == "msg_too_long"
    slack_standin.take_refusals()


async def test_the_slack_stand_in_refuses_blocks_posted_to_a_response_url(
    slack_standin: SlackStandIn,
) -> None:
    async with httpx.AsyncClient() as http:
        fine = await http.post(f"{slack_standin.url}/respond/1", json={"blocks": [section("x")]})
        over = await http.post(
            f"{slack_standin.url}/respond/1", json={"blocks": [section("x")] * 51}
        )
    assert (fine.status_code, over.status_code, over.text) == (200, 400, "invalid_blocks")
    slack_standin.take_refusals()


async def test_the_slack_stand_in_answers_not_authed_and_invalid_auth_as_slack_does(
    slack_standin: SlackStandIn,
) -> None:
    async with httpx.AsyncClient(base_url=slack_standin.api_url) as http:
        anonymous = (await http.post("chat.postMessage", json={"channel": "C1"})).json()
        wrong = await http.post(
            "chat.postMessage", json={"channel": "C1"}, headers={"Authorization": "Bearer xoxb-no"}
        )
    assert anonymous == {"ok": False, "error": "not_authed"}
    assert (wrong.status_code, wrong.json()) == (200, {"ok": False, "error": "invalid_auth"})
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await AsyncWebClient(token="xoxb-made-up", base_url=slack_standin.api_url).auth_test()
    assert [c.error for c in slack_standin.take_refusals()] == [
        "not_authed",
        "invalid_auth",
        "invalid_auth",
    ]


async def test_the_slack_stand_in_answers_429_with_retry_after_beyond_its_rate_limit(
    slack_standin: SlackStandIn,
) -> None:
    slack_standin.rate_limit = RateLimit(limit=2, period=30.0)
    async with httpx.AsyncClient(base_url=slack_standin.api_url) as http:
        headers = {"Authorization": f"Bearer {sl.DEFAULT_TOKEN}"}
        answers = [
            await http.post("chat.postMessage", json={"channel": "C1"}, headers=headers)
            for _ in range(3)
        ]
        other_method = await http.post("auth.test", headers=headers)
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json() == {"ok": False, "error": "ratelimited"}
    assert 29 <= int(answers[2].headers["Retry-After"]) <= 30
    assert other_method.status_code == 200  # the limit is per method (and token)


# Discord ----------------------------------------------------------------------------


@pytest.fixture
async def discord_standin() -> AsyncIterator[DiscordStandIn]:
    server = DiscordStandIn()
    await server.start()
    yield server
    await server.stop()


def embed(**fields: Any) -> dict[str, Any]:
    return {"type": "rich", **fields}


def row(buttons: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": 1, "components": buttons}


def dbutton(label: str = "ok", custom_id: str = "c") -> dict[str, Any]:
    return {"type": 2, "style": 2, "label": label, "custom_id": custom_id}


def max_length(limit: int) -> dict[str, Any]:
    return {
        "_errors": [
            {"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}
        ]
    }


DISCORD_LIMITS = {
    "2,000 characters of content": (
        lambda n: {"content": "x" * n},
        dc.MAX_CONTENT,
        lambda n: {"content": max_length(n)},
    ),
    "10 embeds": (
        lambda n: {"embeds": [embed(title="t")] * n},
        dc.MAX_EMBEDS,
        lambda n: {"embeds": max_length(n)},
    ),
    "256 characters of embed title": (
        lambda n: {"embeds": [embed(title="t" * n)]},
        dc.MAX_EMBED_TITLE,
        lambda n: {"embeds": {"0": {"title": max_length(n)}}},
    ),
    "4,096 characters of embed description": (
        lambda n: {"embeds": [embed(description="d" * n)]},
        dc.MAX_EMBED_DESCRIPTION,
        lambda n: {"embeds": {"0": {"description": max_length(n)}}},
    ),
    "25 embed fields": (
        lambda n: {"embeds": [embed(fields=[{"name": "n", "value": "v"}] * n)]},
        dc.MAX_EMBED_FIELDS,
        lambda n: {"embeds": {"0": {"fields": max_length(n)}}},
    ),
    "256 characters of field name": (
        lambda n: {"embeds": [embed(fields=[{"name": "n" * n, "value": "v"}])]},
        dc.MAX_FIELD_NAME,
        lambda n: {"embeds": {"0": {"fields": {"0": {"name": max_length(n)}}}}},
    ),
    "1,024 characters of field value": (
        lambda n: {"embeds": [embed(fields=[{"name": "n", "value": "v" * n}])]},
        dc.MAX_FIELD_VALUE,
        lambda n: {"embeds": {"0": {"fields": {"0": {"value": max_length(n)}}}}},
    ),
    "2,048 characters of footer": (
        lambda n: {"embeds": [embed(footer={"text": "f" * n})]},
        dc.MAX_FOOTER_TEXT,
        lambda n: {"embeds": {"0": {"footer": {"text": max_length(n)}}}},
    ),
    "256 characters of author name": (
        lambda n: {"embeds": [embed(author={"name": "a" * n})]},
        dc.MAX_AUTHOR_NAME,
        lambda n: {"embeds": {"0": {"author": {"name": max_length(n)}}}},
    ),
    "6,000 characters in all embeds": (
        # two descriptions of 3,000 are 6,000; one more character in a title is over
        lambda n: {
            "embeds": [embed(description="d" * 3000), embed(description="d" * 3000)]
            + ([embed(title="t" * (n - 6000))] if n > 6000 else [])
        },
        dc.MAX_EMBEDS_TOTAL,
        lambda n: {
            "embeds": {
                "_errors": [
                    {
                        "code": "MAX_EMBED_SIZE_EXCEEDED",
                        "message": "Embed size exceeds maximum size of 6000",
                    }
                ]
            }
        },
    ),
    "5 action rows": (
        lambda n: {"components": [row([dbutton(custom_id=f"r{i}")]) for i in range(n)]},
        dc.MAX_ACTION_ROWS,
        lambda n: {"components": max_length(n)},
    ),
    "5 buttons in a row": (
        lambda n: {"components": [row([dbutton(custom_id=f"b{i}") for i in range(n)])]},
        dc.MAX_BUTTONS_PER_ROW,
        lambda n: {"components": {"0": {"components": max_length(n)}}},
    ),
    "100 characters of custom_id": (
        lambda n: {"components": [row([dbutton(custom_id="c" * n)])]},
        dc.MAX_CUSTOM_ID,
        lambda n: {"components": {"0": {"components": {"0": {"custom_id": max_length(n)}}}}},
    ),
    "80 characters of button label": (
        lambda n: {"components": [row([dbutton(label="l" * n)])]},
        dc.MAX_BUTTON_LABEL,
        lambda n: {"components": {"0": {"components": {"0": {"label": max_length(n)}}}}},
    ),
}


@pytest.mark.parametrize("limit", list(DISCORD_LIMITS))
async def test_the_discord_stand_in_refuses_a_message_over_each_published_limit(
    discord_standin: DiscordStandIn, limit: str
) -> None:
    build, at_most, errors = DISCORD_LIMITS[limit]
    path = f"/api/v10/channels/{dc.TEXT_CHANNEL}/messages"
    async with httpx.AsyncClient(base_url=discord_standin.url) as http:
        fine = await http.post(path, json=build(at_most))
        over = await http.post(path, json=build(at_most + 1))
    assert fine.status_code == 200, fine.text
    assert over.status_code == 400
    assert over.json() == {"message": "Invalid Form Body", "code": 50035, "errors": errors(at_most)}
    assert len(discord_standin.take_refusals()) == 1


async def test_the_discord_stand_in_checks_interaction_answers_and_webhook_follow_ups(
    discord_standin: DiscordStandIn,
) -> None:
    too_long = {"content": "x" * (dc.MAX_CONTENT + 1)}
    async with httpx.AsyncClient(base_url=f"{discord_standin.url}/api/v10") as http:
        answer = await http.post("/interactions/1/tok/callback", json={"type": 4, "data": too_long})
        update = await http.post(
            "/interactions/2/tok2/callback", json={"type": 7, "data": too_long}
        )
        deferral = await http.post("/interactions/3/tok3/callback", json={"type": 5})
        follow_up = await http.post(f"/webhooks/{dc.APP_ID}/tok", json=too_long)
        original = await http.patch(f"/webhooks/{dc.APP_ID}/tok/messages/@original", json=too_long)
    statuses = [r.status_code for r in (answer, update, deferral, follow_up, original)]
    assert statuses == [400, 400, 200, 400, 400]
    assert len(discord_standin.take_refusals()) == 4


async def test_the_discord_stand_in_lets_the_bot_edit_only_its_own_messages(
    discord_standin: DiscordStandIn,
) -> None:
    discord_standin.foreign.add("990000000000000001")  # a message Alice sent
    messages = f"/api/v10/channels/{dc.TEXT_CHANNEL}/messages"
    async with httpx.AsyncClient(base_url=discord_standin.url) as http:
        own = (await http.post(messages, json={"content": "mine"})).json()["id"]
        edited = await http.patch(f"{messages}/{own}", json={"content": "edited"})
        theirs = await http.patch(f"{messages}/990000000000000001", json={"content": "hijack"})
        unknown = await http.patch(f"{messages}/990000000000000002", json={"content": "?"})
    assert edited.status_code == 200 and edited.json()["content"] == "edited"
    assert (theirs.status_code, theirs.json()) == (
        403,
        {"message": "Cannot edit a message authored by another user", "code": 50005},
    )
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"message": "Unknown Message", "code": 10008},
    )
    assert len(discord_standin.take_refusals()) == 2


async def test_the_discord_stand_in_answers_429_with_retry_after_beyond_its_rate_limit(
    discord_standin: DiscordStandIn,
) -> None:
    discord_standin.rate_limit = RateLimit(limit=1, period=5.0)
    messages = f"/api/v10/channels/{dc.TEXT_CHANNEL}/messages"
    async with httpx.AsyncClient(base_url=discord_standin.url) as http:
        first = await http.post(messages, json={"content": "a"})
        second = await http.post(messages, json={"content": "b"})
    assert (first.status_code, second.status_code) == (200, 429)
    body = second.json()
    assert body["message"] == "You are being rate limited." and body["global"] is False
    assert 4.0 < body["retry_after"] <= 5.0
    assert 4.0 < float(second.headers["Retry-After"]) <= 5.0


# Telegram ---------------------------------------------------------------------------


async def test_the_telegram_stand_in_answers_flood_control_with_retry_after_parameters() -> None:
    standin = TelegramStandIn()
    await standin.start()
    standin.rate_limit = RateLimit(limit=1, period=3.0)
    try:
        async with httpx.AsyncClient(base_url=f"{standin.url}/bot{standin.token}") as http:
            first = await http.post("/sendMessage", json={"chat_id": 1, "text": "a"})
            second = await http.post("/sendMessage", json={"chat_id": 1, "text": "b"})
            other_chat = await http.post("/sendMessage", json={"chat_id": 2, "text": "c"})
    finally:
        await standin.stop()
    assert (first.status_code, second.status_code, other_chat.status_code) == (200, 429, 200)
    assert second.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
