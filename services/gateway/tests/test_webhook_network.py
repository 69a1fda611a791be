"""WH2 at delivery: a webhook connects only to addresses it checked, resolved as it connects, so a host name
that resolves to loopback or link-local (DNS rebinding, the cloud metadata address) is refused even though
the name was accepted when the subscription was stored. The resolver is replaced in these tests: there is no
DNS server here, and what a name resolves to belongs to the outside world; the connections are real (a
receiver on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator

import pytest

from services.gateway.domain.webhooks import is_local_address, new_secret
from services.gateway.webhook_network import resolve, webhook_client
from services.gateway.webhook_sender import Claimed, send

SECRET = new_secret(b"k" * 32)


@pytest.mark.parametrize(
    ("address", "local"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("169.254.169.254", True),  # cloud metadata
        ("fe80::1", True),
        ("0.0.0.0", True),  # noqa: S104 (an address judged, not bound)
        ("::", True),
        ("224.0.0.1", True),
        ("::ffff:127.0.0.1", True),  # IPv4-mapped loopback
        ("::ffff:169.254.169.254", True),
        ("10.1.2.3", False),  # a province's internal platform may live on a private network
        ("192.168.1.20", False),
        ("203.0.113.7", False),
        ("2001:db8::7", False),
    ],
)
def test_which_addresses_are_local(address: str, local: bool) -> None:
    assert is_local_address(ipaddress.ip_address(address)) is local


class Receiver:
    """A real HTTP receiver on 127.0.0.1 answering 204, keeping each request's head."""

    def __init__(self) -> None:
        self.heads: list[bytes] = []
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.heads.append(head)
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")),
            0,
        )
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
        await writer.drain()
        writer.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    found.port = server.sockets[0].getsockname()[1]
    async with server:
        yield found


def _item(url: str) -> Claimed:
    return Claimed(id=1, webhook_id="evt_roster_1", url=url, secrets=(SECRET,), body='{"a": 1}', attempts=0)


def _resolving_to(*addresses: str) -> object:
    asked: list[str] = []

    async def fake(host: str, port: int) -> list[str]:
        asked.append(host)
        return list(addresses)

    fake.asked = asked  # type: ignore[attr-defined]
    return fake


async def test_a_name_that_resolves_to_the_metadata_address_is_refused_at_delivery(receiver: Receiver) -> None:
    fake = _resolving_to("169.254.169.254")
    async with webhook_client(allow_loopback=False, resolver=fake) as client:  # type: ignore[arg-type]
        status, error = await send(client, _item("http://hooks.partner.example/in"), timeout=5)
    assert status == 0
    assert error is not None
    assert "169.254.169.254" in error
    assert "WH2" in error
    assert fake.asked == ["hooks.partner.example"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "addresses",
    [
        ("127.0.0.1",),  # public when subscribed, rebound to this machine, where a receiver listens
        ("203.0.113.7", "127.0.0.1"),  # any local address among the name's refuses it
    ],
)
async def test_a_name_rebound_to_loopback_reaches_nothing(receiver: Receiver, addresses: tuple[str, ...]) -> None:
    fake = _resolving_to(*addresses)
    async with webhook_client(allow_loopback=False, resolver=fake) as client:  # type: ignore[arg-type]
        status, error = await send(client, _item(f"http://hooks.partner.example:{receiver.port}/in"), timeout=5)
    assert (status, receiver.heads) == (0, [])
    assert error is not None
    assert "127.0.0.1" in error
    assert "WH2" in error


async def test_an_address_literal_is_checked_too(receiver: Receiver) -> None:
    async with webhook_client(allow_loopback=False) as client:
        status, error = await send(client, _item(f"http://127.0.0.1:{receiver.port}/in"), timeout=5)
    assert (status, receiver.heads) == (0, [])
    assert error is not None


async def test_where_loopback_is_allowed_the_checked_address_is_the_one_connected(receiver: Receiver) -> None:
    fake = _resolving_to("127.0.0.1")
    async with webhook_client(allow_loopback=True, resolver=fake) as client:  # type: ignore[arg-type]
        status, error = await send(client, _item(f"http://hooks.partner.example:{receiver.port}/in"), timeout=5)
    assert (status, error) == (204, None)
    assert len(receiver.heads) == 1
    assert f"host: hooks.partner.example:{receiver.port}".encode() in receiver.heads[0].lower()  # the URL's host
    assert b"webhook-signature: v1," in receiver.heads[0].lower()


async def test_the_real_resolver_answers_an_address_literal_with_itself() -> None:
    assert await resolve("127.0.0.1", 80) == ["127.0.0.1"]
