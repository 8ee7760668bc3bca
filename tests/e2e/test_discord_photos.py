"""An image attached to a Discord message goes to the tutor like a Telegram photo: the
real discord.py client against the gateway stand-in, a vision model's stand-in."""

from __future__ import annotations

from typing import Any

from bots.discord.adapter import TeddyDiscord
from teddy.runtime import Runtime
from tests.e2e import test_discord as base
from tests.e2e import test_discord_flows as flows
from tests.e2e.test_discord import DM_CHANNEL, message_create
from tests.e2e.test_telegram_photos import NOTES, last_user_content, photo_of, vision
from tests.integration.tutor_fixtures import fake_llm, fake_llm_server, tutor_core
from tests.support.discord_standin import TEXT_CHANNEL, DiscordStandIn
from tests.support.fake_llm import FakeLLM

__all__ = ["bot", "fake_llm", "fake_llm_server", "standin", "tutor_core"]

standin = base.standin  # the same fixtures
bot = flows.bot  # on the core whose tutor `tutor_core` connects to the model stand-in


def image(standin: DiscordStandIn) -> dict[str, Any]:
    """A photo of notes attached to a message, served by the stand-in's CDN."""
    content = photo_of(NOTES)
    standin.cdn["notes.jpg"] = content
    return {
        "id": "1",
        "filename": "notes.jpg",
        "size": len(content),
        "url": f"{standin.url}/cdn/notes.jpg",
        "proxy_url": f"{standin.url}/cdn/notes.jpg",
        "content_type": "image/jpeg",
    }


async def answered(core: Runtime, bot: TeddyDiscord) -> None:
    """The photo job has run and the outbox has delivered its answer."""
    assert await core.services.jobs.drain(60)  # type: ignore[attr-defined]
    await bot.deliverer().deliver_round()


async def test_an_image_attachment_in_a_dm_reaches_a_vision_model(
    tutor_core: Runtime, bot: TeddyDiscord, standin: DiscordStandIn, fake_llm: FakeLLM
) -> None:
    vision(tutor_core, True)
    message = message_create("is this right?", dm=True, attachments=[image(standin)])
    await standin.dispatch("MESSAGE_CREATE", message)
    await standin.wait_for("POST", f"/channels/{DM_CHANNEL}/messages")
    [reading] = standin.named("POST", f"/channels/{DM_CHANNEL}/messages")
    assert reading.body["content"] == "📷 Looking at your photo…"
    await answered(tutor_core, bot)
    [answer] = standin.named("PATCH", f"/channels/{DM_CHANNEL}/messages/")
    assert answer.body["content"] == "You said: (photo attached) is this right? [image]"
    text_part, image_part = last_user_content(fake_llm)
    assert text_part["text"] == "(photo attached) is this right?"
    assert image_part["image_url"]["url"].startswith("data:image/jpeg;base64,")


async def test_an_image_with_a_mention_in_a_channel_is_answered_in_that_channel(
    tutor_core: Runtime, bot: TeddyDiscord, standin: DiscordStandIn, fake_llm: FakeLLM
) -> None:
    vision(tutor_core, True)
    unaddressed = message_create("look", dm=False, attachments=[image(standin)])
    await standin.dispatch("MESSAGE_CREATE", unaddressed)
    addressed = message_create("explain", dm=False, mention=True, attachments=[image(standin)])
    await standin.dispatch("MESSAGE_CREATE", addressed)
    [reading] = await standin.wait_for("POST", f"/channels/{TEXT_CHANNEL}/messages")
    assert reading.body["content"] == "📷 Looking at your photo…"
    await answered(tutor_core, bot)
    [answer] = standin.named("PATCH", f"/channels/{TEXT_CHANNEL}/messages/")
    assert answer.body["content"] == "You said: (photo attached) explain [image]"
    assert len(fake_llm.chat_requests) == 1  # the photo without a mention was for the room
    assert standin.named("POST", f"/channels/{DM_CHANNEL}/messages") == []
