"""All configuration in one place: environment variables and an optional `.env` file."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    # LLM: any OpenAI-compatible endpoint.
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None

    # Tasks: reminders this many minutes before a task's due time (0 = at the due time).
    task_reminder_minutes: list[int] = Field(default_factory=lambda: [60, 0])

    # Documents.
    max_upload_mb: int = 25
    max_pages: int = 500
    # Embeddings: auto | openai | local | none (see core.documents.embeddings).
    embeddings_provider: str = "auto"
    embeddings_base_url: str | None = None
    embeddings_model: str | None = None
    embeddings_api_key: SecretStr | None = None
    # HNSW search breadth (pgvector hnsw.ef_search) for document retrieval.
    retrieval_ef_search: int = 100

    def home(self) -> Path:
        """The data directory, created on first use."""
        self.teddy_home.mkdir(parents=True, exist_ok=True)
        return self.teddy_home

    def resolved_secret_key(self) -> str:
        """The configured secret key, or one generated once and kept in the data directory."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.home() / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
