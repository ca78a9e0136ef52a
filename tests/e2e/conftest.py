"""Real server processes for the end-to-end tests: ``databank serve`` in a subprocess, on a free
port, with a temporary data directory; the tests talk to it over HTTP (httpx) only.

Servers are started with ``sys.executable -m marketplace.cli`` (the same code as the ``databank``
script), wait for ``/healthz`` (bounded; a server that dies or never answers fails the test with
its output), and are terminated afterwards (SIGTERM, then SIGKILL to the process group if it
lingers). The demo server is seeded first with ``databank demo --enterprise-rows 2000`` so the
suite stays fast.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

STARTUP_SECONDS = 30.0
DEMO_SECONDS = 90.0
STOP_SECONDS = 10.0
DEMO_PASSWORD = "luan-demo-2026"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def databank_command(*arguments: str) -> list[str]:
    """The ``databank`` CLI of the interpreter running the tests (the project's virtualenv)."""
    return [sys.executable, "-m", "marketplace.cli", *arguments]


def server_environment(data_dir: Path, *, database_url: str | None = None,
                       public_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABANK_")}
    env.update(DATABANK_DATA_DIR=str(data_dir), DATABANK_ENV="development",
               PYTHONUNBUFFERED="1")
    if database_url:
        env["DATABANK_DATABASE_URL"] = database_url
    if public_url:
        env["DATABANK_PUBLIC_URL"] = public_url
    return env


def run_cli(env: dict[str, str], *arguments: str, timeout: float = 60.0) -> str:
    """Run a one-shot ``databank`` command; fails the test with its output if it fails."""
    try:
        done = subprocess.run(databank_command(*arguments), env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"`databank {' '.join(arguments)}` took over {timeout:.0f} s:\n"
                    f"{exc.stdout or ''}\n{exc.stderr or ''}")
    if done.returncode != 0:
        pytest.fail(f"`databank {' '.join(arguments)}` exited with {done.returncode}:\n"
                    f"{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class Server:
    """A running ``databank serve`` process."""

    base_url: str
    data_dir: Path
    process: subprocess.Popen
    log_dir: Path
    extra: dict = field(default_factory=dict)

    def output(self) -> str:
        parts = []
        for name in ("stdout", "stderr"):
            path = self.log_dir / f"server.{name}"
            if path.exists():
                parts.append(f"--- {name} ---\n{path.read_text(errors='replace')[-6000:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        process = self.process
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                # Stuck: kill it with its workers (--workers N), which share the session
                # start_new_session gave it.
                _kill_group(process)
                process.wait(STOP_SECONDS)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the group we created with start_new_session
    except (ProcessLookupError, PermissionError):
        pass


def start_server(data_dir: Path, log_dir: Path, *, demo: bool = False, workers: int = 1,
                 database_url: str | None = None,
                 environment: dict[str, str] | None = None) -> Server:
    """Start ``databank serve`` and wait until ``/healthz`` answers 200.

    :param environment: more ``DATABANK_*`` settings (e.g. Stripe pointed at the fake Stripe)
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = server_environment(data_dir, database_url=database_url, public_url=base_url)
    env.update(environment or {})
    arguments = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                 "--demo" if demo else "--no-demo"]
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / "server.stdout").open("wb") as stdout, \
            (log_dir / "server.stderr").open("wb") as stderr:
        process = subprocess.Popen(databank_command(*arguments), env=env, stdout=stdout,
                                   stderr=stderr, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    server = Server(base_url, data_dir, process, log_dir)
    deadline = time.monotonic() + STARTUP_SECONDS
    last_error = "no answer yet"
    while True:
        if process.poll() is not None:
            server.stop()
            pytest.fail(f"`databank {' '.join(arguments)}` exited with {process.returncode} "
                        f"before answering /healthz:\n{server.output()}")
        try:
            response = httpx.get(f"{base_url}/healthz", timeout=2.0)
            if response.status_code == 200:
                return server
            last_error = f"HTTP {response.status_code}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            last_error = repr(exc)
        if time.monotonic() > deadline:
            server.stop()
            pytest.fail(f"`databank serve` did not answer /healthz within {STARTUP_SECONDS:.0f} s "
                        f"(last: {last_error}):\n{server.output()}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def bare_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``databank serve --no-demo`` on an empty embedded store."""
    root = tmp_path_factory.mktemp("e2e-bare")
    server = start_server(root / "data", root / "logs")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``databank demo --enterprise-rows 2000``, then ``databank serve`` on that store."""
    root = tmp_path_factory.mktemp("e2e-demo")
    data_dir = root / "data"
    run_cli(server_environment(data_dir), "demo", "--enterprise-rows", "2000",
            timeout=DEMO_SECONDS)
    server = start_server(data_dir, root / "logs", demo=True)  # already seeded: serves at once
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def enterprise_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``databank demo --enterprise-rows 20000``, then ``databank serve``: for the tests of
    bulk exports, where 2,000 rows would fit in one block of 5,000."""
    root = tmp_path_factory.mktemp("e2e-enterprise")
    data_dir = root / "data"
    run_cli(server_environment(data_dir), "demo", "--enterprise-rows", "20000",
            timeout=DEMO_SECONDS * 2)
    server = start_server(data_dir, root / "logs", demo=True)
    try:
        yield server
    finally:
        server.stop()


class Api:
    """A small GraphQL client over one httpx connection pool."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.token = token
        self.http = httpx.Client(base_url=base_url, timeout=30.0)

    def close(self) -> None:
        self.http.close()

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def post(self, query: str, variables: dict | None = None, **kwargs) -> httpx.Response:
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        return self.http.post("/graphql", json={"query": query, "variables": variables or {}},
                              headers=headers, **kwargs)

    def data(self, query: str, variables: dict | None = None) -> dict:
        response = self.post(query, variables)
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, (response.status_code, body)
        return body["data"]

    def login(self, username: str, password: str = DEMO_PASSWORD) -> str:
        payload = self.data(LOGIN, {"username": username, "password": password})["login"]
        assert payload["errors"] == [], payload
        self.token = payload["token"]
        return self.token


LOGIN = """mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password) { token expiresAt viewer { id role departmentId } errors { field message code } }
}"""


@pytest.fixture
def demo_api(demo_server: Server) -> Iterator[Api]:
    api = Api(demo_server.base_url)
    try:
        yield api
    finally:
        api.close()


@pytest.fixture
def connect() -> Iterator:
    """``connect(base_url)`` → a new :class:`Api` (its own connections), closed after the test."""
    opened: list[Api] = []

    def open_api(base_url: str, token: str | None = None) -> Api:
        api = Api(base_url, token)
        opened.append(api)
        return api

    try:
        yield open_api
    finally:
        for api in opened:
            api.close()


class Launcher:
    """What a test needs to run its own servers (stopped when the test ends)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.servers: list[Server] = []

    def cli(self, data_dir: Path, *arguments: str, database_url: str | None = None,
            timeout: float = 60.0) -> str:
        return run_cli(server_environment(data_dir, database_url=database_url), *arguments,
                       timeout=timeout)

    def serve(self, data_dir: Path, **options) -> Server:
        server = start_server(data_dir, self.root / f"logs-{len(self.servers)}", **options)
        self.servers.append(server)
        return server

    def stop_all(self) -> None:
        for server in reversed(self.servers):
            server.stop()


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    """Start servers of a test's own (``launcher.serve(data_dir, workers=2, database_url=...)``)."""
    launch = Launcher(tmp_path)
    try:
        yield launch
    finally:
        launch.stop_all()
