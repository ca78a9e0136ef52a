"""GraphiQL, served from vendored files (no CDN at run time).

The files under ``static/graphiql/`` come from the npm registry through ``scripts/vendor-graphiql``
(pinned versions in ``static/graphiql/VERSIONS.txt``); ``init.js`` is ours. The page's fetcher
posts JSON with the ``GraphQL-Preflight: 1`` header the endpoint's CSRF rule asks for; tokens go
in GraphiQL's Headers tab (``{"Authorization": "Bearer ..."}``) and are not persisted.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

#: Where the app mounts ``marketplace/web/static`` (see :func:`static_mount`).
STATIC_PATH = "/static"
STATIC_DIRECTORY = Path(__file__).parent / "static"

# Scripts only from our origin (init.js is a file, not inline); GraphiQL sets inline styles.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{static}/graphiql/graphiql.min.css">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql" data-endpoint="{endpoint}">Loading GraphiQL…</div>
<script src="{static}/graphiql/react.production.min.js"></script>
<script src="{static}/graphiql/react-dom.production.min.js"></script>
<script src="{static}/graphiql/graphiql.min.js"></script>
<script src="{static}/graphiql/init.js"></script>
</body>
</html>
"""


def graphiql_response(request: Request, *, title: str = "六安市数据银行 · GraphQL") -> HTMLResponse:
    """The GraphiQL page; its fetcher posts to the URL the page was requested at."""
    root_path = request.scope.get("root_path", "")
    page = _PAGE.format(title=escape(title), static=escape(root_path + STATIC_PATH),
                        endpoint=escape(request.url.path))  # scope path includes root_path
    return HTMLResponse(page, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY,
                                       "Cache-Control": "no-store"})


def static_mount() -> Mount:
    """``/static`` → ``marketplace/web/static`` (GraphiQL's files and any other static assets)."""
    return Mount(STATIC_PATH, app=StaticFiles(directory=STATIC_DIRECTORY), name="static")
