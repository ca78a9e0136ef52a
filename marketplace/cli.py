"""``databank``: serve, migrate, demo, import, projections. Wiring only: no business logic here."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import click

from marketplace.bootstrap import DataBank, build
from marketplace.settings import Settings


#: uvicorn never believes X-Forwarded-For itself (it would, by default, from 127.0.0.1): the app
#: applies DATABANK_TRUSTED_PROXIES (web/app.py), so one setting decides for every way of serving.
#: Nor does it set up logging or write its own access log: the app's log setup
#: (web/observability.py) formats every record, and its middleware writes the access line with
#: the request id.
UVICORN_OPTIONS = {"proxy_headers": False, "log_config": None, "access_log": False}


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _bank(create_tables: bool = True) -> DataBank:
    try:
        return build(Settings.from_env(), create_tables=create_tables)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
def main(verbose: bool) -> None:
    """六安市数据银行 — the Lu'an Data Bank.

    Settings come from the environment: DATABANK_DATA_DIR (default ./var), DATABANK_DATABASE_URL
    (postgresql://...; default: embedded SQLite), DATABANK_ENV (development|production; production
    never seeds the demo from `serve`), DATABANK_TRUSTED_PROXIES (reverse proxies whose
    X-Forwarded-For is believed; default none).
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="API worker processes (PostgreSQL only: SQLite is one process).")
@click.option("--demo/--no-demo", default=None,
              help="Seed the Lu'an demo into an empty store first (default: in development; "
                   "never in production).")
def serve(host: str, port: int, workers: int, demo: bool | None) -> None:
    """Run the data bank (in development, seeding the demo into an empty store)."""
    import uvicorn

    from marketplace.web.observability import configure_logging

    settings = _settings()
    # DATABANK_LOG_FORMAT, at the level `-v` chose (main's basicConfig set it on the root).
    configure_logging(settings.log_format, level=logging.getLogger().level)
    if demo is None:
        demo = settings.is_development
    elif demo and not settings.is_development:
        # The demo's passwords are printed in its welcome and its docs: never a production login.
        raise click.ClickException("production never seeds the demo from `databank serve` (its "
                                   "passwords are published); run `databank demo` if you mean it")
    if workers > 1 and not settings.database_url:
        raise click.ClickException("--workers > 1 needs DATABANK_DATABASE_URL (PostgreSQL): "
                                   "the embedded SQLite store serves one process")
    if workers > 1:
        # Workers create no tables (concurrent DDL races); migrate first, once.
        bank = _bank(create_tables=True)
        if demo:
            _seed(bank)
        seeded = _is_seeded(bank)
        bank.close()
        os.environ["DATABANK_WORKER_CREATE_TABLES"] = "no"
        _print_welcome(settings, host, port, seeded)
        uvicorn.run("marketplace.asgi:app", host=host, port=port, workers=workers,
                    log_level="warning", **UVICORN_OPTIONS)
        return
    bank = _bank()
    if demo:
        _seed(bank)
    from marketplace.web.app import create_app

    _print_welcome(settings, host, port, _is_seeded(bank))
    uvicorn.run(create_app(bank), host=host, port=port, log_level="warning", **UVICORN_OPTIONS)


@main.command()
def migrate() -> None:
    """Create the tables (run once before starting PostgreSQL workers); move billing's events
    out of the Market's store into billing's own, once (the build does it)."""
    bank = _bank(create_tables=True)
    copied = bank.billing.records.copied_from_marketplace if bank.billing else 0
    bank.close()
    if copied:
        click.echo(f"copied {copied:,} billing events into billing's own event store")
    click.echo("tables are in place")


@main.command()
@click.option("--enterprise-rows", type=int, default=None,
              help="Rows of the enterprise registry (default: the demo's 100,000).")
def demo(enterprise_rows: int | None) -> None:
    """Seed the Lu'an demo (departments, staff, published assets) into an empty store."""
    if not _settings().is_development:
        click.echo("WARNING: seeding the demo into a production store: its logins have published "
                   "passwords. Change them, or use this store for demonstrations only.", err=True)
    bank = _bank()
    try:
        _seed(bank, enterprise_rows)
    finally:
        bank.close()


