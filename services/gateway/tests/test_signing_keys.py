"""The gateway's signing keys: with none it refuses to start, naming the command that makes one (it used to
start and answer 500 at the first sign-in); a folder emptied while running keeps the keys already loaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import ServiceFactory
from services.gateway.keys import SigningKeys, new_key


async def test_a_gateway_without_a_signing_key_refuses_to_start(service_app: ServiceFactory, tmp_path: Path) -> None:
    empty = tmp_path / "keys"
    empty.mkdir()
    with pytest.raises(RuntimeError, match=r"python -m services.gateway.keys new"):
        await service_app("gateway", signing_keys_dir=empty)


def test_keys_emptied_while_running_keep_signing_with_the_loaded_ones(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    folder.mkdir()
    new_key(folder)
    keys = SigningKeys(folder, reload_seconds=0)
    kid, _ = keys.current()
    shutil.rmtree(folder)
    folder.mkdir()
    assert keys.current()[0] == kid  # reloaded, found nothing, kept signing
    assert [k["kid"] for k in keys.jwks()["keys"]] == [kid]
