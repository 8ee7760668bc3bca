"""Schemathesis against the OpenAPI spec of a running `teddy api`: generated requests to
every /api/v1 operation (signed in with a real token) never get a server error."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings

from teddy.servers import Servers
from tests.e2e.web_process import running_api

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def api_token(base: str) -> str:
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        token = CSRF.search(client.get("/signup").text)
        assert token
        client.post(
            "/signup",
            data={
                "csrf": token.group(1),
                "email": "fuzz@example.org",
                "password": "correct horse battery",
            },
        )
        token = CSRF.search(client.get("/settings").text)
        assert token
        form = {"csrf": token.group(1), "name": "fuzz", "scope:read": "1", "scope:write": "1"}
        page = client.post("/tokens", data=form)
        found = re.search(r'id="new-token">([^<]+)<', page.text)
        assert found, page.text
        return found.group(1)


def test_generated_requests_never_get_a_server_error(tmp_path: Path, servers: Servers) -> None:
    with running_api(tmp_path, servers) as (base, _env):
        headers = {"authorization": f"Bearer {api_token(base)}"}
        schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
        failures: list[str] = []
        checked = 0
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.method.upper() == "DELETE" and "tokens" in operation.path:
                continue  # deleting our own token would end the run early, not find a bug

            @given(case=operation.as_strategy())
            @settings(
                max_examples=15,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def call(case: schemathesis.Case) -> None:
                response = case.call(base_url=base, headers=headers)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")

            call()
            checked += 1
        assert checked >= 8
        assert failures == []
