"""The Discord adapter (discord.py 2.x): slash commands, buttons, embeds, voice study time."""
