"""Installations of the bot into a platform's workspaces (one per workspace, its bot token
sealed at rest), and the one-time states of the install flow. Model-only: no chat commands."""
