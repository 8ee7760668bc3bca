"""The mail port: what the accounts capability sends (address verification, password
reset) and the small interface a mail transport implements (SMTP lives in api/mail.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None:
        """Deliver `mail` or raise `MailNotSent`."""


class MailNotSent(Exception):
    """The mail server refused the message or could not be reached."""


def verification_mail(to: str, name: str, link: str) -> Mail:
    return Mail(
        to,
        "Confirm your email for Study Teddy",
        f"Hi {name},\n\nopen this link to confirm that {to} is your address:\n\n{link}\n\n"
        "The link works for 2 days. If you did not make a Study Teddy account, ignore this "
        "message: nobody can sign in with Google to an address that was never confirmed.\n",
    )


def reset_mail(to: str, name: str, link: str) -> Mail:
    return Mail(
        to,
        "Reset your Study Teddy password",
        f"Hi {name},\n\nsomeone (hopefully you) asked to reset the password of the Study "
        f"Teddy account for {to}. Choose a new one here:\n\n{link}\n\n"
        "The link works once, for 1 hour. Using it signs the account out everywhere. "
        "If you did not ask for it, ignore this message.\n",
    )
