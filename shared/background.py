"""Background loops that live as long as an app: started when its lifespan begins, cancelled and awaited
when it ends (feed consumers, the payroll reaper, the step-up dispatcher, webhook delivery, the roster's
status transitions)."""

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any


@asynccontextmanager
async def running(*loops: Coroutine[Any, Any, Any]) -> AsyncIterator[None]:
    """Each coroutine as a task for the body's duration; on exit every task is cancelled and awaited."""
    tasks = [asyncio.create_task(loop) for loop in loops]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
