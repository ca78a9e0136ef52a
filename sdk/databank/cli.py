"""``databank-sdk``: the SDK on the command line.

::

    databank-sdk search 企业 --category enterprise
    databank-sdk rows <asset id> --where '{"所属区县": "霍山县"}' --limit 5000 --csv rows.csv
    databank-sdk export <asset id> --format csv --output registry.csv --where '{"所属区县": "霍山县"}'

The server comes from ``--base-url`` or ``DATABANK_URL``, the key from ``--api-key`` or
``DATABANK_API_KEY``. Errors print one line to stderr and exit with status 1.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Sequence, TextIO

from databank._client import Client
from databank._version import __version__
from databank.errors import DatabankError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="databank-sdk",
                                     description="The Lu'an Data Bank from the command line.")
    parser.add_argument("--version", action="version", version=f"databank-sdk {__version__}")
    parser.add_argument("--base-url", help="the server (default: DATABANK_URL or "
                                           "http://127.0.0.1:8000)")
    parser.add_argument("--api-key", help="an API key (default: DATABANK_API_KEY)")
    commands = parser.add_subparsers(dest="command", required=True)

    search = commands.add_parser("search", help="search the catalogue")
    search.add_argument("text", nargs="?", default=None, help="any substring (Chinese included)")
    search.add_argument("--category", help="enterprise, population, transport ...")
    search.add_argument("--limit", type=int, default=None, help="at most this many assets")

    rows = commands.add_parser("rows", help="an asset's rows as CSV (or JSON lines)")
    rows.add_argument("asset_id")
    rows.add_argument("--where", type=json.loads, default=None,
                      help='conditions as JSON: \'{"所属区县": "霍山县"}\'')
    rows.add_argument("--order-by", default=None)
    rows.add_argument("--limit", type=int, default=None, help="at most this many rows")
    rows.add_argument("--csv", dest="csv_file", default=None,
                      help="write CSV to this file (default: JSON lines on stdout)")

    export = commands.add_parser("export", help="download a bulk export (CSV, NDJSON, Parquet) "
                                                "with a progress line; resumes by itself")
    export.add_argument("asset_id")
    export.add_argument("--format", choices=["csv", "ndjson", "parquet"], default="csv")
    export.add_argument("--output", "-o", required=True, help="the file to write")
    export.add_argument("--where", type=json.loads, default=None,
                        help='conditions as JSON: \'{"所属区县": "霍山县"}\'')
    export.add_argument("--columns", default=None, help="comma-separated columns, in order")
    export.add_argument("--quiet", action="store_true", help="no progress line")
    return parser


def _export(client: Client, args: argparse.Namespace, err: TextIO) -> None:
    from databank._export import LineProgress

    columns = [c for c in args.columns.split(",") if c] if args.columns else None
    export = client.assets.export(args.asset_id, format=args.format, where=args.where,
                                  columns=columns,
                                  progress=None if args.quiet else LineProgress(err))
    path = export.save(args.output)
    state = export.state
    resumed = f" ({state.resumes} resumed)" if state.resumes else ""
    err.write(f"{state.rows_done:,} rows written to {path}{resumed}\n")


def _search(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    for asset in client.catalogue.search(args.text, category=args.category, limit=args.limit):
        rows = "" if asset.row_count is None else f"{asset.row_count:,}"
        out.write(f"{asset.id}\t{asset.code}\t{asset.name}\t{asset.department or ''}\t{rows}\n")


def _rows(client: Client, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    rows = client.assets.rows(args.asset_id, where=args.where, order_by=args.order_by,
                              limit=args.limit)
    count = 0
    if args.csv_file:
        # utf-8-sig: Excel opens Chinese column names correctly.
        with open(args.csv_file, "w", newline="", encoding="utf-8-sig") as handle:
            writer: csv.DictWriter | None = None
            for row in rows:
                if writer is None:
                    columns = rows.last_page.columns or list(row)
                    writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
                    writer.writeheader()
                writer.writerow(row)
                count += 1
        err.write(f"{count} rows written to {args.csv_file}\n")
    else:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    quota = rows.last_page.quota if rows.last_page is not None else None
    if quota is not None and quota.rows_remaining is not None:
        err.write(f"{quota.rows_remaining:,} rows left this month\n")


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None,
         err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    args = _parser().parse_args(argv)
    try:
        with Client(args.api_key, base_url=args.base_url) as client:
            if args.command == "search":
                _search(client, args, out)
            elif args.command == "export":
                _export(client, args, err)
            else:
                _rows(client, args, out, err)
    except DatabankError as exc:
        err.write(f"databank-sdk: {type(exc).__name__}: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
