"""The typed rooms stay typed: mypy, configured by pyproject.toml's [tool.mypy], passes over
domain/, the SDK, the services and the whole data access path (the rows API, the datastore and
the quota ledger), so what crosses between those layers is a declared type (issue 10)."""

from __future__ import annotations

import os
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[2]

#: The packages mypy checks; a path here must stay free of type errors.
CHECKED = ["domain", "marketplace/services", "marketplace/datastore", "marketplace/metering",
           "marketplace/api/rows", "sdk/databank"]


def test_mypy_passes_over_the_typed_packages() -> None:
    # No cache: nothing written into the tree, and a cold run still takes only a few seconds.
    stdout, stderr, status = api.run([
        "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", os.devnull,
        "--no-error-summary", "--hide-error-context",
        *(str(ROOT / path) for path in CHECKED)])
    assert status == 0, stdout + stderr
