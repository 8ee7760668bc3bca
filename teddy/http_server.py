"""uvicorn as each of our HTTP processes runs it behind a reverse proxy: the API, the
Telegram webhook receiver and Slack's HTTP events."""

from __future__ import annotations

from typing import Any

# Longer than the proxy keeps idle upstream connections (`keepalive_timeout` in
# deploy/nginx/nginx.conf) and than common load balancers' idle timeouts (60 s), so the
# proxy, not uvicorn, closes an idle connection. Otherwise a request the proxy sends on
# a connection uvicorn is closing at that moment fails, and a POST is not retried: a 502
# for a Slack event or a Telegram update.
KEEP_ALIVE_SECONDS = 75


def http_server(
    app: Any,
    host: str,
    port: int,
    *,
    log_level: str = "warning",
    proxy_headers: bool = False,
    forwarded_allow_ips: str | None = None,
) -> Any:
    """A `uvicorn.Server` for `app` (imported here: only the HTTP processes need it).
    `forwarded_allow_ips`: the peers whose X-Forwarded-* headers are believed (the proxy)."""
    import uvicorn

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        # No handlers of uvicorn's own: its records (the access log too) go through the
        # root handlers of core.logs, which redact tokens and feed URLs.
        log_config=None,
        log_level=log_level,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    return uvicorn.Server(config)
