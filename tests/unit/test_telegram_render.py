from bots.telegram.adapter import api_urls
from bots.telegram.render import (
    DocumentMessage,
    PhotoMessage,
    TextMessage,
    render,
    render_live,
    to_html,
)
from core.chat.markup import escape
from core.chat.messages import Button, Card, FilePart, Reply, Text
from tests.support.telegram_standin import parse_html


def test_markup_becomes_telegram_html() -> None:
    html = to_html("**Due** _soon_: `lab` [notes](https://ex.org/a?b=1&c=2)\n- one\n- two")
    assert html == (
        '<b>Due</b> <i>soon</i>: <code>lab</code> <a href="https://ex.org/a?b=1&amp;c=2">notes</a>'
        "\n• one\n• two"
    )


def test_user_text_with_html_characters_is_shown_literally() -> None:
    typed = "<b>not bold</b> & 5 < 6 **stars** _x_"
    [message] = render(Reply.text(f"Added: {escape(typed)}"))
    assert isinstance(message, TextMessage)
    assert parse_html(message.html) == f"Added: {typed}"


def test_long_text_is_split_at_paragraphs_within_4096_visible_characters() -> None:
    paragraphs = [("word " * 300).strip() for _ in range(5)]  # 1,499 characters each
    messages = render(Reply.text("\n\n".join(paragraphs), [Button("OK", "x.ok")]))
    assert len(messages) == 3
    visible = [parse_html(m.html) for m in messages if isinstance(m, TextMessage)]
    assert all(len(v) <= 4096 for v in visible)
    assert visible[0] == "\n\n".join(paragraphs[:2])
    assert [m.keyboard is not None for m in messages] == [False, False, True]


def test_buttons_become_an_inline_keyboard_carrying_the_action_ids() -> None:
    reply = Reply.text("Pick", [[Button("Done", "tasks.done:1"), Button("Del", "tasks.del:1")]])
    [message] = render(reply)
    assert message.keyboard is not None
    rows = message.keyboard.to_dict()["inline_keyboard"]
    assert rows == [
        [
            {"text": "Done", "callback_data": "tasks.done:1"},
            {"text": "Del", "callback_data": "tasks.del:1"},
        ]
    ]


def test_chart_card_is_a_photo_with_caption_and_files_are_documents() -> None:
    reply = Reply(
        (
            Text("Your week"),
            Card("Focus", (("Mon", "**2h**"),), image=b"png", image_name="week.png"),
            FilePart("export.json", b"{}", "application/json"),
        )
    )
    text, photo, doc = render(reply)
    assert isinstance(text, TextMessage) and parse_html(text.html) == "Your week"
    assert isinstance(photo, PhotoMessage) and photo.name == "week.png"
    assert photo.caption_html == "<b>Focus</b>\nMon: <b>2h</b>"
    assert isinstance(doc, DocumentMessage) and doc.data == b"{}"


def test_live_reply_is_one_editable_message_cut_at_the_limit() -> None:
    live = render_live(Reply.text("x" * 5000, [Button("Stop", "focus.stop:1")], live_id="f1"))
    assert len(parse_html(live.html)) <= 4096
    assert live.keyboard is not None


def test_api_urls_follow_ptb_conventions() -> None:
    assert api_urls("https://api.telegram.org") == (
        "https://api.telegram.org/bot",
        "https://api.telegram.org/file/bot",
    )
    assert api_urls("http://127.0.0.1:9/bot/") == (
        "http://127.0.0.1:9/bot",
        "http://127.0.0.1:9/file/bot",
    )
