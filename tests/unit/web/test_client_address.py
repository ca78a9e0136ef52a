"""The client address the access path meters anonymous callers by (issue 9): forwarded headers
are believed only from the proxies named in ``DATABANK_TRUSTED_PROXIES``; from anyone else —
loopback included, where uvicorn trusts them by default — an ``X-Forwarded-For`` header cannot
rotate the anonymous allowance."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from marketplace.bootstrap import build_in_memory
from marketplace.settings import Settings
from marketplace.web.app import create_app
from support.api import operation
from support.marketplace import Clock, set_up_market


def _client(trusted: tuple[str, ...], peer: str) -> Iterator[tuple[TestClient, str]]:
    bank = build_in_memory(Settings(escalation_interval_seconds=0, anonymous_calls_per_minute=2,
                                    trusted_proxies=trusted))
    bank.market.clock = bank.row_access.clock = Clock()
    market = set_up_market(bank)
    with TestClient(create_app(bank), client=(peer, 50000)) as http:
        yield http, market.assets["unconditional"]


@pytest.fixture
def untrusting() -> Iterator[tuple[TestClient, str]]:
    yield from _client((), "127.0.0.1")


@pytest.fixture
def behind_proxy() -> Iterator[tuple[TestClient, str]]:
    yield from _client(("10.0.0.0/8", "127.0.0.1"), "10.1.2.3")


def _rows(http: TestClient, asset_id: str, forwarded_for: str | None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return http.post("/graphql", json={"query": operation("Rows"), "variables": {"assetId": asset_id}},
                     headers=headers)


def test_by_default_a_forwarded_header_from_loopback_does_not_rotate_the_allowance(
        untrusting) -> None:
    http, asset_id = untrusting
    answers = [_rows(http, asset_id, f"1.2.3.{n}").status_code for n in range(4)]
    assert answers == [200, 200, 429, 429]  # all metered as 127.0.0.1


def test_behind_a_configured_proxy_each_forwarded_client_has_its_own_allowance(
        behind_proxy) -> None:
    http, asset_id = behind_proxy
    answers = [_rows(http, asset_id, f"1.2.3.{n}").status_code for n in range(4)]
    assert answers == [200] * 4
    assert [_rows(http, asset_id, "1.2.3.0").status_code for _ in range(2)] == [200, 429]


def test_a_client_cannot_prepend_addresses_through_a_trusted_proxy(behind_proxy) -> None:
    http, asset_id = behind_proxy
    # The proxy appends the address it saw; what the client wrote to the left is not believed.
    answers = [_rows(http, asset_id, f"9.9.9.{n}, 1.2.3.4").status_code for n in range(4)]
    assert answers == [200, 200, 429, 429]


def test_the_setting_is_read_from_the_environment_and_checked() -> None:
    settings = Settings.from_env({"DATABANK_TRUSTED_PROXIES": " 10.0.0.0/8, 192.168.1.5 ,::1"})
    assert settings.trusted_proxies == ("10.0.0.0/8", "192.168.1.5", "::1")
    assert Settings.from_env({}).trusted_proxies == ()
    with pytest.raises(ValueError, match="DATABANK_TRUSTED_PROXIES.*proxy.example"):
        Settings.from_env({"DATABANK_TRUSTED_PROXIES": "proxy.example"})
