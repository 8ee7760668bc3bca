"""`teddy chat` answers its first message without importing what that answer does not need
(the startup benchmark, bench/startup_bench.py, says what each import costs): a fresh
interpreter does everything the console does before its first answer, short of the
database, with an AI model configured (nothing asked of it), and no library on the list
below is loaded by then."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys

import pytest

from core.tutor import toolbox, tools
from teddy.startup import CollectorPause

# Each is imported by the one command, job or provider that uses it.
DEFERRED = (
    "jsonschema",  # the tutor's tool arguments (referencing, attrs, rpds with it)
    "referencing",
    "genanki",  # /export apkg (YAML with it)
    "yaml",
    "aiosmtplib",  # sending a mail
    "alembic",  # only when the schema is behind (teddy.migrate)
    "celery",  # JOB_QUEUE=celery
    "kombu",
    "openai",  # a configured model, on its first call (the tutor's ports are built at start)
    "httpx",
    "torch",  # the local embedding model
    "sentence_transformers",
    "numpy",
    "matplotlib",  # /stats chart
    "dateparser",  # a task's date in words
    "icalendar",  # the calendar feed
    "pypdf",  # reading a document
    "lxml",
    "PIL",
    "rapidocr_onnxruntime",
    "fastapi",  # the web companion
    "starlette",
)

CONSOLE_START = """
import json, sys
import teddy.cli, teddy.runtime, bots.console
from sqlalchemy.orm import configure_mappers
from core.app import build_router
from core.jobs import InlineJobQueue
from core.settings import Settings
from teddy.bootstrap import build_services

from core.tutor.service import ports

build_router()
services = build_services(Settings(), redis_url="redis://localhost:1", jobs=InlineJobQueue())
assert ports(services).llm is not None  # the model is configured
configure_mappers()
print(json.dumps(sorted(sys.modules)))
"""


def test_the_console_start_imports_none_of_the_deferred_libraries() -> None:
    model = {"LLM_BASE_URL": "http://127.0.0.1:9/v1", "LLM_MODEL": "some-model"}
    done = subprocess.run(
        [sys.executable, "-c", CONSOLE_START],
        env={**os.environ, **model},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = {name.split(".")[0] for name in json.loads(done.stdout.splitlines()[-1])}
    assert "core" in loaded and "sqlalchemy" in loaded  # it did start the console's core
    assert sorted(loaded & set(DEFERRED)) == []


def test_every_tool_schema_is_a_valid_json_schema() -> None:
    # Checked here rather than by `@tool` at import time (jsonschema is slow to import).
    assert toolbox.__name__ in {t.run.__module__ for t in tools.TOOLS.values()}
    tools.check_schemas()


def test_a_tool_with_a_broken_schema_is_caught() -> None:
    async def run(ctx: tools.ToolContext, args: dict[str, object]) -> str:
        return ""

    tools.tool("broken_for_test", "a tool with a broken schema", {"type": "no such type"})(run)
    try:
        with pytest.raises(Exception, match="no such type"):
            tools.check_schemas()
    finally:
        del tools.TOOLS["broken_for_test"]


def test_the_collector_pause_resumes_once_and_freezes_what_start_made() -> None:
    assert gc.isenabled()
    frozen_before = gc.get_freeze_count()
    pause = CollectorPause()
    try:
        assert not gc.isenabled()
        kept = [object() for _ in range(100)]
    finally:
        pause.resume()
    try:
        assert gc.isenabled()
        assert gc.get_freeze_count() >= frozen_before + len(kept)
        pause.resume()  # a second resume (the `finally` after the early one) does nothing
        assert gc.isenabled()
    finally:
        gc.unfreeze()


LONG_RUNNING_IMPORT = """
import sys, time
from teddy import runtime
assert "openai" not in sys.modules
runtime._import_llm_sdk_in_background()
deadline = time.monotonic() + 60
while "openai" not in sys.modules and time.monotonic() < deadline:
    time.sleep(0.05)
print("openai" in sys.modules)
"""


def test_a_long_running_process_imports_the_model_sdk_before_the_first_question() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LONG_RUNNING_IMPORT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True"
