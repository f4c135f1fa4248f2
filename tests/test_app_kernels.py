"""Tests of oco2explore.app.kernels: the pool's kernels warm one after another."""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

from oco2explore.app.explorer import WARM_ENV
from oco2explore.app.kernels import PageKernelManager

PREHEAT = {"VOILA_PREHEAT": "True"}


def _run(coro) -> None:
    """``asyncio.run`` on a thread of its own: the browser tests (Playwright's sync API)
    leave an event loop running on the main thread of the test session."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


def _manager(monkeypatch, alive: set[str], **traits) -> tuple[PageKernelManager, list[dict]]:
    """A manager whose kernels are only recorded (their environments), not started."""
    started: list[dict] = []

    async def start(self, *args, **kwargs):
        started.append(kwargs.get("env") or {})
        kernel_id = f"k{len(started)}"
        alive.add(kernel_id)
        return kernel_id

    monkeypatch.setattr(AsyncMappingKernelManager, "start_kernel", start)
    monkeypatch.setattr(PageKernelManager, "__contains__", lambda self, k: k in alive)
    return PageKernelManager(**traits), started


def test_a_preheated_kernel_starts_once_the_previous_one_drew_its_view(monkeypatch):
    manager, started = _manager(monkeypatch, set())

    async def run() -> None:
        first = await manager.start_kernel(env=PREHEAT)
        second = asyncio.create_task(manager.start_kernel(env=PREHEAT))
        # A page's own kernel (not preheated) never waits for the pool.
        assert await manager.start_kernel(env={"VOILA_PREHEAT": "False"}) == "k2"
        await asyncio.sleep(0.5)
        assert not second.done() and first == "k1"
        Path(started[0][WARM_ENV]).touch()  # what Explorer.start does
        assert await asyncio.wait_for(second, 5) == "k3"

    _run(run())
    assert WARM_ENV in started[2] and started[2][WARM_ENV] != started[0][WARM_ENV]
    assert WARM_ENV not in started[1]
    assert not Path(started[0][WARM_ENV]).exists()  # removed once seen


def test_a_dead_or_silent_kernel_does_not_hold_the_pool(monkeypatch):
    alive: set[str] = set()
    manager, started = _manager(monkeypatch, alive, warm_wait=0.5)

    async def run() -> None:
        await manager.start_kernel(env=PREHEAT)
        alive.discard("k1")  # died before its first view
        assert await asyncio.wait_for(manager.start_kernel(env=PREHEAT), 2) == "k2"
        # k2 never signals: k3 starts after warm_wait.
        assert await asyncio.wait_for(manager.start_kernel(env=PREHEAT), 5) == "k3"

    _run(run())


def test_stagger_off_starts_at_once(monkeypatch):
    manager, started = _manager(monkeypatch, set(), stagger=False)

    async def run() -> None:
        await manager.start_kernel(env=PREHEAT)
        assert await asyncio.wait_for(manager.start_kernel(env=PREHEAT), 1) == "k2"

    _run(run())
    assert all(WARM_ENV not in env for env in started)
