"""Python SDK steps (features/sdk/): a developer's client over the same API, with the scenario's
API key."""

from __future__ import annotations

from bdd.steps.access import PEOPLE
from bdd.steps.core import market_of
from pytest_bdd import parsers, then, when


def _sdk(world: dict):
    """A ``databank.Client`` with the scenario's API key, talking to the scenario's app through
    Starlette's TestClient; ``world["sdk_transport"].requests`` counts what it sent."""
    import databank
    from support.sdk_server import StarletteTransport

    transport = StarletteTransport(world["api"].http)
    world["sdk_transport"] = transport
    return databank.Client(world["api_key"], base_url="http://testserver", transport=transport,
                           max_retries=3)


@when(parsers.parse('the developer searches the catalogue with the SDK for "{text}"'))
def sdk_search(world: dict, text: str) -> None:
    with _sdk(world) as client:
        world["sdk_assets"] = list(client.catalogue.search(text))


@then(parsers.parse('the SDK finds "{name}"'))
def sdk_finds(world: dict, name: str) -> None:
    assert name in [asset.name for asset in world["sdk_assets"]], world["sdk_assets"]


@when(parsers.parse('the developer pulls {count:d} rows of "{asset}" with the SDK'))
def sdk_pull(world: dict, count: int, asset: str) -> None:
    """Pulls into a list (and a pandas DataFrame when pandas is installed: it is optional)."""
    with _sdk(world) as client:
        rows = client.assets.rows(market_of(world)["assets"][asset], limit=count, page_size=3)
        world["sdk_rows"], world["sdk_page"] = list(rows), rows.last_page


@then(parsers.parse('the SDK gives {count:d} rows with the columns "{columns}"'))
def sdk_rows(world: dict, count: int, columns: str) -> None:
    rows = world["sdk_rows"]
    assert len(rows) == count and all(list(row) == columns.split(",") for row in rows), rows
    import pandas  # a test dependency: the step checks the DataFrame too

    assert list(pandas.DataFrame(rows).columns) == columns.split(",")


@then(parsers.parse("the SDK says {left:d} rows remain this month"))
def sdk_rows_left(world: dict, left: int) -> None:
    assert world["sdk_page"].quota.rows_remaining == left


@when(parsers.parse('the developer pulls every row of "{asset}" with the SDK'))
def sdk_pull_all(world: dict, asset: str) -> None:
    import databank

    world["sdk_rows"], world["sdk_error"] = [], None
    with _sdk(world) as client:
        try:
            for row in client.assets.rows(market_of(world)["assets"][asset], page_size=2):
                world["sdk_rows"].append(row)
        except databank.DatabankError as exc:
            world["sdk_error"] = exc


@then(parsers.parse('the SDK raised QuotaExceededError after {count:d} rows, resetting at "{reset}"'))
def sdk_quota_exceeded(world: dict, count: int, reset: str) -> None:
    import databank

    error = world["sdk_error"]
    assert isinstance(error, databank.QuotaExceededError), error
    assert len(world["sdk_rows"]) == count and error.reset_at.isoformat() == reset
    assert error.retry_after and error.retry_after > 60


@then(parsers.parse("the server was asked {count:d} times, without retries"))
def sdk_requests(world: dict, count: int) -> None:
    assert len(world["sdk_transport"].requests) == count


@when(parsers.parse('the developer exports "{asset}" where "{column}" is "{value}" into pandas with the SDK'))
def sdk_export_to_pandas(world: dict, asset: str, column: str, value: str) -> None:
    """``client.assets.export(...).to_pandas()`` (pandas is a test dependency; the SDK keeps it
    optional)."""
    with _sdk(world) as client:
        asset_id = market_of(world)["assets"][asset]
        export = client.assets.export(asset_id, format="csv", where={column: value})
        world["sdk_frame"], world["sdk_export"] = export.to_pandas(), export


@then(parsers.parse('the DataFrame has {count:d} rows with the columns "{columns}"'))
def sdk_frame_rows(world: dict, count: int, columns: str) -> None:
    frame = world["sdk_frame"]
    assert len(frame) == count and list(frame.columns) == columns.split(","), frame


@then(parsers.parse('every "{column}" in the DataFrame is "{value}" and no "{masked}" is shown in full'))
def sdk_frame_values(world: dict, column: str, value: str, masked: str) -> None:
    frame = world["sdk_frame"]
    assert set(frame[column]) == {value}, frame
    shown = {pid for pid, _, _ in PEOPLE}
    assert not shown & set(frame[masked]) and all("*" in v for v in frame[masked]), frame


@then(parsers.parse("the export says {left:d} rows remain this month"))
def sdk_export_rows_left(world: dict, left: int) -> None:
    assert world["sdk_export"].state.rows_remaining == left
