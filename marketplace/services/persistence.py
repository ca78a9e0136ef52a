"""Where the event store lives: in memory (unit tests), one SQLite file per application (the
embedded default), or PostgreSQL tables prefixed with the application name (scale-out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


#: Connections one event-sourced application's store keeps per process.
EVENT_STORE_CONNECTIONS = 1
#: The applications with an event store (Catalogue, StaffDirectory, Market, Metering, BillingRecords).
EVENT_STORES = 5

#: The most PostgreSQL connections one worker process opens, its pools at their ceilings:
#: event stores 5 × 1, datastore 4 (the rows path), quota ledger 2 (the group committer and
#: reports/feed) + 1 (the feed lock's own session), catalogue read model 2, entitlements read
#: model 2. Sized so that 4 workers (64) plus a test process or a CLI fit PostgreSQL's default
#: ``max_connections`` of 100 with headroom (docs/scaling.md, "Connections per worker"); the
#: request threads (DATABANK_REQUEST_THREADS, 8 on 2 cores) queue on these pools for a few
#: milliseconds rather than each holding a connection of its own.
CONNECTIONS_PER_WORKER = EVENT_STORES * EVENT_STORE_CONNECTIONS + 4 + 2 + 1 + 2 + 2


@dataclass(frozen=True)
class PostgresParams:
    host: str
    port: int
    dbname: str
    user: str
    password: str = ""
    schema: str = "public"

    @classmethod
    def from_url(cls, url: str) -> "PostgresParams":
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError(f"a database URL starts with postgresql://, not {parts.scheme}://")
        query = parse_qs(parts.query)
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            dbname=unquote(parts.path.lstrip("/")) or "postgres",
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            schema=query.get("schema", ["public"])[0],
        )

    @property
    def conninfo(self) -> str:
        password = f" password={self.password}" if self.password else ""
        return f"host={self.host} port={self.port} dbname={self.dbname} user={self.user}{password}"


@dataclass(frozen=True)
class EventStoreConfig:
    """How to build each application's persistence.

    :param kind: ``memory``, ``sqlite`` or ``postgres``
    :param directory: the SQLite files' folder (``sqlite`` only)
    :param postgres: connection parameters (``postgres`` only)
    :param create_tables: False in API workers: ``databank migrate`` creates tables once,
        because many processes creating them at once race on DDL
    """

    kind: str = "memory"
    directory: Path | None = None
    postgres: PostgresParams | None = None
    create_tables: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    def env_for(self, app_name: str) -> dict[str, str]:
        """The eventsourcing environment for one application."""
        env: dict[str, str] = {"CREATE_TABLE": "y" if self.create_tables else "n", **self.extra}
        if self.kind == "memory":
            env["PERSISTENCE_MODULE"] = "eventsourcing.popo"
        elif self.kind == "sqlite":
            assert self.directory is not None
            self.directory.mkdir(parents=True, exist_ok=True)
            env.update({
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                # Each application its own file: SQLite table names are fixed.
                "SQLITE_DBNAME": str(self.directory / f"{app_name.lower()}.sqlite3"),
                "SQLITE_LOCK_TIMEOUT": "10",
            })
        elif self.kind == "postgres":
            assert self.postgres is not None
            p = self.postgres
            env.update({
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": p.dbname, "POSTGRES_HOST": p.host, "POSTGRES_PORT": str(p.port),
                "POSTGRES_USER": p.user, "POSTGRES_PASSWORD": p.password, "POSTGRES_SCHEMA": p.schema,
                # The library's default waits forever for the table lock.
                "POSTGRES_LOCK_TIMEOUT": "10",
                # Connections per application and process (CONNECTIONS_PER_WORKER below): the
                # library's default (5 kept + 10 overflow) held ~30 per idle worker, and even
                # 1 + 4 overflow let 4 workers reach "too many clients" of PostgreSQL's 100.
                # The hot path (rows) touches no event store; their transactions (a command's
                # save, a follower's poll) are milliseconds, so one connection each suffices.
                "POSTGRES_POOL_SIZE": str(EVENT_STORE_CONNECTIONS), "POSTGRES_MAX_OVERFLOW": "0",
                # The library retries a failed connection 10 times; with its default 5 s wait
                # per attempt a command hung ~50 s while the database was down. 1 s per attempt
                # bounds the wait to ~12 s before the 503 (marketplace/web/unavailable.py).
                "POSTGRES_CONNECT_TIMEOUT": "1",
            })
        else:
            raise ValueError(f"unknown event store kind {self.kind!r}")
        return env
