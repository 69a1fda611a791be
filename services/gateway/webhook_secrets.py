"""Webhook signing secrets at rest (WH3): sealed with Fernet (AES-128-CBC and HMAC-SHA256, from the
``cryptography`` package) under the gateway's webhook keys, so a copy of the database (a backup, a replica, a
dump handed to a vendor) does not hold the secrets that sign what subscribers trust.

The gateway must read a secret back to sign with it (Standard Webhooks signs with the shared secret), so it is
encrypted, not hashed. ``SHEGONG_GATEWAY_WEBHOOK_SECRET_KEYS`` lists the keys, comma-separated: the first
seals, every one opens, so a key is rotated by putting a new one first and restarting (the start-up reseals
every stored secret with it, ``webhooks.reseal_secrets``), then dropping the old one. A secret stored before
sealing existed (``whsec_…`` as it is) still opens, and the start-up seals it.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

SEALED = "fernet:"
# Development and tests only (the settings refuse it in production): 32 bytes, url-safe base64, as Fernet wants.
DEVELOPMENT_WEBHOOK_KEY = "ZGV2ZWxvcG1lbnQtb25seS13ZWJob29rLWtleS0wMDA="

__all__ = ["DEVELOPMENT_WEBHOOK_KEY", "SEALED", "InvalidToken", "SecretBox"]


class SecretBox:
    """Seals and opens webhook secrets under the configured keys (the first seals, each opens)."""

    def __init__(self, keys: str) -> None:
        parts = [part.strip() for part in keys.split(",") if part.strip()]
        if not parts:
            raise ValueError("no webhook secret key: SHEGONG_GATEWAY_WEBHOOK_SECRET_KEYS lists none")
        try:
            fernets = [Fernet(part) for part in parts]
        except (ValueError, TypeError) as exc:
            raise ValueError(
                "SHEGONG_GATEWAY_WEBHOOK_SECRET_KEYS: each key is 32 bytes in url-safe base64 "
                "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
            ) from exc
        self._primary = fernets[0]
        self._any = MultiFernet(fernets)

    def seal(self, secret: str) -> str:
        return SEALED + self._primary.encrypt(secret.encode()).decode()

    def open(self, stored: str) -> str:
        """The secret; ``InvalidToken`` when no configured key opens it (a key dropped too early)."""
        if not stored.startswith(SEALED):
            return stored  # stored before sealing: the start-up seals it
        return self._any.decrypt(stored.removeprefix(SEALED).encode()).decode()

    def resealed(self, stored: str) -> str | None:
        """``stored`` sealed with the first key, or None when it already is (``InvalidToken`` as ``open``)."""
        if stored.startswith(SEALED):
            try:
                self._primary.decrypt(stored.removeprefix(SEALED).encode())
                return None
            except InvalidToken:
                pass
        return self.seal(self.open(stored))
