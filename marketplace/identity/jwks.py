"""``/.well-known/jwks.json``: the public keys other government systems verify our tokens with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from marketplace.identity.keys import KeyRing

# Verifiers may cache the set for five minutes. A token signed by a key newer than their copy
# names a kid they do not hold; RFC 7517 clients (pyjwt's PyJWKClient among them) refetch then.
CACHE_CONTROL = "public, max-age=300"


def jwks_endpoint(keyring: KeyRing) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint serving ``keyring.jwks()`` (read on every request: rotation shows)."""

    async def jwks(request: Request) -> Response:
        return JSONResponse(keyring.jwks(), headers={"Cache-Control": CACHE_CONTROL})

    return jwks
