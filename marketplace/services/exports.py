"""Bulk exports: a whole asset version (filtered, some columns) as CSV, NDJSON or Parquet,
streamed in blocks behind the same access path as ``rows``.

Two steps. ``request`` checks who asks and what (entitlement, filters, columns; no quota yet)
and answers a short-lived signed link: the token states the asset, the version, the caller, the
filters, the columns and the format, so any worker can serve it with no shared state.
``open`` verifies the token, checks the entitlement again (a subscription revoked since is
refused) and streams the rows in ``_row`` order, one block at a time: each block is read, then
its rows are reserved in the quota ledger (the reservation is the durable usage record, made
with ``final=True`` since it counts exactly the rows in hand), then sent. A partial grant at the
quota's edge sends the granted rows and ends the stream, so the quota is never exceeded and every
sent row is metered once.

The link dies with what made it: at download the subscription is checked again, and so is the
API key the link was requested with (revoked or expired since: refused). The filter obeys the
access path's column rule at request and at download, and asking for a link counts as a call
under the plan's rate limit (its row estimate is an answer, so guessing with it is metered).

Resuming: the order is fixed (``_row`` of an immutable table) and so are the filters, so "the
rows after the first n" names the same rows on every worker; ``open(..., after_row=n)`` finds
the n-th row's ``_row`` and continues after it. A client counts the rows it has received and
asks again with that count.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.actors import Actor, Role
from marketplace.datastore import ColumnType
from marketplace.identity import StatementSigner
from marketplace.metering import Grant
from marketplace.observability.metrics import EXPORT_ROWS
from marketplace.services.access import AccessPlan, Caller, QuotaRefused, RowAccess
from marketplace.services.export_formats import ENCODERS, FORMATS, MEDIA_TYPES
from marketplace.services.export_formats.parquet import available as parquet_available

EXPORT_AUDIENCE = "databank-export"
EXPORT_SCOPES = ("exports:read", "rows:read")
BLOCK_ROWS = 5000


class ExportRefused(Exception):
    """The export cannot be made as asked; ``code`` is an ``ExportErrorCode``."""

    def __init__(self, message: str, code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


@dataclass(frozen=True)
class ExportLink:
    """What ``request`` answers: the link's path (``/exports/<token>``) and its terms."""

    path: str
    expires_at: datetime
    format: str
    row_estimate: int
    version: int
    grant: Grant | None = None


