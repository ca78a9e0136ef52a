"""SDK overhead per 100-row page over loopback, against raw httpx posting the same operation.

    .venv/bin/python bench/sdk_overhead.py                       # a canned Rows answer on loopback
    .venv/bin/python bench/sdk_overhead.py --url http://127.0.0.1:8000 --api-key dbk_... --asset ID

By default a small loopback HTTP server answers every POST with one recorded-shape page of 100
rows (so the server's own time, and its rate limits, stay out of the comparison); with --url it
asks a real server (mind the plan's rate limit). Each run times ``--pages`` sequential requests
both ways over one keep-alive connection; the report is the median of ``--runs`` runs.
Target: SDK time ≤ 1.10 × raw time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

import databank
from databank._core import operation

ROWS = [{"统一社会信用代码": f"91341500MA2N{n:05d}", "企业名称": f"六安市示例企业{n}有限公司",
         "所属区县": "霍山县", "注册资本": 100 + n, "成立日期": "2020-01-01", "行业": "制造业"}
        for n in range(100)]
ANSWER = json.dumps({"data": {"rows": {"rows": ROWS, "columns": list(ROWS[0]), "maskedColumns": [],
                                       "version": 1, "pageInfo": {"endCursor": "c", "hasNextPage": True}}},
                     "extensions": {"quota": {"rowsRemaining": 9900, "rowsUsed": 100, "callsUsed": 1,
                                              "callsRemaining": None, "resetAt": "2026-04-01T00:00:00+08:00",
                                              "rateLimit": None, "rateRemaining": None}}},
                    ensure_ascii=False).encode()


class _Canned(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else delayed ACKs add ~40 ms to every answer

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)

    def log_message(self, *args) -> None:
        pass


def raw_run(url: str, key: str, asset: str, pages: int) -> float:
    body = {"query": operation("Rows"), "operationName": "Rows",
            "variables": {"assetId": asset, "first": 100}}
    with httpx.Client(timeout=30) as http:
        http.post(f"{url}/graphql", json=body, headers={"X-API-Key": key})  # warm the connection
        start = time.perf_counter()
        for _ in range(pages):
            data = http.post(f"{url}/graphql", json=body, headers={"X-API-Key": key}).json()
            assert len(data["data"]["rows"]["rows"]) == 100
        return time.perf_counter() - start


def sdk_run(url: str, key: str, asset: str, pages: int) -> float:
    with databank.Client(key, base_url=url) as client:
        client.assets.rows_page(asset, first=100)
        start = time.perf_counter()
        for _ in range(pages):
            assert len(client.assets.rows_page(asset, first=100).rows) == 100
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url")
    parser.add_argument("--api-key", default="dbk_bench")
    parser.add_argument("--asset", default="bench-asset")
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    server = None
    url = args.url
    if url is None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
    raw, sdk = [], []
    for _ in range(args.runs):  # interleaved, so drift hits both alike
        raw.append(raw_run(url, args.api_key, args.asset, args.pages))
        sdk.append(sdk_run(url, args.api_key, args.asset, args.pages))
    raw_ms = statistics.median(raw) / args.pages * 1000
    sdk_ms = statistics.median(sdk) / args.pages * 1000
    print(f"server: {'canned loopback' if server else url}; {args.pages} pages of 100 rows, "
          f"median of {args.runs} runs")
    print(f"raw httpx : {raw_ms:.3f} ms/page")
    print(f"SDK       : {sdk_ms:.3f} ms/page")
    print(f"overhead  : {(sdk_ms / raw_ms - 1) * 100:+.1f} % (target ≤ +10 %)")
    if server:
        server.shutdown()


if __name__ == "__main__":
    main()
