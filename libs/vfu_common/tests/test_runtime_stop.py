"""A stopping service never hangs on a background task that ignores its cancellation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from vfu_common import app_factory
from vfu_common.app_factory import ServiceDefinition, ServiceRuntime
from vfu_common.db import Database
from vfu_common.logging import bind_context, current_request_id
from vfu_common.messaging.connection import NatsConnection
from vfu_common.settings import BaseServiceSettings

RELEASED = asyncio.Event()


async def stubborn(runtime: ServiceRuntime) -> None:
    """Swallows its cancellation (as a ``finally`` waiting on a lock would) until released."""
    while not RELEASED.is_set():
        try:
            await RELEASED.wait()
        except asyncio.CancelledError:
            continue


async def polite(runtime: ServiceRuntime) -> None:
    await asyncio.sleep(3600)


def _runtime(tmp_path: Path, *background: object) -> ServiceRuntime:
    return ServiceRuntime(
        definition=ServiceDefinition(
            name="demo",
            title="Demo",
            description="",
            background=background,  # type: ignore[arg-type]
        ),
        settings=BaseServiceSettings.model_construct(),
        db=Database(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"),
        # Nothing listens there: the bus task keeps retrying until it is cancelled.
        nats=NatsConnection("nats://127.0.0.1:1", name="demo"),
    )


async def test_a_task_that_ignores_cancellation_is_named_not_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_factory, "STOP_TIMEOUT_SECONDS", 0.2)
    runtime = _runtime(tmp_path, polite, stubborn)
    await runtime.start()
    await asyncio.sleep(0)
    try:
        with pytest.raises(RuntimeError, match="stubborn"):
            await asyncio.wait_for(runtime.stop(), timeout=5)
    finally:
        RELEASED.set()  # the test's own clean-up of the task the runtime gave up on
        await asyncio.gather(*runtime._tasks, return_exceptions=True)


async def test_well_behaved_tasks_stop_quietly(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, polite)
    await runtime.start()
    await asyncio.sleep(0)
    await asyncio.wait_for(runtime.stop(), timeout=5)
    assert all(task.done() for task in runtime._tasks)


async def test_workers_start_without_the_ids_of_the_context_that_started_them(
    tmp_path: Path,
) -> None:
    seen: list[str | None] = []

    async def worker(runtime: ServiceRuntime) -> None:
        seen.append(current_request_id())
        await asyncio.sleep(3600)

    bind_context(request_id="starting-request", correlation_id=None, traceparent=None)
    runtime = _runtime(tmp_path, worker)
    await runtime.start()
    await asyncio.sleep(0)
    await asyncio.wait_for(runtime.stop(), timeout=5)
    assert current_request_id() == "starting-request"  # the test's own context is as bound
    assert seen == [None]
