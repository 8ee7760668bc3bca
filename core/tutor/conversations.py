"""The web's tutor conversations: one chat key for the signed-in student, the list of
their conversations there (newest first) and each one's messages, scoped to the student."""

from __future__ import annotations

WEB_CHAT_KEY = "web"
