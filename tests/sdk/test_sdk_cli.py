"""``databank-sdk``: search and rows to CSV, errors as one line and exit status 1."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from databank import cli
from support.sdk_mock import Script, error, graphql

ROWS = {"rows": {"rows": [{"企业名称": "六安甲公司", "所属区县": "霍山县"},
                          {"企业名称": "六安乙公司", "所属区县": "霍山县"}],
                 "columns": ["企业名称", "所属区县"], "maskedColumns": [], "version": 1,
                 "pageInfo": {"endCursor": None, "hasNextPage": False}}}


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch):
    """Points the CLI's client at a script."""
    holder: dict = {}

    def client(api_key=None, *, base_url=None):
        return holder["script"].sync(api_key=api_key or "dbk_cli")

    monkeypatch.setattr(cli, "Client", client)
    return holder


def test_rows_with_a_where_and_a_limit_go_to_a_csv_file(served, tmp_path: Path) -> None:
    served["script"] = script = Script(graphql(ROWS, extensions={"quota": {"rowsRemaining": 98}}))
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "rows.csv"
    status = cli.main(["rows", "A", "--where", '{"所属区县": "霍山县"}', "--limit", "2",
                       "--csv", str(target)], out=out, err=err)
    assert status == 0, err.getvalue()
    with target.open(encoding="utf-8-sig") as handle:
        assert list(csv.DictReader(handle)) == ROWS["rows"]["rows"]
    variables = script.bodies()[0]["variables"]
    assert variables["where"] == {"所属区县": "霍山县"} and variables["first"] == 2
    assert "2 rows written" in err.getvalue() and "98 rows left" in err.getvalue()


def test_rows_without_csv_print_json_lines(served) -> None:
    served["script"] = Script(graphql(ROWS))
    out = io.StringIO()
    assert cli.main(["rows", "A"], out=out, err=io.StringIO()) == 0
    assert [json.loads(line) for line in out.getvalue().splitlines()] == ROWS["rows"]["rows"]


def test_search_prints_one_asset_a_line(served) -> None:
    served["script"] = Script(graphql({"catalogue": {"totalCount": 1, "pageInfo": {
        "endCursor": None, "hasNextPage": False}, "nodes": [{
            "id": "A", "resourceCode": "X-1", "name": "企业登记", "status": "PUBLISHED",
            "department": {"id": "d", "name": "市场监管局"}, "currentVersion": {"number": 1, "rowCount": 2000}}]}}))
    out = io.StringIO()
    assert cli.main(["search", "企业"], out=out, err=io.StringIO()) == 0
    assert out.getvalue() == "A\tX-1\t企业登记\t市场监管局\t2,000\n"


def test_an_error_is_one_line_and_exit_status_1(served) -> None:
    served["script"] = Script(error("BAD_USER_INPUT", "cannot filter on '血型'"))
    err = io.StringIO()
    assert cli.main(["rows", "A", "--where", '{"血型": "A"}'], out=io.StringIO(), err=err) == 1
    assert err.getvalue() == "databank-sdk: InvalidQueryError: [200 BAD_USER_INPUT] cannot filter on '血型'\n"


def test_the_console_script_is_installed() -> None:
    import shutil
    import subprocess
    import sys
    from pathlib import Path as P

    script = P(sys.executable).with_name("databank-sdk")
    assert script.exists() or shutil.which("databank-sdk")
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("databank-sdk ")


def test_export_writes_the_file_with_a_progress_line_and_resumes_a_cut_stream(served, tmp_path: Path, waits) -> None:
    from support.sdk_mock import ExportServer, export_rows

    rows = export_rows(14)
    served["script"] = server = ExportServer(rows, "csv")
    server.steps = [len(server.body()) // 2]
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "registry.csv"
    status = cli.main(["export", "A1", "--format", "csv", "--output", str(target),
                       "--where", '{"所属区县": "霍山县"}'], out=out, err=err)
    assert status == 0, err.getvalue()
    assert target.read_bytes() == server.body()
    assert server.variables["where"] == {"所属区县": "霍山县"} and server.variables["format"] == "CSV"
    assert "\rexport: 14 / 14 rows (100.0 %)" in err.getvalue()
    assert err.getvalue().endswith(f"14 rows written to {target} (1 resumed)\n")


def test_an_export_refused_by_the_link_prints_one_line_and_exits_1(served, tmp_path: Path) -> None:
    from support.sdk_mock import ExportServer, export_rows

    served["script"] = ExportServer(export_rows(2), "csv", payload={"export": None, "errors": [
        {"field": "assetId", "message": "subscribe first", "code": "FORBIDDEN"}]})
    err = io.StringIO()
    status = cli.main(["export", "A1", "--output", str(tmp_path / "x.csv")], out=io.StringIO(), err=err)
    assert status == 1 and err.getvalue() == ("databank-sdk: PermissionDeniedError: "
                                              "[200 FORBIDDEN] subscribe first\n")
    assert list(tmp_path.iterdir()) == []
