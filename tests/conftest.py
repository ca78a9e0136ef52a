"""Fixtures every layer of the suite shares.

PostgreSQL tests are enabled by ``DATABANK_TEST_POSTGRES_URL`` (``scripts/test`` and ``.ci/run``
set it to the machine's server). Enabled and unreachable is a failure, never a silent skip;
each test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from support.catalogue import sample_metadata

POSTGRES_URL_VARIABLE = "DATABANK_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The URL of the test PostgreSQL server; skips (visibly, with the reason) when not enabled."""
    url = os.environ.get(POSTGRES_URL_VARIABLE, "")
    if not url:
        pytest.skip(f"PostgreSQL tests are disabled: set {POSTGRES_URL_VARIABLE} (scripts/test does)")
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:  # enabled but unreachable: fail loudly
        pytest.fail(f"PostgreSQL tests are enabled but {url} is unreachable: {exc}")
    return url


@pytest.fixture
def postgres_schema(postgres_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL schema for one test; dropped with everything in it afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def metadata_factory():
    """Build catalogue metadata dicts: ``metadata_factory(name="...")``."""
    return sample_metadata

