"""The typed rooms stay typed: mypy, configured by pyproject.toml's [tool.mypy], passes over
domain/, the SDK, the services, the views, the read models, the API and the whole data access
path (the datastore and the quota ledger), and billing's use cases, so what crosses between those
layers is a declared type (issue 10). Still outside: the web layer, identity, the Stripe adapter
(stripe's TypedDict params), the demo and the CLI."""

from __future__ import annotations

import os
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[2]

#: The packages mypy checks; a path here must stay free of type errors.
CHECKED = ["domain", "marketplace/services", "marketplace/views", "marketplace/projections",
           "marketplace/datastore", "marketplace/metering", "marketplace/billing/service.py",
           "marketplace/billing/records.py", "marketplace/billing/records_move.py",
           "marketplace/api", "sdk/databank"]


def test_mypy_passes_over_the_typed_packages() -> None:
    # No cache: nothing written into the tree, and a cold run still takes only a few seconds.
    stdout, stderr, status = api.run([
        "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", os.devnull,
        "--no-error-summary", "--hide-error-context",
        *(str(ROOT / path) for path in CHECKED)])
    assert status == 0, stdout + stderr
