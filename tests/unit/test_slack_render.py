from bots.slack.render import BLOCK_LIMIT, SECTION_LIMIT, reply_blocks, to_mrkdwn
from core.chat.messages import Button, Card, Reply


def test_markup_becomes_mrkdwn_with_user_text_escaped() -> None:
    assert to_mrkdwn("**Due** _soon_ [docs](https://x.org) a<b & c>") == (
        "*Due* _soon_ <https://x.org|docs> a&lt;b &amp; c&gt;"
    )
    assert to_mrkdwn("- one\n- two") == "• one\n• two"


def test_long_text_is_split_into_sections_within_the_limit() -> None:
    blocks = reply_blocks(Reply.text("word " * 2000))
    assert len(blocks) >= 4
    assert all(len(b["text"]["text"]) <= SECTION_LIMIT for b in blocks)


def test_a_huge_reply_stays_within_fifty_blocks() -> None:
    blocks = reply_blocks(Reply.text(("x" * 2999 + "\n\n") * 80))
    assert len(blocks) == BLOCK_LIMIT
    assert blocks[-1]["type"] == "context"


def test_buttons_get_unique_action_ids_and_carry_core_actions() -> None:
    reply = Reply.text("pick", [[Button("A", "a:1"), Button("B", "b:2")], [Button("C", "c:3")]])
    elements = next(b for b in reply_blocks(reply) if b["type"] == "actions")["elements"]
    assert [e["action_id"] for e in elements] == ["teddy-0", "teddy-1", "teddy-2"]
    assert [e["value"] for e in elements] == ["a:1", "b:2", "c:3"]


def test_cards_become_a_header_and_fields() -> None:
    blocks = reply_blocks(Reply((Card("Stats", (("Tasks", "3 done"),)),)))
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "Stats"}}
    assert blocks[1]["fields"][0]["text"] == "*Tasks*\n3 done"
