"""Where the CLI keeps its sign-in: ``$SHEGONG_CONFIG_DIR`` or ``~/.config/shegong/`` (``XDG_CONFIG_HOME``
respected), file ``token.json``, readable by its owner only. ``SHEGONG_TOKEN`` overrides it."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8000"


def config_dir() -> Path:
    explicit = os.environ.get("SHEGONG_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "shegong"


@dataclass
class Session:
    url: str
    access_token: str
    expires_at: float
    refresh_token: str | None = None

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at - 30


def token_file() -> Path:
    return config_dir() / "token.json"


def save(session: Session) -> Path:
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(session), out)
    return path


def load() -> Session | None:
    path = token_file()
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return Session(**data)


def forget() -> bool:
    path = token_file()
    if path.exists():
        path.unlink()
        return True
    return False
