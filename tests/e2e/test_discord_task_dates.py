"""Through the real discord.py client and the Discord stand-in: a date inside a /task
title is read and taken out of it, and a day number that was not read is said."""

from __future__ import annotations

from bots.discord.adapter import TeddyDiscord
from tests.e2e.test_discord_options import bot, run, standin  # noqa: F401  (fixtures)
from tests.support.discord_standin import DiscordStandIn


async def test_a_date_inside_a_title_is_read_and_an_unread_one_is_said(
    bot: TeddyDiscord,  # noqa: F811
    standin: DiscordStandIn,  # noqa: F811
) -> None:
    added = await run(standin, "task", {"title": "Submit form on the 10th"}, dm=True)
    assert added.startswith("Added **1**. Submit form\n")
    assert "due Thu 10 Dec 17:00" in added
    unread = await run(standin, "task", {"title": "Pay phone bill 28th"}, dm=True)
    assert "No due date." in unread and "(I didn't read “28th” as a date)" in unread