class Exports:
    """Export links and their streams.

    :param access: the access path (entitlement, quota, masking) shared with ``rows``
    :param signer: signs and verifies the links' tokens (audience ``databank-export``)
    :param block_rows: rows read, reserved and sent at a time (memory stays one block)
    """

    def __init__(self, access: RowAccess, signer: StatementSigner, *,
                 block_rows: int = BLOCK_ROWS) -> None:
        if block_rows < 1:
            raise ValueError("block_rows must be positive")
        self.access = access
        self.signer = signer
        self.block_rows = block_rows

    # ---- asking for a link -------------------------------------------------------------------

    def request(self, caller: Caller, asset_id: str, *, format: str,
                where: Mapping[str, Any] | None = None,
                columns: Sequence[str] | None = None) -> ExportLink:
        """A signed link to the export; raises ``AccessDenied`` (``ColumnRefused``: the filter
        names a column the tier masks or drops), ``QueryRejected`` (the filter), ``ExportRefused``
        or ``QuotaRefused``. Counts one call and no rows (the download reserves the rows): the
        row estimate answers questions about the rows, so it is rate-limited like ``rows``."""
        if format not in FORMATS:
            raise ExportRefused(f"{format!r} is not a format; use one of {', '.join(FORMATS)}",
                                "INVALID_FORMAT", "format")
        if format == "parquet" and not parquet_available():
            raise ExportRefused("Parquet exports are not available on this server (pyarrow is "
                                "not installed); ask for CSV or NDJSON", "FORMAT_UNAVAILABLE",
                                "format")
        plan = self.access.plan_access(caller, asset_id, where=where, scopes=EXPORT_SCOPES)
        chosen = self._columns(plan, columns)
        grant = self.access.reserve(plan, 0, final=True)
        estimate = self._total(plan)
        actor = caller.actor
        token, expires_at = self.signer.sign(actor.user_id, {
            "ast": asset_id, "ver": plan.version, "fmt": format, "whr": dict(where or {}) or None,
            "col": list(chosen) if columns is not None else None,
            "name": actor.name, "role": actor.role.value, "dept": actor.department_id,
            "org": actor.organisation_id,
            "scp": list(caller.scopes) if caller.scopes is not None else None,
            "key": caller.key_id})
        return ExportLink(path=f"/exports/{token}", expires_at=expires_at, format=format,
                          row_estimate=estimate, version=plan.version, grant=grant)

    # ---- downloading ---------------------------------------------------------------------------

    def open(self, token: str, *, ip: str = "", after_row: int = 0) -> "ExportStream":
        """Verify the link, check the entitlement again, reserve and read the first block.

        Raises ``InvalidTokenError`` (expired, tampered), ``AccessDenied`` (the subscription or
        the API key that asked for the link revoked since),
        ``ExportRefused`` (``after_row`` past the end) or ``QuotaRefused`` (nothing is left:
        nothing is sent)."""
        claims = self.signer.verify(token)
        try:
            actor = Actor(user_id=claims["sub"], name=claims["name"], role=Role(claims["role"]),
                          department_id=claims.get("dept"), organisation_id=claims.get("org"))
            scopes, key_id = claims.get("scp"), claims.get("key")
            if key_id is not None and not isinstance(key_id, str):
                raise TypeError("key")
            caller = Caller(actor=actor, scopes=None if scopes is None else tuple(scopes), ip=ip,
                            key_id=key_id)
            asset_id, version, format = claims["ast"], claims["ver"], claims["fmt"]
            where, wanted = claims.get("whr"), claims.get("col")
        except (KeyError, ValueError, TypeError):
            from marketplace.identity import InvalidTokenError

            raise InvalidTokenError("missing_claim", "The link does not state an export.") from None
        if format not in FORMATS:
            raise ExportRefused(f"the link names an unknown format {format!r}", "INVALID_FORMAT")
        if caller.key_id is not None:
            self.access.check_api_key(caller.key_id, actor.organisation_id)
        plan = self.access.plan_access(caller, asset_id, where=where, version=version,
                                       scopes=EXPORT_SCOPES)
        chosen = self._columns(plan, wanted)
        total = self._total(plan)
        if isinstance(after_row, bool) or not isinstance(after_row, int) or after_row < 0:
            raise ExportRefused("after_row is a whole number of rows, 0 or more", "INVALID_RESUME",
                                "after_row")
        if after_row > total:
            raise ExportRefused(f"after_row {after_row} is past the export's {total} rows",
                                "INVALID_RESUME", "after_row")
        start = self.access.datastore.row_after(plan.table, filters=plan.filters, skip=after_row)
        types = {c.name: c.type for c in self.access.datastore.columns(plan.table)}
        stream = ExportStream(self, plan, format, chosen, types, total=total, after_row=after_row,
                              start=start or 0)
        stream.admit()
        return stream

    # ---- shared -----------------------------------------------------------------------------

    def _columns(self, plan: AccessPlan, wanted: Sequence[str] | None) -> tuple[str, ...]:
        """The columns sent, in order: ``wanted`` (checked), or every column the tier shows."""
        masker = plan.masker
        if wanted is None:
            return masker.visible
        if isinstance(wanted, str) or not wanted:
            raise ExportRefused("columns is a non-empty list of column names", "UNKNOWN_COLUMN",
                                "columns")
        seen = set()
        for name in wanted:
            if name not in plan.columns:
                raise ExportRefused(f"the asset has no column {name!r}", "UNKNOWN_COLUMN", "columns")
            if name in masker.dropped:
                raise ExportRefused(f"your licence does not include the column {name!r}",
                                    "COLUMN_NOT_LICENSED", "columns")
            if name in seen:
                raise ExportRefused(f"the column {name!r} is named twice", "UNKNOWN_COLUMN", "columns")
            seen.add(name)
        return tuple(wanted)

    def _total(self, plan: AccessPlan) -> int:
        if not plan.filters and plan.row_count is not None:
            return int(plan.row_count)
        return self.access.datastore.count(plan.table, plan.filters)