@main.command(name="import")
@click.argument("asset_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "username", required=True, help="The publisher (staff username) importing.")
@click.option("--format", "source_format", type=click.Choice(["csv", "xlsx", "jsonl"]), default=None)
def import_version(asset_id: str, file: Path, username: str, source_format: str | None) -> None:
    """Upload FILE as a new version of ASSET_ID, acting as publisher USERNAME (operator console)."""
    from domain.errors import DomainError

    bank = _bank()
    try:
        account = bank.staff.find_by_username(username)
        if account is None:
            raise click.ClickException(f"no staff account {username!r}")
        fmt = source_format or {".xlsx": "xlsx", ".jsonl": "jsonl"}.get(file.suffix.lower(), "csv")
        started = time.perf_counter()
        with file.open("rb") as source:
            try:
                asset, number = bank.catalogue.upload_version(asset_id, source, source_format=fmt,
                                                              by=account.actor())
            except DomainError as error:
                raise click.ClickException(error.message) from None
        version = asset.get_version(number)
        elapsed = time.perf_counter() - started
        click.echo(f"version {number} of {asset.resource_code}: {version['row_count']:,} rows in "
                   f"{elapsed:.1f} s, quality score {version['quality'].get('score')}")
    finally:
        bank.close()


@main.command()
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (the contract lives in graphql/schema.graphql).")
def schema(output: Path | None) -> None:
    """Print the GraphQL schema (SDL) generated from the graphene schema."""
    from marketplace.api.schema import schema_sdl

    text = schema_sdl()
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@main.group()
def projections() -> None:
    """Read models fed from the event log."""


# The command keeps the name users type (`databank applications escalate`).
@main.group(name="applications")
def access_applications() -> None:
    """Access applications (有条件开放申请)."""


@access_applications.command()
def escalate() -> None:
    """Escalate access applications unanswered past their deadline to the administrators."""
    bank = _bank()
    try:
        escalated = bank.access_applications.escalate_overdue()
        click.echo(f"{len(escalated)} overdue application(s) escalated")
    finally:
        bank.close()


@main.group()
def billing() -> None:
    """Paid plans: usage sent to the payment provider."""


@billing.command()
def reconcile() -> None:
    """Compare the usage ledger with what Stripe acknowledged; re-send what is missing."""
    bank = _bank()
    try:
        assert bank.billing is not None
        for line in bank.billing.reconcile().lines():
            click.echo(line)
    finally:
        bank.close()


@projections.command()
def rebuild() -> None:
    """Rebuild the read models (catalogue, entitlements) from the start of their event logs."""
    bank = _bank()
    try:
        for name, follower in (("catalogue", bank.catalogue_follower),
                               ("entitlements", bank.entitlements_follower)):
            started = time.perf_counter()
            applied = follower.rebuild()
            click.echo(f"{name}: {applied:,} events applied in {time.perf_counter() - started:.2f} s")
    finally:
        bank.close()


@main.command()
def verify() -> None:
    """Replay every aggregate of every event store and compare it with the read models; print a
    line per difference and exit 1, or a summary and exit 0."""
    from marketplace.services.verify import Stores, verify as verify_stores

    bank = _bank()
    try:
        report = verify_stores(Stores(
            catalogue=bank.catalogue, staff=bank.staff, market=bank.market,
            metering=bank.metering, billing=bank.billing.records if bank.billing else None,
            catalogue_view=bank.catalogue_view, entitlements_view=bank.entitlements_view,
            datastore=bank.datastore))
    finally:
        bank.close()
    for line in report.lines():
        click.echo(line)
    if not report.clean:
        sys.exit(1)


def _seed(bank: DataBank, enterprise_rows: int | None = None) -> None:
    from marketplace.demo.seed import is_seeded, seed_demo

    if is_seeded(bank):
        return
    click.echo("Seeding the Lu'an demo (first start only)...")
    started = time.perf_counter()
    seed_demo(bank, work_dir=Path(bank.settings.data_dir) / "demo-files",
              enterprise_rows=enterprise_rows, progress=click.echo)
    click.echo(f"Demo seeded in {time.perf_counter() - started:.1f} s.")


def _is_seeded(bank: DataBank) -> bool:
    from marketplace.demo.seed import is_seeded

    return is_seeded(bank)


def _print_welcome(settings: Settings, host: str, port: int, seeded: bool) -> None:
    from marketplace.demo.seed import API_KEY_FILE, DEMO_PASSWORD, demo_logins

    base = f"http://{host}:{port}"
    store = "PostgreSQL" if settings.database_url else f"SQLite in {settings.data_dir.resolve()}"
    click.echo(f"\n六安市数据银行 — the Lu'an Data Bank on {base} ({store})")
    if settings.is_development:
        click.echo(f"  GraphiQL:  {base}/graphql")
    click.echo(f"  Catalogue: {base}/   JWKS: {base}/.well-known/jwks.json   Health: {base}/healthz")
    if seeded and not settings.is_development:
        click.echo("WARNING: this production store holds the demo, whose passwords are published.",
                   err=True)
    elif seeded:
        _print_demo_logins(settings, API_KEY_FILE, DEMO_PASSWORD, demo_logins())
    click.echo("")
    sys.stdout.flush()


def _print_demo_logins(settings: Settings, key_file_name: str, password: str, logins: list) -> None:
    click.echo(f"  Demo logins (password {password}):")
    for login in logins:
        suffix = f" — {login.department}" if login.department else ""
        click.echo(f"    {login.username:<28} {login.role}{suffix}")
    click.echo("  Log in with: mutation { login(username: \"admin\", password: \"...\") { token } }")
    key_file = Path(settings.data_dir) / key_file_name
    if key_file.exists():
        click.echo(f"  Demo API key of the startup member: {key_file.read_text(encoding='utf-8').strip()}")
        click.echo("    send it as: Authorization: Bearer <key>")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
