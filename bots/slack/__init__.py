"""The Slack adapter (slack-bolt AsyncApp): slash command, mentions, DMs, Block Kit."""
