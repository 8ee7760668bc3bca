"""Conversation memory: the system prompt, a rolling summary of older turns, and the
most recent turns verbatim, all within a token budget. Pure functions: the service
loads the rows, `assemble` decides what the model sees."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.tutor.llm import Message
from core.tutor.tokens import PER_MESSAGE, count_tokens

# Older turns are summarised in batches, once they outgrow this share of the budget, so
# we do not pay for a summary call on every turn.
SUMMARY_BATCH_SHARE = 4


@dataclass(frozen=True)
class Turn:
    id: int
    role: str
    content: str
    tokens: int  # text tokens plus the per-message framing


@dataclass
class Memory:
    messages: list[Message]
    tokens: int
    # Turns that fell out of the window and are not yet in the summary, oldest first.
    unsummarized: list[Turn]

    def needs_summary(self, budget: int) -> bool:
        pending = sum(t.tokens for t in self.unsummarized)
        return pending >= max(budget // SUMMARY_BATCH_SHARE, 1)


def turn_tokens(content: str) -> int:
    return count_tokens(content) + PER_MESSAGE


def rows_to_load(budget: int) -> int:
    """Enough newest turns to fill any budget: each turn costs at least PER_MESSAGE."""
    return budget // PER_MESSAGE + 1


def assemble(system: str, summary: str, newest_first: Sequence[Turn], budget: int) -> Memory:
    """Fit the conversation into `budget` tokens. The newest turn (the student's message)
    is always included, even alone over budget; older turns drop out whole, oldest
    first, and become `unsummarized`."""
    head: list[Message] = [{"role": "system", "content": system}]
    used = count_tokens(system) + PER_MESSAGE
    if summary:
        note = f"Summary of the earlier conversation with this student:\n{summary}"
        head.append({"role": "system", "content": note})
        used += count_tokens(note) + PER_MESSAGE
    kept: list[Turn] = []
    dropped: list[Turn] = []
    for turn in newest_first:
        if dropped or (kept and used + turn.tokens > budget):
            dropped.append(turn)
            continue
        kept.append(turn)
        used += turn.tokens
    recent = [{"role": t.role, "content": t.content} for t in reversed(kept)]
    return Memory(head + recent, used, list(reversed(dropped)))
