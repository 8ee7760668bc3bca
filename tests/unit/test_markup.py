from core.chat.markup import escape, spans, split_text, to_plain


def test_spans_recognise_bold_italic_code_and_links() -> None:
    result = spans("**Due** _soon_: `ls` see [docs](https://example.org/a)")
    assert [(s.kind, s.text) for s in result] == [
        ("bold", "Due"),
        ("text", " "),
        ("italic", "soon"),
        ("text", ": "),
        ("code", "ls"),
        ("text", " see "),
        ("link", "docs"),
    ]
    assert result[-1].url == "https://example.org/a"


def test_escaped_user_text_round_trips_as_plain_text() -> None:
    nasty = "my_file_name **not bold** [x](y) `z` \\"
    assert to_plain(escape(nasty)) == nasty
    assert all(s.kind == "text" for s in spans(escape(nasty)))


def test_snake_case_words_are_not_italic() -> None:
    assert to_plain("call some_function_name now") == "call some_function_name now"


def test_split_prefers_paragraph_boundaries() -> None:
    text = "first paragraph here\n\nsecond one is here\n\nthird"
    assert split_text(text, 22) == ["first paragraph here", "second one is here", "third"]


def test_split_cuts_words_longer_than_the_limit() -> None:
    assert split_text("a" * 10, 4) == ["aaaa", "aaaa", "aa"]


def test_split_keeps_every_character_of_text_without_spaces_lost() -> None:
    text = " ".join(f"word{i}" for i in range(500))
    pieces = split_text(text, 100)
    assert all(len(p) <= 100 for p in pieces)
    assert " ".join(pieces).split() == text.split()


def test_render_applies_a_platform_style_and_escapes_every_span() -> None:
    from core.chat.markup import Style, render

    style = Style(
        escape=lambda t: t.replace("<", "&lt;"),
        bold="<b>{}</b>",
        italic="<i>{}</i>",
        code="<code>{}</code>",
        link='<a href="{url}">{text}</a>',
        bullet="• ",
    )
    text = "- **a<b** _i_ `c<d` [l<](https://x.org/?a=1)\n- second"
    assert render(text, style) == (
        "• <b>a&lt;b</b> <i>i</i> <code>c&lt;d</code> "
        '<a href="https://x.org/?a=1">l&lt;</a>\n• second'
    )
