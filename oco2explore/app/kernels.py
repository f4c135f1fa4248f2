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
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from jupyter_server.auth.identity import PasswordIdentityProvider
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado import web
from voila.handler import VoilaHandler
from voila.voila_identity_provider import VoilaIdentityProvider

#: Default preheated kernels kept ready by ``oco2explore app`` (a second visitor waits no
#: longer than the first).
DEFAULT_POOL_SIZE = 2
#: Default idle time after which a kernel without a page is shut down, s.
DEFAULT_CULL_IDLE_S = 600
#: How often idle kernels are looked for, s.
CULL_INTERVAL_S = 60


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
    """Kernel manager whose idle culling spares the preheated kernels of Voilà's pool.

    Voilà wraps this class with its pool (``VoilaConfiguration.multi_kernel_manager_class``);
    a pooled kernel is idle and unconnected until a page takes it, so the stock culler would
    shut the pool down and Voilà would not refill it.
    """

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
