"""The mail port over SMTP (aiosmtplib): address verification and password reset."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from core.accounts.mail import Mail, MailNotSent
from core.settings import Settings

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 20


class SmtpMailer:
    """Sends through the server in SMTP_URL: `smtp://` upgrades with STARTTLS when the server
    offers it, `smtps://` speaks TLS from the start; user and password from the URL."""

    def __init__(self, url: str, sender: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:587 or smtps://...")
        self.host = parts.hostname
        self.tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender

    async def send(self, mail: Mail) -> None:
        import aiosmtplib  # here: every process builds the mailer, few send mail

        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Message-ID"] = make_msgid(domain=self.host)
        message.set_content(mail.text)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.tls,
                timeout=TIMEOUT_SECONDS,
            )
        except (aiosmtplib.SMTPException, OSError) as err:
            log.warning("mail to the SMTP server failed: %s", type(err).__name__)
            raise MailNotSent(str(err)) from err


def mailer_from_settings(settings: Settings) -> SmtpMailer | None:
    """The SMTP mailer, or None when SMTP_URL is not set (the pages then say so)."""
    if settings.smtp_url is None or not settings.smtp_url.get_secret_value():
        return None
    host = urlsplit(settings.public_base_url).hostname or "localhost"
    sender = settings.mail_from or f"Study Teddy <no-reply@{host}>"
    return SmtpMailer(settings.smtp_url.get_secret_value(), sender)
