"""``databank serve`` and ``databank demo`` on an empty data directory (issue 9): production
never seeds the demo, whose passwords are published; an explicit ``databank demo`` still can,
with a warning; and uvicorn is never left to believe X-Forwarded-For on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from marketplace import cli
from marketplace.bootstrap import build
from marketplace.demo.seed import DEMO_PASSWORD, is_seeded
from marketplace.settings import Settings


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What uvicorn was asked to run (nothing is served)."""
    import uvicorn

    runs: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append(options))
    return runs


def _run(data_dir: Path, environment: str, *arguments: str, **env: str):
    return CliRunner().invoke(cli.main, list(arguments), env={
        "DATABANK_DATA_DIR": str(data_dir), "DATABANK_ENV": environment,
        "DATABANK_ESCALATION_INTERVAL_SECONDS": "0", **env})


def _seeded(data_dir: Path) -> bool:
    bank = build(Settings(data_dir=data_dir), fast_hashing=True)
    try:
        return is_seeded(bank)
    finally:
        bank.close()


def test_production_serve_does_not_seed_the_demo(tmp_path: Path, served: list) -> None:
    result = _run(tmp_path, "production", "serve")
    assert result.exit_code == 0, result.output
    assert len(served) == 1
    assert not _seeded(tmp_path)
    assert DEMO_PASSWORD not in result.output and "Seeding" not in result.output


def test_production_serve_refuses_an_explicit_demo_flag(tmp_path: Path, served: list) -> None:
    result = _run(tmp_path, "production", "serve", "--demo")
    assert result.exit_code != 0
    assert "databank demo" in result.output and "production" in result.output
    assert served == [] and not _seeded(tmp_path)


def test_development_serve_seeds_the_demo_by_default(tmp_path: Path, served: list,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from marketplace.demo import seed

    seeded: list[Path] = []
    monkeypatch.setattr(seed, "seed_demo", lambda bank, work_dir, **_: seeded.append(work_dir))
    result = _run(tmp_path, "development", "serve")
    assert result.exit_code == 0, result.output
    assert seeded == [tmp_path / "demo-files"] and len(served) == 1


def test_an_explicit_demo_command_seeds_production_with_a_warning(tmp_path: Path) -> None:
    result = _run(tmp_path, "production", "demo", "--enterprise-rows", "200")
    assert result.exit_code == 0, result.output
    assert "WARNING" in result.stderr and "published" in result.stderr
    assert _seeded(tmp_path)


def test_the_demo_command_in_development_warns_of_nothing(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from marketplace.demo import seed

    monkeypatch.setattr(seed, "seed_demo", lambda bank, work_dir, **_: None)
    result = _run(tmp_path, "development", "demo")
    assert result.exit_code == 0 and result.stderr == ""


@pytest.mark.parametrize("proxies", ["", "10.0.0.0/8"])
def test_uvicorn_never_applies_forwarded_headers_itself(tmp_path: Path, served: list,
                                                        proxies: str) -> None:
    result = _run(tmp_path, "production", "serve", DATABANK_TRUSTED_PROXIES=proxies)
    assert result.exit_code == 0, result.output
    [options] = served
    assert options["proxy_headers"] is False  # the app applies DATABANK_TRUSTED_PROXIES


def test_a_malformed_trusted_proxy_stops_the_start(tmp_path: Path, served: list) -> None:
    result = _run(tmp_path, "production", "serve", DATABANK_TRUSTED_PROXIES="10.0.0.0/8,proxy")
    assert result.exit_code != 0 and "DATABANK_TRUSTED_PROXIES" in result.output
    assert served == []
