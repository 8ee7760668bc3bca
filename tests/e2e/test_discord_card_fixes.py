"""New commands through the real discord.py client and the Discord stand-in: their typed
options are registered and joined back into the text the core parses."""

from __future__ import annotations

from bots.discord.adapter import TeddyDiscord
from tests.e2e.test_discord_options import bot, run, standin  # noqa: F401  (fixtures)
from tests.support.discord_standin import DiscordStandIn


async def test_editcard_and_snooze_take_typed_options(
    bot: TeddyDiscord,  # noqa: F811
    standin: DiscordStandIn,  # noqa: F811
) -> None:
    assert "Created deck" in await run(standin, "deck", {"deck": "Bio"}, dm=True)
    await run(standin, "card", {"front": "cell", "back": "unit of life"}, dm=True)
    edited = await run(
        standin, "editcard", {"number": 1, "front": "cell", "back": "unit of all life"}, dm=True
    )
    assert edited == "Updated card **1** in **Bio**: cell → unit of all life"
    listed = await run(standin, "cards", {"deck": "Bio", "search": "life"}, dm=True)
    assert listed.startswith("**Cards in Bio matching “life”** (1)\n")
    assert "**1**. cell → unit of all life" in listed
    await run(standin, "task", {"title": "Essay", "due": "fri 5pm"}, dm=True)
    snoozed = await run(standin, "snooze", {"number": 1, "when": "1h"}, dm=True)
    assert snoozed.startswith("💤 Snoozed. I'll remind you Wed 25 Nov 10:00: Essay")
