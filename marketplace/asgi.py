"""The ASGI entry point for ``uvicorn --workers N`` (each worker process builds its own bank).

Workers create no tables (``databank migrate`` did, once); every worker follows the log into the
read models, and the tracking row lock makes each notification apply exactly once.
"""

from __future__ import annotations

import os

from marketplace.bootstrap import build
from marketplace.settings import Settings
from marketplace.web.app import create_app

app = create_app(build(Settings.from_env(),
                       create_tables=os.environ.get("DATABANK_WORKER_CREATE_TABLES") != "no"))
