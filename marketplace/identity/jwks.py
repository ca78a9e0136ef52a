"""``/.well-known/jwks.json``: the public keys other government systems verify our tokens with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from marketplace.identity.keys import KeyRing

# Verifiers cache the set for five minutes; a rotated key is published before it signs anything
# a verifier sees only if rotation happens at least this long before use — or verifiers refetch
# on an unknown kid, as RFC 7517 clients do.
CACHE_CONTROL = "public, max-age=300"


def jwks_endpoint(keyring: KeyRing) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint serving ``keyring.jwks()`` (read on every request: rotation shows)."""

    async def jwks(request: Request) -> Response:
        return JSONResponse(keyring.jwks(), headers={"Cache-Control": CACHE_CONTROL})

    return jwks
