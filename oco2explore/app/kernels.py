"""No kernel outlives its page: the Jupyter classes the explorer's servers are configured with.

A Voilà page asks the server to shut its kernel down when it is closed (a ``POST
voila/api/shutdown/<kernel>`` sent with ``navigator.sendBeacon``, carrying the ``_xsrf``
cookie as its form argument). Voilà never sets that cookie on its pages — a preheated page
is rendered before any request, and tornado sets the cookie only when a handler reads
``xsrf_token`` — so the request was refused (``403 '_xsrf' argument missing from POST``)
and every closed page left a kernel of ~335 MB behind (voila-dashboards/voila#1458).

* :class:`PageIdentityProvider` (Voilà standalone, ``oco2explore app``) and
  :class:`ServerPageIdentityProvider` (jupyter-server, the Binder path
  ``voila/render/...``) read ``xsrf_token`` for every Voilà page request, so tornado sets
  the cookie and the shutdown request passes the server's usual XSRF check.
* :class:`PageKernelManager` culls kernels idle and without a connection for
  ``cull_idle_timeout`` seconds (a page that vanished without its shutdown request:
  crashed browser, lost network), but never the preheated kernels waiting in Voilà's pool.
  It also warms the pool's kernels one at a time: Voilà starts them all at once, and on
  a machine of 2 cores two kernels running the notebook side by side each took about
  twice as long, so a page opened right after the server started waited for both.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
import uuid
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from jupyter_server.auth.identity import PasswordIdentityProvider
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado import web
from traitlets import Bool, Float
from voila.handler import VoilaHandler
from voila.voila_identity_provider import VoilaIdentityProvider

from .explorer import WARM_ENV

#: Default preheated kernels kept ready by ``oco2explore app`` (a second visitor waits no
#: longer than the first).
DEFAULT_POOL_SIZE = 2
#: Default idle time after which a kernel without a page is shut down, s.
DEFAULT_CULL_IDLE_S = 600
#: How often idle kernels are looked for, s.
CULL_INTERVAL_S = 60
#: Longest wait for the previous pool kernel's first view before the next one starts
#: anyway (a notebook that fails never signals), s.
WARM_WAIT_S = 60.0


class _PageXsrfCookie:
    """Identity-provider mixin: Voilà page responses carry the ``_xsrf`` cookie."""

    async def get_user(self, handler: web.RequestHandler) -> Any:
        user = super().get_user(handler)
        if isinstance(user, Awaitable):
            user = await user
        if isinstance(handler, VoilaHandler) and handler.request.method == "GET":
            handler.current_user = user  # as prepare() sets it next; xsrf_token reads it
            handler.xsrf_token  # noqa: B018 - reading it makes tornado set the cookie
        return user


class PageIdentityProvider(_PageXsrfCookie, VoilaIdentityProvider):
    """Voilà's identity provider, plus the ``_xsrf`` cookie on its pages."""


class ServerPageIdentityProvider(_PageXsrfCookie, PasswordIdentityProvider):
    """jupyter-server's default identity provider, plus the ``_xsrf`` cookie on Voilà pages."""


class PageKernelManager(AsyncMappingKernelManager):
    """Kernel manager that warms Voilà's pool one kernel at a time and never culls it.

    Voilà wraps this class with its pool (``VoilaConfiguration.multi_kernel_manager_class``);
    a pooled kernel is idle and unconnected until a page takes it, so the stock culler would
    shut the pool down and Voilà would not refill it.

    A preheated kernel (Voilà sets ``VOILA_PREHEAT=True`` in its environment) starts only
    once the previous one has drawn its first view (it creates the file named by
    :data:`WARM_ENV`), has died, or :attr:`warm_wait` seconds have passed; the first kernel
    of the pool thus has the CPU to itself, and a refill never runs beside another.
    """

    stagger = Bool(True, config=True, help="Warm the pool's kernels one after another.")
    warm_wait = Float(
        WARM_WAIT_S,
        config=True,
        help="Longest wait for the previous pool kernel's first view, s.",
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._warm_lock = asyncio.Lock()
        self._warming: tuple[str, Path] | None = None  # the last preheated kernel, its file
        self._warm_dir: Path | None = None

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:
        env = kwargs.get("env") or {}
        if not self.stagger or env.get("VOILA_PREHEAT") != "True":
            return await super().start_kernel(*args, **kwargs)
        async with self._warm_lock:  # in the order Voilà asked, one warm-up at a time
            waited = await self._previous_warmed()
            if self._warm_dir is None:
                self._warm_dir = Path(tempfile.mkdtemp(prefix="oco2explore-warm-"))
            path = self._warm_dir / f"warm-{uuid.uuid4().hex}"
            kwargs["env"] = {**env, WARM_ENV: str(path)}
            kernel_id = await super().start_kernel(*args, **kwargs)
            self._warming = (kernel_id, path)
        self.log.info("preheated kernel %s started (%.1f s after the previous)", kernel_id, waited)
        return kernel_id

    async def _previous_warmed(self) -> float:
        """Wait until the last preheated kernel has drawn its first view, has gone, or
        :attr:`warm_wait` has passed; returns the seconds waited."""
        start = time.monotonic()
        if self._warming is None:
            return 0.0
        kernel_id, path = self._warming
        while not path.exists() and kernel_id in self and time.monotonic() - start < self.warm_wait:
            await asyncio.sleep(0.1)
        self._warming = None
        with contextlib.suppress(OSError):
            path.unlink()
        return time.monotonic() - start

    def _pooled(self) -> set[str]:
        """Kernels preheated and waiting in the pool (none without preheating)."""
        pools = getattr(self, "_pools", {})
        return {
            task.result()["kernel_id"]
            for pool in pools.values()
            for task in pool
            if task.done() and not task.cancelled() and task.exception() is None
        }

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        if kernel_id in self._pooled():
            return
        await super().cull_kernel_if_idle(kernel_id)
