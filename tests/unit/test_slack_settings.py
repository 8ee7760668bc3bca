"""Which Slack mode the settings select, what `teddy up` starts for it, and how chat ids
carry their workspace."""

from __future__ import annotations

from pydantic import SecretStr

from bots.slack.installations import chat_key, split_key
from bots.slack.run import oauth_config
from core.settings import Settings
from teddy.cli_up import child_specs


def settings(**kw: object) -> Settings:
    return Settings(_env_file=None, **kw)  # type: ignore[arg-type]


def test_client_credentials_select_many_workspaces_over_a_bot_token() -> None:
    assert settings().slack_mode() is None
    assert settings(slack_bot_token=SecretStr("xoxb")).slack_mode() == "single"
    assert settings(slack_client_id="1.2").slack_mode() is None  # the secret is missing
    empty = settings(slack_client_id="", slack_client_secret=SecretStr(""))
    assert empty.slack_mode() is None
    assert settings(slack_bot_token=SecretStr("")).slack_mode() is None
    both = settings(
        slack_bot_token=SecretStr("xoxb"),
        slack_client_id="1.2",
        slack_client_secret=SecretStr("s"),
    )
    assert both.slack_mode() == "workspaces"


def test_oauth_config_reads_scopes_separated_by_commas_or_spaces() -> None:
    assert oauth_config(settings(slack_bot_token=SecretStr("xoxb"))) is None
    config = oauth_config(
        settings(
            slack_client_id="1.2",
            slack_client_secret=SecretStr("s"),
            slack_scopes="commands, chat:write  im:history,",
            slack_redirect_uri="https://teddy.example/slack/oauth_redirect",
        )
    )
    assert config is not None
    assert config.scopes == ("commands", "chat:write", "im:history")
    assert config.redirect_uri == "https://teddy.example/slack/oauth_redirect"
    assert "'s'" not in repr(config)
    default = oauth_config(settings(slack_client_id="1.2", slack_client_secret=SecretStr("s")))
    assert default is not None and "commands" in default.scopes and "chat:write" in default.scopes


def test_teddy_up_starts_slack_for_either_credential_set_over_http_without_an_app_token() -> None:
    oauth = settings(slack_client_id="1.2", slack_client_secret=SecretStr("s"))
    spec = next(s for s in child_specs(oauth, {"slack"}) if s.name == "slack")
    assert spec.argv[-2:] == ["slack", "--http"]
    socket = settings(slack_bot_token=SecretStr("xoxb"), slack_app_token=SecretStr("xapp"))
    spec = next(s for s in child_specs(socket, {"slack"}) if s.name == "slack")
    assert spec.argv[-1] == "slack"
    assert [s.name for s in child_specs(settings(), {"slack"})] == ["worker", "beat"]


def test_chat_keys_carry_the_workspace_only_when_there_is_one() -> None:
    assert chat_key(None, "C1") == "C1" and split_key("C1") == (None, "C1")
    assert chat_key("T1", "C1") == "T1:C1" and split_key("T1:C1") == ("T1", "C1")
    assert split_key(chat_key("E1", "home-U1")) == ("E1", "home-U1")
