"""Symmetric sealing of secrets kept in the database (bot tokens): Fernet (AES-128-CBC with
an HMAC) under a key derived from SECRET_KEY, so a copy of the database alone reveals none."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# A purpose label: the same SECRET_KEY also signs web sessions, never with this derived key.
PURPOSE = b"study-teddy/installations/bot-tokens"


class UnsealError(Exception):
    """A sealed value cannot be opened: it was sealed under another SECRET_KEY, or altered."""


class Sealer:
    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("an empty secret key cannot seal anything")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(
            secret_key.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as err:
            raise UnsealError("sealed with another key, or altered") from err
