import pytest

from core.app import build_router
from core.chat.messages import Button, Reply
from core.chat.router import Router, action_id, parse_command


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
