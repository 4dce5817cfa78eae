"""Every Prefect client of a process verifies TLS with one shared ``ssl.SSLContext``.

Prefect builds a new context for every client it creates, and building one loads the CA
bundle: 10 to 20 ms of CPU. Its flow engine creates several clients per flow run (its own,
a sync one that reads the server's default result storage, the suspension observer's), so
in a warm process executing dozens of runs a minute the contexts took a fifth of the
process's CPU. A configured context is safe to share between clients and threads (aiohttp
shares one per process; Prefect itself considers it, PrefectHQ/prefect#19106).

The shared context is the one Prefect would build: it honours
``PREFECT_API_TLS_INSECURE_SKIP_VERIFY`` and ``PREFECT_API_SSL_CERT_FILE`` as they are when a
client is created, and a client given its own ``verify`` keeps it.

Example:
    ```python
    share_tls_context()  # once, at the start of a long-lived process
    async with get_client() as client: ...
    ```
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable
from typing import Any

import certifi
from prefect.client.orchestration import PrefectClient, SyncPrefectClient
from prefect.settings import PREFECT_API_SSL_CERT_FILE, PREFECT_API_TLS_INSECURE_SKIP_VERIFY

_SHARING = "_skillworks_shares_tls_context"


def share_tls_context() -> None:
    """Make the Prefect clients created from now on in this process share one TLS context."""
    for client_class in (PrefectClient, SyncPrefectClient):
        if not getattr(client_class.__init__, _SHARING, False):
            client_class.__init__ = _sharing(client_class.__init__)  # type: ignore[method-assign]


def tls_context() -> ssl.SSLContext:
    """The context Prefect's settings ask for, built once per distinct settings."""
    return _context(bool(PREFECT_API_TLS_INSECURE_SKIP_VERIFY.value()), PREFECT_API_SSL_CERT_FILE.value() or certifi.where())


@functools.cache
def _context(skip_verify: bool, cert_file: str) -> ssl.SSLContext:
    """Built as ``PrefectClient.__init__`` builds it."""
    if skip_verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=cert_file)


def _sharing(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def __init__(self: Any, api: Any, *args: Any, httpx_settings: dict[str, Any] | None = None, **kwargs: Any) -> None:
        settings = dict(httpx_settings or {})
        settings.setdefault("verify", tls_context())
        init(self, api, *args, httpx_settings=settings, **kwargs)

    setattr(__init__, _SHARING, True)
    return __init__
