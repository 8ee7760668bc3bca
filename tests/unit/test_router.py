import pytest

from core.app import build_router
from core.chat.messages import Button, Reply
from core.chat.router import Param, Router, action_id, parse_command


def test_parse_command_strips_bot_name_and_lowercases() -> None:
    assert parse_command("/Task@TeddyBot Lab report fri") == ("task", "Lab report fri")
    assert parse_command("/help") == ("help", "")
    assert parse_command("not a command") is None
    assert parse_command("/") is None
    assert parse_command("/ spaced") is None


def test_registering_the_same_command_twice_fails() -> None:
    router = Router()

    @router.command("x", usage="/x", summary="x", area="everyone")
    async def one(ctx, args):  # type: ignore[no-untyped-def]
        return None

    other = Router()

    @other.command("x", usage="/x", summary="x", area="everyone")
    async def two(ctx, args):  # type: ignore[no-untyped-def]
        return None

    with pytest.raises(ValueError, match="registered twice"):
        router.include(other)


def test_button_action_ids_fit_telegram_callback_data() -> None:
    assert action_id("tasks.done", 42) == "tasks.done:42"
    with pytest.raises(ValueError, match="64 bytes"):
        Button("too long", "x" * 65)


def test_reply_text_builds_button_rows() -> None:
    reply = Reply.text("pick", [Button("A", "a"), Button("B", "b")])
    assert [b.action for b in reply.buttons] == ["a", "b"]
    assert reply.plain_text() == "pick"


def test_every_command_in_the_app_has_usage_and_summary() -> None:
    router = build_router()
    for spec in router.specs():
        assert spec.usage.startswith(f"/{spec.name}")
        assert spec.summary


def test_typed_parameters_join_back_into_the_text_the_parser_reads() -> None:
    router = build_router()
    task, focus, card, doc = (router.commands[n] for n in ("task", "focus", "card", "doc"))
    values = {"title": "Lab report", "due": "fri 5pm", "subject": "chem", "priority": "high"}
    assert task.text_for(values) == "/task Lab report fri 5pm #chem !high"
    assert task.text_for({"title": "Lab", "subject": "#chem"}) == "/task Lab #chem"
    assert focus.text_for({"break": 10}) == "/focus 25 10"  # the minutes keep their place
    assert focus.text_for({}) == "/focus"
    assert (
        card.text_for({"front": "Q", "back": "A", "reverse": "reverse"}) == "/card Q | A | reverse"
    )
    assert doc.text_for({"number": 3, "action": "del"}) == "/doc del 3"
    assert router.commands["cards"].text_for({"source": "fromage"}) == "/cards from fromage"


def test_parameters_keep_within_what_every_platform_accepts() -> None:
    router = build_router()
    for spec in router.specs():
        assert len(spec.params) <= 25
        for param in spec.params:
            assert param.suggest is None or param.suggest in router.sources, param
    with pytest.raises(ValueError, match="lowercase"):
        Param("Deck", "x")
    with pytest.raises(ValueError, match="description"):
        Param("deck", "x" * 101)
    with pytest.raises(ValueError, match="choices"):
        Param("period", "which", "choice")
