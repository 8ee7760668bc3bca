"""Memory assembly, token counting, argument parsing and stream throttling (no I/O)."""

from __future__ import annotations

import pytest

from core.errors import BadInput
from core.tutor.llm import LLMError
from core.tutor.memory import Turn, assemble, turn_tokens
from core.tutor.quizzes import parse_quiz_args
from core.tutor.service import parse_json_object
from core.tutor.tokens import count_tokens, exact_counting


def turns(n: int, words: int = 10) -> list[Turn]:
    """n turns, newest first, alternating user/assistant."""
    out = []
    for i in range(n):
        text = f"turn {i} " + "lorem ipsum " * words
        out.append(Turn(i + 1, "user" if i % 2 == 0 else "assistant", text, turn_tokens(text)))
    return list(reversed(out))


def test_tokens_are_counted_offline_with_the_real_tokenizer() -> None:
    assert exact_counting()
    assert count_tokens("hello world") == 2


def test_memory_keeps_newest_turns_within_budget_and_reports_the_rest() -> None:
    history = turns(100)
    memory = assemble("You are a tutor.", "", history, budget=500)
    assert memory.tokens <= 500
    assert memory.messages[-1]["content"] == history[0].content
    kept = len(memory.messages) - 1
    assert memory.oldest_kept_id == 100 - kept + 1
    assert memory.pending_tokens == sum(t.tokens for t in history[kept:])
    assert memory.needs_summary(500)


def test_memory_always_includes_the_newest_turn_even_over_budget() -> None:
    huge = "word " * 2000
    memory = assemble("sys", "", [Turn(1, "user", huge, turn_tokens(huge))], budget=100)
    assert memory.messages[-1]["content"] == huge


def test_summary_comes_after_the_system_prompt_and_counts_against_the_budget() -> None:
    summary = "The student is Zed, studying biology. " * 20
    without = assemble("sys", "", turns(100), budget=800)
    with_summary = assemble("sys", summary, turns(100), budget=800)
    assert "Zed" in with_summary.messages[1]["content"]
    assert len(with_summary.messages) < len(without.messages) + 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("mitosis", ("mitosis", "medium")),
        ("cell biology Hard", ("cell biology", "hard")),
        ("easy", None),
    ],
)
def test_quiz_arguments(args: str, expected: tuple[str, str] | None) -> None:
    if expected is None:
        with pytest.raises(BadInput):
            parse_quiz_args(args)
    else:
        assert parse_quiz_args(args) == expected


def test_json_is_found_inside_prose_and_fences() -> None:
    assert parse_json_object('Sure!\n```json\n{"correct": true}\n```') == {"correct": True}
    with pytest.raises(LLMError):
        parse_json_object("no json here")
