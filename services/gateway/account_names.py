"""Who a ``user:<uuid>`` is: the username and name of the gateway's accounts (the gateway owns the users
table), for the audit log's readers (the API and the console's 审计 page). Other subjects (a client, a
service, ``worker:…``) and ids of no account are left out: the caller shows them as they are."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import User
from services.gateway.schemas import AccountRef

PREFIX = "user:"


def _user_id(subject: str | None) -> uuid.UUID | None:
    if not subject or not subject.startswith(PREFIX):
        return None
    try:
        return uuid.UUID(subject.removeprefix(PREFIX))
    except ValueError:
        return None


async def account_names(session: AsyncSession, subjects: Iterable[str | None]) -> dict[str, AccountRef]:
    """``{"user:<uuid>": AccountRef(username, name)}`` for the subjects that are accounts, in one query."""
    ids = {i for i in (_user_id(s) for s in subjects) if i is not None}
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.username, User.name).where(User.id.in_(ids)))
    return {f"{PREFIX}{row.id}": AccountRef(username=row.username, name=row.name) for row in rows}
