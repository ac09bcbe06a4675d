"""Who a client is, and how much of what it sent a message may repeat.

* :func:`client_id`: the address a request comes from. Behind a proxy that the app trusts (on a
  Hugging Face Space, ``SYSTEM=spaces``, or with ``SRCNN_TRUST_PROXY=1``) it is the first address
  of ``X-Forwarded-For``, which the Space's proxy sets; otherwise the connection's own address (a
  client could write any ``X-Forwarded-For`` it likes). Every per-client limit (upload rate,
  requests in flight, a fair share of the lanes) counts by it.
* :func:`quoted`: what a refusal shows of a sent value: at most :data:`QUOTE_CHARS` characters
  (repr), then how long the value was, so that neither the answer nor the log repeats a huge value.
"""

from __future__ import annotations

import os
from typing import Mapping

QUOTE_CHARS = 40          # characters of a sent value a refusal repeats, at most
ADDRESS_CHARS = 64        # an address longer than this is cut (a forged header cannot make keys grow)
UNKNOWN = "unknown"


def trust_proxy(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether ``X-Forwarded-For`` names the client: on a Space (``SYSTEM=spaces``) or when
    ``SRCNN_TRUST_PROXY`` is 1/true/yes (another proxy in front of the app)."""
    if environ.get("SYSTEM") == "spaces":
        return True
    return environ.get("SRCNN_TRUST_PROXY", "").strip().lower() in ("1", "true", "yes")


def client_id(headers: Mapping[str, str], peer: str | None, trusted: bool | None = None) -> str:
    """The client's address: the first of ``X-Forwarded-For`` when the proxy is trusted
    (``trusted``; default :func:`trust_proxy`), else ``peer`` (the connection's address)."""
    if trusted is None:
        trusted = trust_proxy()
    if trusted:
        forwarded = headers.get("x-forwarded-for", "")
        first = forwarded.split(",", 1)[0].strip()
        if first:
            return first[:ADDRESS_CHARS]
    return (peer or UNKNOWN)[:ADDRESS_CHARS]


def scope_client(scope: dict, trusted: bool | None = None) -> str:
    """:func:`client_id` of an ASGI request (its ``scope``)."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    peer = scope.get("client")
    return client_id(headers, peer[0] if peer else None, trusted)


def request_client(request, trusted: bool | None = None) -> str:
    """:func:`client_id` of a Starlette/FastAPI or gr.Request (``headers`` and ``client``), or
    :data:`UNKNOWN` for None (a call outside a request)."""
    if request is None:
        return UNKNOWN
    headers = {k.lower(): v for k, v in dict(getattr(request, "headers", {}) or {}).items()}
    peer = getattr(request, "client", None)
    host = getattr(peer, "host", None) if peer is not None else None
    return client_id(headers, host, trusted)


def quoted(value: object, chars: int = QUOTE_CHARS) -> str:
    """``repr(value)`` cut to ``chars`` characters, with the value's length when it was cut:
    ``'xxxxx...' (10,000,000 characters)``."""
    text = repr(value)
    if len(text) <= chars:
        return text
    size = len(value) if isinstance(value, (str, bytes)) else len(text)
    return f"{text[:chars]}... ({size:,} characters)"
