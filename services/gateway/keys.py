"""The gateway's token-signing keys: Ed25519 private keys, one PEM file each, in one folder.

Every file's public key is published at ``/.well-known/jwks.json``; the newest key (by name:
``<UTC timestamp>-<random>.pem``) that is at least ``activation_seconds`` old signs
(``SHEGONG_GATEWAY_SIGNING_KEY_ACTIVATION_SECONDS``, 300 s), or the oldest key when none is that old
(a first install). The delay is what makes a rotation outage-free with several gateway replicas: each
publishes a new key as soon as it sees the file (folders are re-read every 30 s; a Kubernetes Secret
reaches every pod within about a minute), and none signs with it before all can verify it. Rotation: add
a key (``python -m services.gateway.keys new``), and remove the old file once the tokens it signed have
expired (activation delay plus access-token lifetime plus the services' JWKS cache). While both files are
there, both keys are valid. A file whose name is not a timestamp counts as old enough.

CLI: ``python -m services.gateway.keys (new|ensure|list) [folder]``.
"""

from __future__ import annotations

import logging
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

_log = logging.getLogger("shegong.gateway.keys")


def _created(kid: str, now: datetime) -> datetime:
    """When a key was made, from its id; the distant past for a file named otherwise."""
    try:
        return datetime.strptime(kid.partition("-")[0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def new_key(folder: Path) -> str:
    """Write a new private key; returns its key id."""
    folder.mkdir(parents=True, exist_ok=True)
    kid = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = folder / f"{kid}.pem"
    path.touch(mode=0o600)
    path.write_bytes(pem)
    return kid


class SigningKeys:
    """The keys of a folder, re-read every ``reload_seconds``."""

    def __init__(self, folder: Path, reload_seconds: float = 30.0, activation_seconds: float = 0.0) -> None:
        self.folder = folder
        self.reload_seconds = reload_seconds
        self.activation_seconds = activation_seconds
        self._loaded_at = float("-inf")
        self._keys: dict[str, Ed25519PrivateKey] = {}

    def _load(self) -> None:
        if time.monotonic() - self._loaded_at < self.reload_seconds and self._keys:
            return
        keys: dict[str, Ed25519PrivateKey] = {}
        for path in sorted(self.folder.glob("*.pem")):
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if isinstance(key, Ed25519PrivateKey):
                keys[path.stem] = key
        if not keys and self._keys:  # the folder emptied while running (a botched rotation): keep signing
            _log.error("no Ed25519 signing key in %s any more; keeping the %d loaded", self.folder, len(self._keys))
            self._loaded_at = time.monotonic()
            return
        if not keys:
            raise RuntimeError(f"no Ed25519 signing key in {self.folder}: python -m services.gateway.keys new")
        self._keys = keys
        self._loaded_at = time.monotonic()

    def current(self) -> tuple[str, Ed25519PrivateKey]:
        """The key that signs: the newest one old enough, else the oldest."""
        self._load()
        now = datetime.now(UTC)
        active = [kid for kid in self._keys if _created(kid, now) <= now - timedelta(seconds=self.activation_seconds)]
        kid = max(active) if active else min(self._keys)
        return kid, self._keys[kid]

    def jwks(self) -> dict[str, Any]:
        """Every key's public half, as a JSON Web Key Set (RFC 7517, OKP/Ed25519 per RFC 8037)."""
        self._load()
        keys = []
        for kid, key in sorted(self._keys.items()):
            jwk: dict[str, Any] = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
            jwk |= {"kid": kid, "use": "sig", "alg": "EdDSA"}
            keys.append(jwk)
        return {"keys": keys}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"new", "ensure", "list"}:
        print("usage: python -m services.gateway.keys (new|ensure|list) [folder]", file=sys.stderr)
        return 2
    from services.gateway.settings import Settings

    folder = Path(argv[1]) if len(argv) > 1 else Settings().signing_keys_dir
    assert folder is not None
    existing = sorted(p.stem for p in folder.glob("*.pem")) if folder.exists() else []
    if argv[0] == "new" or (argv[0] == "ensure" and not existing):
        print(f"new signing key {new_key(folder)} in {folder}", file=sys.stderr)
    elif argv[0] == "list":
        print("\n".join(existing))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
