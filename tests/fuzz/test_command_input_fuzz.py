"""The command parser and the console's JSON-lines input never fail on odd input."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from bots.console import ConsoleSession
from core.chat.messages import Incoming
from core.chat.router import parse_command

command_like = st.builds(
    lambda slash, head, bot, sep, rest: f"{slash}{head}{bot}{sep}{rest}",
    st.sampled_from(["/", " /", "//", ""]),
    st.text(max_size=12),
    st.sampled_from(["", "@TeddyBot", "@"]),
    st.sampled_from(["", " ", "\n", "\t", "  "]),
    st.text(max_size=40),
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=80), command_like))
def test_parse_command_returns_a_clean_name_or_none(text: str) -> None:
    parsed = parse_command(text)
    if parsed is None:
        return
    name, args = parsed
    assert name and name == name.lower() and name.replace("_", "").isalnum()
    assert args == args.strip()
    assert text.strip().startswith("/")


@settings(max_examples=200, deadline=None)
@given(
    st.from_regex(r"[a-z][a-z_]{0,15}", fullmatch=True),
    st.text(max_size=60).filter(lambda s: "\n" not in s),
)
def test_parse_command_keeps_the_arguments(name: str, args: str) -> None:
    assert parse_command(f"/{name.upper()}@TeddyBot {args}") == (name, args.strip())


def _session(out: io.StringIO) -> ConsoleSession:
    # Turning a line into an Incoming never touches the core, so none is opened here.
    return ConsoleSession(cast(Any, None), "fuzz", None, True, out=out)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
json_objects = st.dictionaries(
    st.sampled_from(["text", "action", "file", "other"]) | st.text(max_size=6),
    json_values,
    max_size=4,
)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(max_size=120),
        json_objects.map(json.dumps),
        json_values.map(json.dumps),
        st.text(max_size=40).map(lambda t: "{" + t),
    )
)
def test_console_line_becomes_an_incoming_or_a_clear_error(line: str) -> None:
    out = io.StringIO()
    session = _session(out)
    incoming = session.incoming_from_line(line)
    printed = [json.loads(row) for row in out.getvalue().split("\n") if row]
    if incoming is None:
        assert not line.strip() or [p["kind"] for p in printed] == ["error"]
    else:
        assert isinstance(incoming, Incoming)
        assert printed == []
        if incoming.attachments:
            assert Path(json.loads(line)["file"]).expanduser().is_file()
