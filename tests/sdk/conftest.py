"""Ring 1 of the SDK's tests: the SDK against ``httpx.MockTransport`` scripts
(``support/sdk_mock.py``), no server. Waits between retries are recorded, never slept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from databank import _client


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The seconds the clients waited between retries (recorded instead of slept)."""
    recorded: list[float] = []

    async def async_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(_client, "_sleep", recorded.append)
    monkeypatch.setattr(_client, "_async_sleep", async_sleep)
    yield recorded