class ExportStream:
    """One download: headers known before the first byte, then the body in blocks.

    :ivar grant: the first block's grant (quota headers)
    :ivar total: rows of the whole export (filters applied)
    :ivar after_row: rows skipped (the resume point asked for)
    :ivar rows_sent: rows handed to the body so far (every one reserved before it was)
    """

    def __init__(self, exports: Exports, plan: AccessPlan, format: str, columns: tuple[str, ...],
                 types: Mapping[str, ColumnType], *, total: int, after_row: int, start: int) -> None:
        self.exports = exports
        self.plan = plan
        self.format = format
        self.columns = columns
        self.types = types
        self.total = total
        self.after_row = after_row
        self._position = start  # the _row after which the next block starts
        self.rows_sent = 0
        self.grant: Grant | None = None
        self._first: list[tuple] = []
        self._done = False
        masker = plan.masker
        # Rows pass through the tier's masker as dicts only when it changes a sent column.
        self._masks = any(c in masker.masks for c in columns)

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    @property
    def filename(self) -> str:
        return f"{self.plan.asset_id}-v{self.plan.version}.{self.format}"

    def admit(self) -> None:
        """Read and reserve the first block (``QuotaRefused`` before anything is sent)."""
        block = self._read()
        self.grant = self.exports.access.reserve(self.plan, len(block), final=True)
        self._first = block[: self.grant.granted_rows]
        if self.grant.granted_rows < len(block):
            self._done = True

    def _read(self) -> list[tuple]:
        block = self.exports.access.datastore.scan(
            self.plan.table, filters=self.plan.filters, select=self.columns,
            after_row=self._position, limit=self.exports.block_rows)
        if block:
            self._position = block[-1][-1]
        if len(block) < self.exports.block_rows:
            self._done = True
        return block

    def _blocks(self) -> Iterator[list[tuple]]:
        """Blocks of value tuples (``_row`` last), each reserved before it is yielded."""
        if self._first:
            first, self._first = self._first, []
            yield first
        while not self._done:
            block = self._read()
            if not block:
                return
            try:
                grant = self.exports.access.reserve(self.plan, len(block), continuation=True,
                                                    final=True)
            except QuotaRefused:
                return  # the quota's edge fell on a block boundary: the stream ends here
            if grant.granted_rows < len(block):
                block = block[: grant.granted_rows]
                self._done = True
            yield block

    def _rows(self, block: list[tuple]) -> list[Any]:
        """The block's rows as value tuples in column order, masked by the tier (the one
        masker, RowMasker, column by column; no sent column is dropped)."""
        n = len(self.columns)
        if not self._masks:
            return [row[:n] for row in block]
        return self.plan.masker.apply_to_tuples(block, self.columns)

    def body(self) -> Iterator[bytes]:
        """The file, one chunk per block (a header first); constant memory."""
        encode = ENCODERS[self.format]
        for chunk in encode(self.columns, self.types, self.plan.masker.masks, self._counted()):
            if chunk:
                yield chunk

    def _counted(self) -> Iterator[list[Any]]:
        sent = EXPORT_ROWS.labels(self.format)
        for block in self._blocks():
            self.rows_sent += len(block)
            sent.inc(len(block))
            yield self._rows(block)
