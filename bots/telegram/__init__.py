"""The Telegram adapter (python-telegram-bot v22): polling or webhook, native UI, file
intake and outbox delivery at Telegram's limits."""

from bots.telegram.adapter import TelegramAdapter, api_urls, build_application
from bots.telegram.translate import PLATFORM

__all__ = ["PLATFORM", "TelegramAdapter", "api_urls", "build_application"]
