"""One TLS context for every HTTP client the harness makes: loading the CA certificates costs
about 20 ms a client, and tests make hundreds of clients."""

from __future__ import annotations

import functools
import ssl

__all__ = ["shared_tls_context"]


@functools.cache
def shared_tls_context() -> ssl.SSLContext:
    """The default, verifying TLS context, made once per process."""
    return ssl.create_default_context()
