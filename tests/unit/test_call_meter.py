"""The call meter: a task's calls and those of the tasks it starts count; another task's do not."""

from __future__ import annotations

import asyncio

from app.connectors.common import count_call, metered


async def _calls(n: int, gate: asyncio.Event | None = None) -> None:
    for _ in range(n):
        count_call()
        if gate is not None:
            await gate.wait()


async def test_a_meter_counts_its_task_and_the_tasks_it_starts_not_a_concurrent_one() -> None:
    gate = asyncio.Event()
    bystander = asyncio.create_task(_calls(5, gate))  # started outside the meter
    await asyncio.sleep(0)
    with metered() as meter:
        count_call()
        await asyncio.gather(_calls(2), asyncio.ensure_future(_calls(3)))
        gate.set()
        await bystander
    assert meter.calls == 1 + 2 + 3


async def test_meters_nest_and_count_outside_any_meter_is_harmless() -> None:
    count_call()
    with metered() as outer:
        count_call()
        with metered() as inner:
            count_call()
            count_call()
        count_call()
    assert (outer.calls, inner.calls) == (2, 2)
