"""/forecast's calibration in chat: the student's own reviews replayed through FSRS, a
chart once there are enough, and nobody else's reviews."""

from __future__ import annotations

from core.chat.messages import Card
from teddy.runtime import Runtime
from tests.integration.test_insights_chat import user_id
from tests.integration.test_insights_web import give_reviewed_deck


async def test_forecast_compares_predictions_with_the_students_own_answers(
    make_chat,  # type: ignore[no-untyped-def]
    core: Runtime,
) -> None:
    ann, ben = make_chat("ann"), make_chat("ben")
    await ann.say("/help")
    await ben.say("/help")
    await give_reviewed_deck(core, await user_id(core, "ann"), 30)
    await give_reviewed_deck(core, await user_id(core, "ben"), 6)
    replies = await ann.send("/forecast")
    said = "\n".join(r.plain_text() for r in replies)
    assert "Calibration over 60 reviews" in said and "you recalled 83%" in said
    cards = {p.title: p for r in replies for p in r.parts if isinstance(p, Card)}
    assert set(cards) == {"Retention forecast", "Predicted vs recalled"}
    assert cards["Predicted vs recalled"].image is not None
    assert cards["Predicted vs recalled"].image.startswith(b"\x89PNG")
    assert ("reviews compared", "60") in cards["Predicted vs recalled"].fields

    ben_said = await ben.say("/forecast")  # 12 predictions: too few for a curve
    assert "Calibration: 12 of the 20 reviews" in ben_said
    assert "Predicted vs recalled" not in ben_said
