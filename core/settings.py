"""All configuration in one place: environment variables and an optional `.env` file."""

from __future__ import annotations

import os
import secrets
import time
from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# What the Slack app asks for: the slash command, messages in DMs and mentions, files both ways.
DEFAULT_SLACK_SCOPES = "commands,chat:write,im:history,app_mentions:read,files:read,files:write"


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("study-teddy", appauthor=False))


class Settings(BaseSettings):
    """Study Teddy's settings. Every field can be set as an environment variable of the
    same name in upper case (e.g. `DATABASE_URL`)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    teddy_home: Path = Field(default_factory=_default_home)
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: SecretStr | None = None
    default_timezone: str = "UTC"
    log_level: str = "INFO"
    public_base_url: str = "http://127.0.0.1:8000"

    # Platforms: an adapter runs when its credentials are set.
    telegram_bot_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    discord_bot_token: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    # Slack in many workspaces: each installs the app through OAuth (/slack/install) and its
    # bot token is kept sealed in the database. Takes precedence over SLACK_BOT_TOKEN.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_scopes: str = DEFAULT_SLACK_SCOPES
    # Where Slack sends the installer back; unset: the first redirect URL of the Slack app.
    slack_redirect_uri: str | None = None

    # LLM: any OpenAI-compatible endpoint.
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    # Seconds to wait for the provider's first token, and between streamed tokens.
    llm_timeout_seconds: float = 30.0
    llm_max_retries: int = 3
    llm_retry_base_seconds: float = 0.5
    # The model reads pictures (OpenAI-style `image_url` parts): a photo sent in a chat goes
    # to it as is. Off: the photo's text is recognised locally (the `ocr` extra) instead.
    llm_vision: bool = False
    # Tutor limits: requests per user per minute (0 = off) and tokens per user per UTC day.
    tutor_requests_per_minute: int = 10
    tutor_daily_token_budget: int = 200_000
    tutor_memory_token_budget: int = 3_000
    tutor_stream_edit_seconds: float = 1.0
    tutor_quiz_questions: int = 5

    # Web companion: Google sign-in (OpenID Connect). Off while the client id is unset.
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    # Sign-in attempts per client address (and per email) per minute; API calls per token.
    signin_rate_per_minute: int = 10
    api_rate_per_minute: int = 600
    # Mail for address verification and password reset: smtp://user:pass@host:587 (STARTTLS
    # when the server offers it) or smtps://user:pass@host:465 (TLS). Unset: no mail, and
    # the pages say so. MAIL_FROM default: no-reply@<host of PUBLIC_BASE_URL>.
    smtp_url: SecretStr | None = None
    mail_from: str | None = None
    # Peers whose X-Forwarded-For / X-Forwarded-Proto `teddy api` believes: the reverse
    # proxy's addresses or networks, comma-separated ("*" trusts anyone: never when the API
    # port is reachable from outside).
    forwarded_allow_ips: str = "127.0.0.1"

    # Tasks: reminders this many minutes before a task's due time (0 = at the due time).
    task_reminder_minutes: list[int] = Field(default_factory=lambda: [60, 0])
    # Background jobs: "inline" runs them inside this process (teddy chat, tests); "celery"
    # sends them to Celery workers (teddy up, production).
    job_queue: Literal["inline", "celery"] = "inline"
    # Celery's broker and result backend; default: the Redis of REDIS_URL (or the embedded one).
    # RabbitMQ works too: CELERY_BROKER_URL=amqp://user:pass@host:5672//
    celery_broker_url: str | None = None
    celery_result_backend: str | None = None
    job_time_limit: int = 900  # seconds one job may run before it is stopped
    job_max_retries: int = 5  # retries (with backoff) for transient DB/Redis errors
    job_retry_backoff: float = 2.0  # seconds before the first retry; doubles each time
    # A running job holds a lease it renews every third of this; when its worker dies the
    # lease runs out and the relay sweep hands the job to another worker (within a minute).
    job_lease_seconds: int = Field(default=30, ge=3)
    # Redis broker only: an unacknowledged job is redelivered after this many seconds (a worker
    # that died mid-job). Must exceed the longest job; default: job_time_limit + 300.
    celery_visibility_timeout: int | None = None
    # How long a stopping worker lets running jobs finish before it hands them back to the queue.
    worker_shutdown_grace: float = 5.0
    worker_concurrency: int = 2
    # Comma-separated modules the workers import besides the capabilities (more jobs).
    teddy_extra_job_modules: str = ""
    log_format: Literal["text", "json"] = "text"
    # Delivered (and dead) notifications are deleted this many days after delivery
    # (creation for dead ones). At least a day: dedupe keys must outlive the sweeps' windows.
    outbox_retention_days: int = Field(default=7, ge=1)

    # Documents.
    max_upload_mb: int = 25
    max_pages: int = 500
    # Embeddings: auto | openai | local | none (see core.documents.embeddings).
    embeddings_provider: str = "auto"
    embeddings_base_url: str | None = None
    embeddings_model: str | None = None
    embeddings_api_key: SecretStr | None = None
    # Internal: the `teddy embed` service (http://host:port) that `teddy up` points bots
    # and the API at, so only it loads the local model. Used when the provider is `auto`
    # and no EMBEDDINGS_MODEL is set.
    embeddings_url: str | None = None
    # HNSW search breadth (pgvector hnsw.ef_search) for document retrieval.
    retrieval_ef_search: int = 100

    def slack_mode(self) -> Literal["workspaces", "single"] | None:
        """How Slack runs: installed into many workspaces through OAuth ("workspaces"), in
        one workspace with SLACK_BOT_TOKEN ("single"), or not at all (None)."""
        # Empty values count as unset (a Kubernetes Secret lists every key, most of them "").
        secret = self.slack_client_secret
        if self.slack_client_id and secret is not None and secret.get_secret_value():
            return "workspaces"
        if self.slack_bot_token is not None and self.slack_bot_token.get_secret_value():
            return "single"
        return None

    def home(self) -> Path:
        """The data directory, created on first use (only its owner may enter it)."""
        self.teddy_home.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self.teddy_home

    def resolved_secret_key(self) -> str:
        """The configured secret key, or one generated once and kept in the data directory
        (created readable by its owner only; concurrent first runs agree on one key)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.home() / "secret_key"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _read_secret(path)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48))
            file.flush()
            os.fsync(file.fileno())
        return _read_secret(path)


def _read_secret(path: Path) -> str:
    """The key another process may be writing this very moment: wait for it briefly."""
    deadline = time.monotonic() + 5.0
    while not (key := path.read_text().strip()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} is empty; delete it to make a new secret key")
        time.sleep(0.01)
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
