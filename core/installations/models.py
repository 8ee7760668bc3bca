from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TimestampMixin


class Installation(TimestampMixin, Base):
    """The bot installed into one workspace of a platform (a Slack team, or a whole Slack
    organisation for an org-wide install). Re-installing updates the same row."""

    __tablename__ = "installations"
    __table_args__ = (UniqueConstraint("platform", "workspace_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    # The key the adapter files conversations under: the workspace, or the organisation for
    # an org-wide install.
    workspace_id: Mapped[str] = mapped_column(String(64))
    workspace_name: Mapped[str] = mapped_column(String(200), default="")
    organization_id: Mapped[str | None] = mapped_column(String(64), index=True)
    org_wide: Mapped[bool] = mapped_column(default=False)
    app_id: Mapped[str | None] = mapped_column(String(64))
    bot_id: Mapped[str | None] = mapped_column(String(64))
    bot_user_id: Mapped[str | None] = mapped_column(String(64))
    # Secrets, sealed with a key derived from SECRET_KEY (see core.installations.sealing).
    bot_token_sealed: Mapped[str] = mapped_column(Text)
    refresh_token_sealed: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None]
    scopes: Mapped[str] = mapped_column(Text, default="")
    installer_id: Mapped[str | None] = mapped_column(String(64))
    installed_at: Mapped[datetime]


class InstallState(Base):
    """A state handed to the platform's authorize page; good once, until it expires."""

    __tablename__ = "install_states"

    state: Mapped[str] = mapped_column(String(128), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(index=True)
