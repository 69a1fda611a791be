"""Rate-limit arithmetic, pure (no I/O): GCRA, and the blocks of admissions a gateway replica leases.

GCRA (generic cell rate algorithm): each key has a theoretical arrival time (TAT); a request is admitted
while that time is at most one window ahead, and each admission moves it one interval (window ÷ limit)
on. A single cell admits at most ``limit + span ÷ interval`` requests in any span of time (the burst,
then the refill).

A replica does not ask the shared cell for every request: it *leases* a block of up to ``block``
admissions at once (:func:`grant`: the cell's TAT moves by as many intervals as fit, at most ``block``)
and hands them out locally (:class:`Block`). Every admission in a block conformed to GCRA when the block
was taken, so the cell's bound holds for the blocks; what can exceed it is a block taken earlier and used
later. Each replica holds at most one block per key, and its first admission is used at once, so across
``replicas`` the deployment admits at most ``replicas × (block − 1)`` more than one shared cell would, in
any span (:func:`overshoot_bound`); as many may sit unused in other replicas' blocks while one replica
refuses, until the TAT passes them. :func:`block_size` keeps the block a small share of the limit, and 1
(every request asks the cell, exactly as one shared cell) for small limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FLOAT_SLACK = 1e-9


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    retry_after: int


def admitted(tat: float, now: float, limit: int, window: float) -> Decision:
    """The decision for a request admitted at ``now`` that moved the key's arrival time to ``tat``."""
    interval = window / limit
    remaining = max(0, math.floor((window - (tat - now)) / interval + FLOAT_SLACK))  # float slack
    return Decision(True, limit, remaining, math.ceil(tat - now), 0)


def refused(tat: float, now: float, limit: int, window: float) -> Decision:
    """The decision for a request refused at ``now`` while the key's arrival time is ``tat``."""
    return Decision(False, limit, 0, math.ceil(tat - now), max(1, math.ceil(allowed_at(tat, limit, window) - now)))


def allowed_at(tat: float, limit: int, window: float) -> float:
    """When a key whose arrival time is ``tat`` admits its next request (nothing can admit one sooner)."""
    return tat + window / limit - window


def gcra(tat: float | None, now: float, limit: int, window: float) -> tuple[Decision, float | None]:
    """The pure rule: the decision and the key's new arrival time (None: unchanged)."""
    interval = window / limit
    start = max(tat if tat is not None else now, now)
    if start + interval - window > now:
        return refused(start, now, limit, window), None
    return admitted(start + interval, now, limit, window), start + interval


def block_size(limit: int, share: float, largest: int) -> int:
    """How many admissions a replica leases at once: ``share`` of the limit, at most ``largest``, at least 1."""
    return max(1, min(largest, math.floor(limit * share + FLOAT_SLACK)))


def overshoot_bound(replicas: int, block: int) -> int:
    """The most that ``replicas`` leasing blocks of ``block`` admit beyond one shared cell, in any span."""
    return replicas * (block - 1)


def grant(tat: float | None, now: float, limit: int, window: float, block: int) -> tuple[int, float | None]:
    """What the cell's lease statement does (``services.gateway.rate_limits.RateLimiter``), for the unit tests:
    the admissions granted (as many as fit now, at most ``block``; 0: refused) and the new arrival time."""
    interval = window / limit
    start = max(tat if tat is not None else now, now)
    if start + interval - window > now:
        return 0, None
    fits = math.floor((now + window - start) / interval + FLOAT_SLACK)
    granted = max(1, min(block, fits))
    return granted, start + granted * interval


@dataclass
class Block:
    """Admissions leased from the cell: the arrival times ``start + interval × (1 … granted)``.

    ``db_now`` is the database's clock when the block was granted, ``local_at`` this process's monotonic
    clock then: the database's time now is estimated from both (``now``).
    """

    start: float
    granted: int
    interval: float
    db_now: float
    local_at: float
    used: int = 0

    @classmethod
    def leased(cls, tat: float, granted: int, interval: float, db_now: float, local_at: float) -> Block:
        return cls(tat - granted * interval, granted, interval, db_now, local_at)

    def now(self, local_now: float) -> float:
        return self.db_now + max(0.0, local_now - self.local_at)

    def left(self) -> int:
        return self.granted - self.used

    def take(self, local_now: float, limit: int, window: float) -> Decision | None:
        """One admission of the block with its headers (None: the block is spent). The admission's arrival
        time is the next of the block; once time has passed it beyond, as GCRA would count it now."""
        if self.used >= self.granted:
            return None
        self.used += 1
        now = self.db_now if local_now <= self.local_at else self.now(local_now)
        tat = max(self.start + self.used * self.interval, now + self.interval)
        return admitted(tat, now, limit, window)
