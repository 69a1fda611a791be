"""Contract fuzzing (schemathesis) against each service's own app and against the gateway.

Each run fuzzes a database of its own, migrated to head, so what the fuzzer writes (random regions,
workers, schemes …) never reaches the other tests' data. The seed is fixed and the number of examples
bounded: ``make test`` runs the ``quick`` profile (about three minutes on two cores), ``make fuzz`` the
``long`` one (``SHEGONG_FUZZ_PROFILE=long``).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import schemathesis
from schemathesis.schemas import BaseSchema

from conftest import Mint, PostgresServer, migrated_database
from services.gateway.openapi_merge import committed_document, merge_documents
from shared.openapi_contract import contract_path
from tests.e2e.conftest import Suite, run_bootstrap, running_suite


@dataclass(frozen=True)
class FuzzProfile:
    max_examples: int  # per operation, in-process
    gateway_examples: int  # per operation, through the gateway (slower: two HTTP hops)
    stateful_steps: int


PROFILES = {
    "quick": FuzzProfile(max_examples=30, gateway_examples=10, stateful_steps=10),
    "long": FuzzProfile(max_examples=300, gateway_examples=100, stateful_steps=50),
}
SEED = 20251130
# The widest role of the province: every operation of the services admits it (x-roles).
PROVINCE = "330000"


@pytest.fixture(scope="package")
def fuzz_database_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A database of the fuzzer's own, every service migrated to head."""
    with migrated_database(postgres_server, "shegong_fuzz") as url:
        yield url


CHECKS = ("not_a_server_error", "response_schema_conformance", "status_code_conformance", "content_type_conformance")


def fuzz_profile() -> FuzzProfile:
    return PROFILES[os.environ.get("SHEGONG_FUZZ_PROFILE", "quick")]


def fuzz_config(profile: FuzzProfile, *, gateway: bool = False) -> schemathesis.Config:
    """The run's configuration: seed, examples, both kinds of data, the checks."""
    examples = profile.gateway_examples if gateway else profile.max_examples
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "max-examples": examples, "database": "none"},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "phases": {"stateful": {"max-steps": profile.stateful_steps}},
        }
    )


def contract_schema(service: str) -> BaseSchema:
    """The service's committed contract (what clients are told), ready to fuzz."""
    document = json.loads(contract_path(service).read_text(encoding="utf-8"))
    return schemathesis.openapi.from_dict(document, config=fuzz_config(fuzz_profile()))


def merged_contract() -> dict[str, Any]:
    """The document the gateway serves at ``/openapi.json`` when every service runs: the committed contracts, merged."""
    services = {name: committed_document(name) for name in ("roster", "compensation", "evaluation")}
    return merge_documents(committed_document("gateway"), services)


@pytest.fixture(scope="module")
def fuzz_suite(
    fuzz_database_url: str, signing_keys_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Suite]:
    """The four services as real processes on the fuzzer's database; rate limits out of the fuzzer's way.

    Stopped after its module: its feed consumers' transactions would otherwise hold back the change feeds
    of later tests (a feed waits for every older transaction in the cluster).
    """
    bootstrap = run_bootstrap(fuzz_database_url, tmp_path_factory.mktemp("fuzz-bootstrap"))
    with running_suite(
        fuzz_database_url,
        signing_keys_dir,
        bootstrap,
        tmp_path_factory.mktemp("fuzz-logs"),
        rate_limit_user=10**6,
        rate_limit_window=60,
    ) as suite:
        yield suite


def fuzz_account(fuzz_database_url: str, mint: Mint, username: str) -> dict[str, str]:
    """Bearer headers of a real account of the fuzzer's database: ``province_admin`` of 330000 with the
    personal-data right. The gateway refuses tokens of accounts it does not know (token versions), so the
    account exists; the token is minted with its id (no sign-in, no expiry during a long run)."""

    async def make() -> tuple[str, int]:
        conn = await asyncpg.connect(fuzz_database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            user_id = await conn.fetchval(
                "INSERT INTO gateway.users (username, name, password_hash, created_by)"
                " VALUES ($1, '模糊测试', 'not a password hash: no sign-in', 'fuzz') RETURNING id",
                username,
            )
            await conn.executemany(
                "INSERT INTO gateway.grants (user_id, \"right\", region, granted_by) VALUES ($1, $2, $3, 'fuzz')",
                [(user_id, "province_admin", PROVINCE), (user_id, "personal_data", PROVINCE)],
            )
            # The grants' trigger moved the account's token version on (migration gateway_0004): the token
            # carries the version the account has now, or the gateway refuses it as revoked, and the run
            # would fuzz nothing but the gateway's refusals (401, and 429 for an unverified caller).
            version = await conn.fetchval("SELECT token_version FROM gateway.users WHERE id = $1", user_id)
        finally:
            await conn.close()
        return str(user_id), int(version)

    user_id, version = asyncio.run(make())
    token = mint(
        ("province_admin", PROVINCE), pd=(PROVINCE,), subject=f"user:{user_id}", ttl=6 * 3600, token_version=version
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="package")
def fuzz_auth(fuzz_database_url: str, mint: Mint) -> dict[str, str]:
    """The fuzzer's account."""
    return fuzz_account(fuzz_database_url, mint, "fuzz-admin")


@pytest.fixture(scope="package")
def disposable_auth(fuzz_database_url: str, mint: Mint) -> dict[str, str]:
    """Another account, for the operations that end the caller's own sessions (``/api/v1/auth/revoke-all``):
    fuzzed with the fuzzer's own token, they would make every later answer a 401."""
    return fuzz_account(fuzz_database_url, mint, "fuzz-disposable")
