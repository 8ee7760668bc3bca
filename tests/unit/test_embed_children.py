"""`teddy up` serves the local model from one `teddy embed` child to the bots and the API."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from core.documents.embeddings import LocalEmbedder, OpenAIEmbedder, embedder_from_settings
from core.settings import Settings
from teddy.cli_up import child_specs
from teddy.embed_service import parse_inputs

needs_model = pytest.mark.skipif(
    not LocalEmbedder.available(), reason="the local-embeddings extra is not installed"
)
ALL = {"api", "telegram", "embed"}


def settings(**kw: object) -> Settings:
    return Settings(_env_file=None, telegram_bot_token=SecretStr("t"), **kw)  # type: ignore[arg-type]


@needs_model
def test_teddy_up_points_the_api_and_bots_at_one_embed_child_and_the_worker_keeps_its_own() -> None:
    specs = {s.name: s for s in child_specs(settings(), ALL, embed_port=8123)}
    assert list(specs) == ["worker", "beat", "embed", "api", "telegram"]
    assert specs["embed"].argv[-3:] == ["embed", "--port", "8123"]
    assert specs["api"].env == {"EMBEDDINGS_URL": "http://127.0.0.1:8123"}
    assert specs["telegram"].env == {"EMBEDDINGS_URL": "http://127.0.0.1:8123"}
    assert specs["worker"].env == {} and specs["beat"].env == {}


@needs_model
def test_an_explicit_embeddings_choice_starts_no_embed_child() -> None:
    for chosen in (
        settings(embeddings_provider="local"),
        settings(embeddings_provider="none"),
        settings(embeddings_model="text-embedding-3-small"),
    ):
        assert "embed" not in [s.name for s in child_specs(chosen, ALL)]
    assert "embed" not in [s.name for s in child_specs(settings(), {"embed"})]  # no client


def test_embeddings_url_makes_the_process_ask_the_service_for_the_local_model() -> None:
    embedder = embedder_from_settings(settings(embeddings_url="http://127.0.0.1:9"))
    assert isinstance(embedder, OpenAIEmbedder) and embedder.model == "all-MiniLM-L6-v2"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "JSON object"),
        ({"model": "other", "input": "x"}, "Unknown model"),
        ({"model": "all-MiniLM-L6-v2", "input": [1, 2]}, "string or a list of strings"),
        ({"model": "all-MiniLM-L6-v2", "input": [""]}, "1 to 100,000 characters"),
        ({"model": "all-MiniLM-L6-v2", "input": "x", "encoding_format": "hex"}, "base64"),
    ],
)
def test_bad_embeddings_requests_get_a_clear_message(body: object, message: str) -> None:
    problem = parse_inputs(body)
    assert isinstance(problem, str) and message in problem


def test_a_single_string_is_one_input() -> None:
    assert parse_inputs({"model": "all-MiniLM-L6-v2", "input": "hello"}) == ["hello"]
