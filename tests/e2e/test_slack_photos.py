"""An image shared with Teddy on Slack goes to the tutor like a Telegram photo: the real
slack-bolt app behind our endpoint, the Web API stand-in serving the file, a vision
model's stand-in; the answer replaces "Looking at your photo…" through the outbox."""

from __future__ import annotations

from typing import Any

import httpx

from bots.slack.adapter import SlackAdapter
from teddy.runtime import Runtime
from tests.e2e import test_slack as base
from tests.e2e.test_slack import post_event
from tests.e2e.test_telegram_photos import NOTES, last_user_content, photo_of, vision
from tests.integration.tutor_fixtures import fake_llm, fake_llm_server, tutor_core
from tests.support.fake_llm import FakeLLM
from tests.support.slack_standin import SlackStandIn

__all__ = ["fake_llm", "fake_llm_server", "http", "slack", "standin", "tutor_core"]

standin, slack, http = base.standin, base.slack, base.http  # the same fixtures


def image_share(
    standin: SlackStandIn,
    name: str,
    data: bytes,
    *,
    text: str = "is this right?",
    user: str = "U1",
    channel: str = "D100",
) -> dict[str, Any]:
    """A JPEG shared in a DM with a question, served by the stand-in."""
    standin.files[name] = data
    return {
        "type": "message",
        "subtype": "file_share",
        "channel_type": "im",
        "user": user,
        "channel": channel,
        "text": text,
        "ts": "8.8",
        "files": [
            {
                "id": "F2",
                "name": name,
                "mimetype": "image/jpeg",
                "size": len(data),
                "url_private_download": f"{standin.url}/files/{name}",
            }
        ],
    }


async def answered(core: Runtime, slack: SlackAdapter) -> None:
    assert await core.services.jobs.drain(60)  # type: ignore[attr-defined]
    await slack.deliverer().deliver_round()


async def test_an_image_shared_in_a_dm_reaches_a_vision_model_and_the_answer_replaces_the_note(
    tutor_core: Runtime,
    slack: SlackAdapter,
    http: httpx.AsyncClient,
    standin: SlackStandIn,
    fake_llm: FakeLLM,
) -> None:
    vision(tutor_core, True)
    await post_event(http, image_share(standin, "notes.jpg", photo_of(NOTES)), "Ev-photo")
    [reading] = await standin.wait_for("chat.postMessage")
    assert reading.params["channel"] == "D100"
    assert reading.params["text"] == "📷 Looking at your photo…"

    await answered(tutor_core, slack)
    [answer] = standin.named("chat.update")
    assert answer.params["channel"] == "D100"
    assert len(standin.named("chat.postMessage")) == 1  # the note was edited into the answer
    assert answer.params["text"] == "You said: (photo attached) is this right? [image]"
    text_part, image_part = last_user_content(fake_llm)
    assert text_part["text"] == "(photo attached) is this right?"
    assert image_part["image_url"]["url"].startswith("data:image/jpeg;base64,")


async def test_without_vision_the_text_read_from_the_image_reaches_the_model(
    tutor_core: Runtime,
    slack: SlackAdapter,
    http: httpx.AsyncClient,
    standin: SlackStandIn,
    fake_llm: FakeLLM,
) -> None:
    vision(tutor_core, False)
    fake_llm.vision = False
    await post_event(http, image_share(standin, "krebs.jpg", photo_of(NOTES)), "Ev-ocr")
    [reading] = await standin.wait_for("chat.postMessage")
    assert reading.params["text"] == "📷 Reading your photo…"

    await answered(tutor_core, slack)
    content = last_user_content(fake_llm)
    assert isinstance(content, str) and "mitochondrial matrix" in content.lower()
    [answer] = standin.named("chat.update")
    assert answer.params["text"].startswith("You said: is this right?")
    assert "text recognition" in answer.params["text"]


async def test_each_students_photo_is_answered_in_their_own_dm_from_their_own_question(
    tutor_core: Runtime,
    slack: SlackAdapter,
    http: httpx.AsyncClient,
    standin: SlackStandIn,
    fake_llm: FakeLLM,
) -> None:
    vision(tutor_core, True)
    mine = image_share(standin, "a.jpg", photo_of(NOTES), text="what is the Krebs cycle?")
    await post_event(http, mine, "Ev-a")
    theirs = image_share(
        standin, "b.jpg", photo_of("2 + 2 = 5"), text="check my sum", user="U2", channel="D200"
    )
    await post_event(http, theirs, "Ev-b")
    await standin.wait_for("chat.postMessage", 2)
    await answered(tutor_core, slack)

    updates = {c.params["channel"]: c.params["text"] for c in standin.named("chat.update")}
    assert "Krebs" in updates["D100"] and "sum" not in updates["D100"]
    assert "check my sum" in updates["D200"] and "Krebs" not in updates["D200"]
    asked = [str(r["messages"]) for r in fake_llm.chat_requests]
    assert len(asked) == 2 and sum("Krebs" in a for a in asked) == 1
    assert all(not ("Krebs" in a and "my sum" in a) for a in asked)
