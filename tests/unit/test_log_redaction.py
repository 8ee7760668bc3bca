"""The redaction filter on every log handler: the secrets we know the shape of never reach
a log line, its arguments or its traceback; ordinary text passes unchanged."""

from __future__ import annotations

import io
import json
import logging

import pytest

from core.logs import CorrelationFilter, JsonFormatter, RedactingFilter, redact

LEAKS = [
    (
        "POST https://api.telegram.org/bot123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0/getMe",
        "AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0",
    ),
    ("token=123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0", "AAHfiqksKZ8WmR2zSjiQ7"),
    ("bot token xoxb-1111-2222-AbCdEfGhIjKl", "AbCdEfGhIjKl"),
    ("socket mode xapp-1-A0ABC-123-deadbeefcafe", "deadbeefcafe"),
    ("refresh xoxe-1-SecretRefresh", "SecretRefresh"),
    ('"GET /auth/google/callback?code=4/0AbSecretCode&state=StateSecret HTTP/1.1" 302', "Secret"),
    ('"GET /slack/oauth_redirect?state=SlackState1&code=SlackCode1 HTTP/1.1" 200', "Slack"),
    ('"GET /calendar/Xy_Z-feedSecret123.ics HTTP/1.1" 200', "feedSecret"),
    ("form email=a@b.org&password=hunter2hunter2", "hunter2"),
    ("{'email': 'a@b.org', 'password': 'hunter2hunter2'}", "hunter2"),
    ('{"password": "hunter2hunter2"}', "hunter2"),
    ("Authorization: Bearer tt_AbCdEfGhIjKlMnOpQrStUvWxYz012345", "AbCdEfGhIjKl"),
    ("made tt_AbCdEfGhIjKlMnOpQrStUvWxYz012345", "AbCdEfGhIjKl"),
    ("query {'code': ['OauthCode1'], 'state': ['OauthState1']}", "Oauth"),
    ('installation {"bot_token": "SlackTok1", "team": "T1"}', "SlackTok1"),
    ("POST /api/v10/interactions/97000/aW50ZXJhY3Rpb246Secret/callback", "aW50ZXJh"),
    ("PATCH /api/v10/webhooks/1234/aW50ZXJhY3Rpb246Secret/messages/@original", "aW50ZXJh"),
    ("response_url=https://hooks.slack.com/commands/T1/123/SlackHookSecret", "SlackHook"),
]


@pytest.mark.parametrize(("line", "secret"), LEAKS)
def test_known_secrets_are_redacted(line: str, secret: str) -> None:
    cleaned = redact(line)
    assert secret not in cleaned and "<redacted>" in cleaned


@pytest.mark.parametrize(
    "line",
    [
        "Reminder at 12:30 for task 5",
        '127.0.0.1:5312 - "GET /tasks?view=week HTTP/1.1" 200',
        "handling telegram event failed",
        "user 42 reviewed card 9 in 2100 ms",
    ],
)
def test_ordinary_lines_are_left_alone(line: str) -> None:
    assert redact(line) == line


def _handler(stream: io.StringIO, formatter: logging.Formatter) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.addFilter(CorrelationFilter())
    handler.addFilter(RedactingFilter())
    handler.setFormatter(formatter)
    return handler


@pytest.mark.parametrize("formatter", [logging.Formatter("%(message)s"), JsonFormatter()])
def test_arguments_and_tracebacks_are_redacted_in_text_and_json(
    formatter: logging.Formatter,
) -> None:
    stream = io.StringIO()
    log = logging.getLogger("test.redaction")
    log.propagate = False
    log.addHandler(_handler(stream, formatter))
    try:
        url = "https://api.telegram.org/bot123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0/x"
        log.warning("calling %s", url)
        try:
            raise ConnectionError(f"could not reach {url}")
        except ConnectionError:
            log.exception("request failed")
    finally:
        log.handlers.clear()
        log.propagate = True
    output = stream.getvalue()
    assert "AAHfiqksKZ8WmR2zSjiQ7" not in output
    assert output.count("<redacted>") >= 2 and "ConnectionError" in output
    if isinstance(formatter, JsonFormatter):
        assert all(json.loads(line) for line in output.splitlines() if line.startswith("{"))
