"""The ASGI entry point for ``uvicorn --workers N`` (each worker process builds its own bank).

Workers create no tables (``databank migrate`` did, once); every worker follows the log into the
read models, and the tracking row lock makes each notification apply exactly once.

The app believes ``X-Forwarded-For`` only from ``DATABANK_TRUSTED_PROXIES`` (web/app.py), so
uvicorn must not apply forwarded headers itself: ``databank serve`` runs it with
``proxy_headers=False``; started by hand, run ``uvicorn marketplace.asgi:app --no-proxy-headers``
(uvicorn's default trusts them from 127.0.0.1, and the client address could then be rotated).
"""

from __future__ import annotations

import logging
import os

from marketplace.bootstrap import build
from marketplace.settings import Settings
from marketplace.web.app import create_app
from marketplace.web.observability import configure_logging

_settings = Settings.from_env()
# Each worker sets up its own logging (DATABANK_LOG_FORMAT); DATABANK_LOG_LEVEL=INFO for more.
configure_logging(_settings.log_format,
                  level=logging.getLevelName(os.environ.get("DATABANK_LOG_LEVEL", "WARNING")))
app = create_app(build(_settings,
                       create_tables=os.environ.get("DATABANK_WORKER_CREATE_TABLES") != "no"))
