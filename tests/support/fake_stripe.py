"""A small fake Stripe API that the project owns (tests only).

It serves, on 127.0.0.1, the endpoints our Stripe adapter uses, with Stripe-shaped JSON (objects
with ``id`` and ``object``, lists as ``{"object": "list", "data": [...]}``, errors as
``{"error": {"type", "code", "message"}}``), reads form-encoded POST bodies as Stripe does, and
replays the first answer to a repeated ``Idempotency-Key`` as Stripe does. It records every
request (method, path, form, idempotency key) and can inject faults: a status for the next N
requests to a path, a slow answer (a client timeout), a meter event identifier to reject.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    form: dict[str, str]
    idempotency_key: str | None


@dataclass
class Fault:
    status: int
    times: int
    delay: float = 0.0


@dataclass
class FakeStripe:
    """The fake's state; ``url`` is set once it serves."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    meter_events: dict[str, dict[str, str]] = field(default_factory=dict)
    rejected_identifiers: set[str] = field(default_factory=set)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    _replies: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ---- test controls -----------------------------------------------------------------

    def fail(self, path: str, status: int, *, times: int = 1, delay: float = 0.0) -> None:
        """Answer the next ``times`` requests to ``path`` with ``status`` (after ``delay`` s)."""
        self.faults.setdefault(path, []).append(Fault(status, times, delay))

    def slow(self, path: str, seconds: float, *, times: int = 1) -> None:
        """Process the next requests to ``path`` normally, but answer only after ``seconds``."""
        self.faults.setdefault(path, []).append(Fault(0, times, seconds))

    def reject(self, identifier: str) -> None:
        """Refuse the meter event with this identifier (400, as Stripe refuses a bad event)."""
        self.rejected_identifiers.add(identifier)

    def posts(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path == path]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects.values() if o["object"] == kind]

    # ---- the API -----------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], form: dict[str, str],
               key: str | None) -> tuple[int, Any]:
        with self._lock:
            self.requests.append(Recorded(method, path, form, key))
            queued = self.faults.get(path) or []
            fault = queued[0] if queued else None
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    queued.pop(0)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status:
            return fault.status, _error("api_error", "injected", f"injected {fault.status}")
        with self._lock:
            if method == "POST" and key and key in self._replies:
                return self._replies[key]
            status, body = self._route(method, path, query, form)
            if method == "POST" and key and status < 500:
                self._replies[key] = (status, body)
            return status, body

    def _new(self, prefix: str, kind: str, fields: dict[str, Any], given: str | None = None) -> dict:
        obj = {"id": given or f"{prefix}_{next(self._ids):06d}", "object": kind,
               "created": int(time.time()), "livemode": False, **fields}
        self.objects[obj["id"]] = obj
        return obj

    def _route(self, method: str, path: str, query: dict[str, str], form: dict[str, str]) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        nested = _nest(form)
        if path == "/v1/billing/meters":
            if method == "GET":
                return 200, _list(self.of_kind("billing.meter"))
            return 200, self._new("mtr", "billing.meter", {
                "event_name": nested["event_name"], "display_name": nested.get("display_name"),
                "default_aggregation": nested.get("default_aggregation"),
                "customer_mapping": nested.get("customer_mapping"),
                "value_settings": nested.get("value_settings"), "status": "active"})
        if parts[:2] == ["v1", "products"]:
            if len(parts) == 3:
                found = self.objects.get(parts[2])
                if found is None:
                    return 404, _error("invalid_request_error", "resource_missing",
                                       f"No such product: '{parts[2]}'")
                if method == "POST":
                    found.update({k: v for k, v in nested.items() if k != "metadata"})
                return 200, found
            if parts[2:] == [] and method == "POST":
                if nested.get("id") in self.objects:
                    return 400, _error("invalid_request_error", "resource_already_exists",
                                       "Product already exists.")
                return 200, self._new("prod", "product", {
                    "name": nested["name"], "metadata": nested.get("metadata", {}), "active": True},
                    given=nested.get("id"))
        if path == "/v1/prices":
            if method == "GET":
                keys = {v for k, v in query.items() if k.startswith("lookup_keys")}
                return 200, _list([p for p in self.of_kind("price") if p["lookup_key"] in keys])
            return 200, self._new("price", "price", {
                "product": nested["product"], "currency": nested["currency"],
                "unit_amount": int(nested["unit_amount"]) if "unit_amount" in nested else None,
                "unit_amount_decimal": nested.get("unit_amount_decimal"),
                "recurring": nested.get("recurring"), "lookup_key": nested.get("lookup_key"),
                "active": True})
        if path == "/v1/customers" and method == "POST":
            return 200, self._new("cus", "customer", {"name": nested.get("name"),
                                                      "metadata": nested.get("metadata", {})})
        if path == "/v1/checkout/sessions" and method == "POST":
            obj = self._new("cs_test", "checkout.session", {
                "mode": nested["mode"], "customer": nested.get("customer"),
                "client_reference_id": nested.get("client_reference_id"),
                "metadata": nested.get("metadata", {}), "status": "open",
                "success_url": nested.get("success_url"), "cancel_url": nested.get("cancel_url")})
            obj["url"] = f"{self.url}/checkout/{obj['id']}"
            return 200, obj
        if path == "/v1/billing_portal/sessions" and method == "POST":
            obj = self._new("bps", "billing_portal.session", {"customer": nested["customer"],
                                                              "return_url": nested.get("return_url")})
            obj["url"] = f"{self.url}/portal/{obj['id']}"
            return 200, obj
        if path == "/v1/billing/meter_events" and method == "POST":
            identifier = nested.get("identifier") or f"gen_{next(self._ids)}"
            if identifier in self.rejected_identifiers:
                return 400, _error("invalid_request_error", "invalid_meter_event",
                                   f"meter event {identifier} refused")
            if identifier in self.meter_events:
                return 400, _error("invalid_request_error", "duplicate_meter_event",
                                   f"An event with identifier {identifier} already exists.")
            self.meter_events[identifier] = form
            return 200, {"object": "billing.meter_event", "event_name": nested["event_name"],
                         "identifier": identifier, "payload": nested.get("payload", {}),
                         "timestamp": int(nested.get("timestamp") or time.time()),
                         "created": int(time.time()), "livemode": False}
        if path == "/v1/invoices" and method == "GET":
            return 200, _list([i for i in self.of_kind("invoice")
                               if i.get("customer") == query.get("customer")])
        return 404, _error("invalid_request_error", "resource_missing", f"no route {method} {path}")

    def add_invoice(self, *, customer: str, total: int, status: str, subscription_id: str,
                    period_start: int) -> dict[str, Any]:
        """Put an invoice at the fake (as Stripe would bill at a period's end)."""
        with self._lock:
            return self._new("in", "invoice", {
                "customer": customer, "total": total, "currency": "cny", "status": status,
                "period_start": period_start, "hosted_invoice_url": f"{self.url}/invoice",
                "parent": {"type": "subscription_details", "subscription_details": {
                    "metadata": {"databank_subscription_id": subscription_id}}}})


def _list(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": False, "url": ""}


def _error(type_: str, code: str, message: str) -> dict[str, Any]:
    return {"error": {"type": type_, "code": code, "message": message}}


def _nest(form: dict[str, str]) -> dict[str, Any]:
    """``a[b][0][c]=v`` → ``{"a": {"b": {"0": {"c": "v"}}}}`` (enough for our assertions)."""
    out: dict[str, Any] = {}
    for key, value in form.items():
        names = key.replace("]", "").split("[")
        node = out
        for name in names[:-1]:
            node = node.setdefault(name, {})
        node[names[-1]] = value
    return out


def serve(fake: FakeStripe) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve ``fake`` on a random port of 127.0.0.1 in a daemon thread; sets ``fake.url``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls

        def _answer(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            form = dict(parse_qsl(body, keep_blank_values=True))
            query = dict(parse_qsl(url.query, keep_blank_values=True))
            status, payload = fake.handle(self.command, url.path, query, form,
                                          self.headers.get("Idempotency-Key"))
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_{time.monotonic_ns()}")
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                pass

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-stripe", daemon=True)
    thread.start()
    return server, thread
