"""The data access path (the hot path): who asks → which grant → how much quota → the rows →
masked by the grant's tier → metered.

Every step answers from memory when it can: asset entries, API keys and entitlements are cached
and the caches are dropped whenever the follower feeding their read model applies new events
(``Follower.generation``), so a revocation reaches every worker within one poll. The quota
reservation is one durable ledger transaction *before* any row is served: a served response is
always metered, and the quota is exact across threads and processes.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

from domain.actors import Actor, Role
from domain.licensing import Overage
from domain.masking import RowMasker, effective_kinds
from domain.metadata import Sensitivity
from domain.metering import period_of
from domain.subscription import Entitlement
from marketplace.datastore import Datastore, Filter, QueryRejected
from marketplace.datastore.cursors import CursorSealer
from marketplace.datastore.indexes import (
    DEFAULT_SCAN_BUDGET,
    check_scan_budget,
    index_use,
    indexed_names,
)
from marketplace.datastore.rows import OPS, Row, is_operator
from marketplace.metering import Grant, QuotaLedger, QuotaTerms, Refusal
from marketplace.projections.entitlements import ApiKeyRecord
from marketplace.projections.follower import Follower
from marketplace.services.key_use import KeyUseRecorder

MAX_PAGE = 1000
ROWS_SCOPES = ("rows:read",)

#: ``where`` as a client sends it: column → value (``eq``) or column → {operator: value}. The
#: values are JSON as sent; ``parse_where`` checks them against the version's columns.
WhereSpec: TypeAlias = Mapping[str, object]

#: A catalogue read model entry, or an API key's document of the entitlements read model: JSON
#: documents whose shape the read models (marketplace/projections/) own.
ReadModelDoc: TypeAlias = Mapping[str, Any]

#: What makes two grants mask alike: the field tier and its per-item overrides, sorted.
TierKey: TypeAlias = tuple[str, tuple[tuple[str, str], ...]]

#: The grant's mode of an information item: ``full``, ``masked`` or ``dropped``.
ModeOf: TypeAlias = Callable[[str], str]


class AccessDenied(Exception):
    """The caller may not read this asset's rows; ``code`` says why in API terms."""

    def __init__(self, message: str, code: str = "FORBIDDEN") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class ColumnRefused(AccessDenied):
    """``where`` or ``orderBy`` names a column the caller's tier masks or drops: its values are
    not the caller's to learn, and a filter or an order would answer guesses about them.

    :ivar field: the argument that named it (``where`` or ``orderBy``)
    :ivar column: the column
    """

    def __init__(self, message: str, field: str, column: str) -> None:
        super().__init__(message)
        self.field = field
        self.column = column


class QuotaRefused(Exception):
    """The ledger refused: the quota is used up or the rate limit reached."""

    def __init__(self, grant: Grant) -> None:
        if grant.refusal is Refusal.RATE:
            message = (f"the rate limit of {grant.rate_limit_per_minute} calls a minute is reached; "
                       f"retry after {grant.retry_after_seconds} s")
        else:
            message = (f"this month's quota is used up; it resets at {grant.reset_at.isoformat()} "
                       f"(retry after {grant.retry_after_seconds} s)")
        super().__init__(message)
        self.grant = grant


@dataclass(frozen=True)
class Caller:
    """Who is asking: the actor, the scopes of the API key used (None for a login token), the IP,
    and the id of the API key used (None for a login token or anonymous)."""

    actor: Actor
    scopes: tuple[str, ...] | None = None
    ip: str = ""
    key_id: str | None = None


@dataclass(frozen=True)
class RowsResult:
    """A page, and what it cost.

    :ivar next_cursor: sealed (opaque, bound to this query); None on the last page
    :ivar grant: the quota as the caller should see it (rows not served already given back)
    :ivar reservation: the ledger's grant as reserved; with ``settle_later`` the caller settles it
    """

    rows: list[Row]
    columns: tuple[str, ...]
    masked: tuple[str, ...]
    next_cursor: str | None
    version: int
    grant: Grant
    reservation: Grant


@dataclass(frozen=True)
class AccessPlan:
    """What the access path decided for one caller and one published asset version, before
    any quota is reserved: the rows path (``rows``) and exports share it.

    :ivar filters: the parsed ``where`` (checked against the version's columns)
    :ivar subject: the ledger subject (a subscription id, or ``anon:<ip>``)
    :ivar terms: the quota terms for ``QuotaLedger.reserve``
    :ivar masker: the caller's tier over the version's columns
    :ivar tier: the name of the caller's field tier (``masked``, ``full``), for messages
    :ivar indexed: the version's indexed (filterable) columns
    """

    caller: Caller
    asset_id: str
    department_id: str
    version: int
    table: str
    columns: tuple[str, ...]
    row_count: int | None
    filters: tuple[Filter, ...]
    subject: str
    terms: QuotaTerms
    masker: RowMasker
    tier: str = "masked"
    indexed: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnonymousAllowance:
    """What an anonymous caller may read of unconditionally open assets, per IP."""

    rows_per_month: int = 10_000
    calls_per_minute: int = 30


class CatalogueEntries(Protocol):
    """The catalogue read model, as the access path reads it: a published entry by asset id."""

    def get(self, asset_id: str) -> ReadModelDoc | None: ...


class Entitlements(Protocol):
    """The entitlements read model, as the access path reads it."""

    def key_by_hash(self, secret_hash: str) -> ApiKeyRecord | None: ...

    def entitlement(self, organisation_id: str, asset_id: str) -> Entitlement | None: ...

    def api_keys_of(self, organisation_id: str) -> Sequence[ReadModelDoc]: ...


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _GenerationCache(Generic[K, V]):
    """A dict that empties itself when its follower has applied new events."""

    def __init__(self, follower: Follower | None) -> None:
        self.follower = follower
        # The generation and its items swap as one tuple: requests run on many threads, and a
        # value loaded before the follower moved must land in the old generation's dict (thrown
        # away), never in the new one another thread has just started.
        self._state: tuple[int, dict[K, V]] = (-1, {})

    def get(self, key: K, load: Callable[[], V]) -> V:
        generation = self.follower.generation if self.follower else 0
        state = self._state
        if state[0] != generation:
            state = self._state = (generation, {})
        items = state[1]
        try:
            return items[key]
        except KeyError:
            value = items[key] = load()
            return value


class RowAccess:
    """Serves rows of published assets under licence grants, quotas and masking.

    :param catalogue_view: published entries (versions, tables, information items)
    :param entitlements_view: API keys and subscriptions (``key_by_hash``, ``entitlement``,
        ``api_keys_of``)
    :param datastore: the version tables
    :param ledger: the quota ledger (reserve before serving; settle what was not served)
    :param followers: the followers of the two views, whose generations invalidate the caches
    :param anonymous: the per-IP allowance of anonymous callers
    :param clock: now, timezone-aware
    :param key_use: records the day each API key was last used (None: not recorded)
    :param cursors: seals the cursors clients see (every worker of a deployment needs the same
        key: ``load_or_create_cursor_key`` of the data directory); a fresh key when None
    :param scan_budget_rows: the largest table a page may scan when no index serves its filter
        or order (``datastore.indexes``); None: no budget
    """

    def __init__(self, *, catalogue_view: CatalogueEntries, entitlements_view: Entitlements,
                 datastore: Datastore, ledger: QuotaLedger, catalogue_follower: Follower | None = None,
                 entitlements_follower: Follower | None = None,
                 anonymous: AnonymousAllowance = AnonymousAllowance(),
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 key_use: KeyUseRecorder | None = None,
                 cursors: CursorSealer | None = None,
                 scan_budget_rows: int | None = DEFAULT_SCAN_BUDGET) -> None:
        self.catalogue_view = catalogue_view
        self.entitlements_view = entitlements_view
        self.datastore = datastore
        self.ledger = ledger
        self.anonymous = anonymous
        self.clock = clock
        # One cache per question; the entitlements' three empty together (one follower).
        self._assets: _GenerationCache[str, ReadModelDoc | None] = _GenerationCache(catalogue_follower)
        self._keys: _GenerationCache[str, ApiKeyRecord | None] = _GenerationCache(entitlements_follower)
        self._keys_of: _GenerationCache[str | None, Sequence[ReadModelDoc]] = _GenerationCache(
            entitlements_follower)
        self._grants: _GenerationCache[tuple[str, str], Entitlement | None] = _GenerationCache(
            entitlements_follower)
        self._maskers: dict[tuple[str, int, object, TierKey], RowMasker] = {}
        self.key_use = key_use
        self.cursors = cursors or CursorSealer.ephemeral()
        self.scan_budget_rows = scan_budget_rows

    # ---- authentication support ------------------------------------------------------------

    def api_key(self, secret_hash: str) -> ApiKeyRecord | None:
        """The key record for a presented key's hash (cached), or None."""
        return self._keys.get(secret_hash, lambda: self.entitlements_view.key_by_hash(secret_hash))

    def key_used(self, key_id: str) -> None:
        """An API key authenticated a request: note the day (queued, off the hot path)."""
        if self.key_use is not None:
            self.key_use.note(key_id)

    def check_api_key(self, key_id: str, organisation_id: str | None) -> None:
        """Refuse unless the API key ``key_id`` of ``organisation_id`` is still active: what it
        was used to obtain (an export link) dies with it."""
        keys = self._keys_of.get(organisation_id,
                                 lambda: self.entitlements_view.api_keys_of(organisation_id or ""))
        key = next((k for k in keys if k["id"] == key_id), None)
        if key is None or key["revoked"]:
            raise AccessDenied("the API key that requested this export was revoked")
        expires = key.get("expires_at")
        if expires and datetime.fromisoformat(expires) <= self.clock():
            raise AccessDenied("the API key that requested this export has expired")

    def close(self) -> None:
        if self.key_use is not None:
            self.key_use.close()

    # ---- the path ----------------------------------------------------------------------------

    def rows(self, caller: Caller, asset_id: str, *, where: WhereSpec | None = None,
             order_by: str | None = None, descending: bool = False, after: str | None = None,
             first: int = 100, settle_later: bool = False) -> RowsResult:
        """A page of rows; ``after`` is a cursor this path sealed for the same query.

        :param settle_later: do not give back unserved rows now: the caller settles
            ``result.reservation`` once it knows what was delivered (``settle(reservation, n)``),
            so that a response that delivers nothing counts nothing
        """
        if isinstance(first, bool) or not isinstance(first, int) or not 1 <= first <= MAX_PAGE:
            raise QueryRejected(f"first must be between 1 and {MAX_PAGE}, not {first}")
        descending = bool(descending)
        plan = self.plan_access(caller, asset_id, where=where, order_by=order_by)
        # After the column rule (FORBIDDEN first), before the cursor, the quota and the table.
        # Exports are not budgeted: they read their rows once, in row order, whatever the filter.
        check_scan_budget(plan.filters, order_by, indexed=plan.indexed, row_count=plan.row_count,
                          budget=self.scan_budget_rows, hidden=(*plan.masker.masks, *plan.masker.dropped))
        binding = cursor_binding(plan, order_by, descending)
        position = None if after is None else self.cursors.open(after, binding)  # before any quota
        reservation = self.reserve(plan, first)
        try:
            page = self.datastore.query(plan.table, filters=plan.filters, order_by=order_by,
                                        descending=descending, after=position,
                                        limit=reservation.granted_rows)
        except BaseException:
            self.ledger.settle(reservation, rows_served=0)  # nothing was served: give the rows back
            raise
        served = len(page.rows)
        if not settle_later:
            grant = self.settle(reservation, served)
        elif served < reservation.granted_rows:
            grant = given_back(reservation, reservation.granted_rows - served)
        else:
            grant = reservation
        masker = plan.masker
        cursor = None if page.next_cursor is None else self.cursors.seal(page.next_cursor, binding)
        return RowsResult(rows=masker.apply(page.rows), columns=masker.visible, masked=masker.masked,
                          next_cursor=cursor, version=plan.version, grant=grant,
                          reservation=reservation)

    def plan_access(self, caller: Caller, asset_id: str, *, where: WhereSpec | None = None,
                    order_by: str | None = None, version: int | None = None,
                    scopes: Sequence[str] = ROWS_SCOPES) -> AccessPlan:
        """Everything decided before the quota: the published version (the current one, or
        ``version`` if it has been published), the filters, the caller's grant and its tier.

        Raises ``AccessDenied`` (who may not read; ``ColumnRefused`` when ``where`` or
        ``order_by`` names a column the caller's tier masks or drops) and ``QueryRejected`` (bad
        ``where`` or ``order_by``); uses no quota.

        :param scopes: an API key needs one of them (``rows`` takes ``rows:read``; exports also
            take ``exports:read``)
        """
        entry = self._assets.get(asset_id, lambda: self.catalogue_view.get(asset_id))
        if entry is None or entry["status"] != "published" or not entry.get("current_version"):
            raise AccessDenied("no published data asset has that id", code="NOT_FOUND")
        number = entry["current_version"] if version is None else version
        if not isinstance(number, int) or not 1 <= number <= entry["current_version"]:
            raise AccessDenied(f"the asset has no published version {number}", code="NOT_FOUND")
        version_doc = entry["versions"][number - 1]
        columns = tuple(c["name"] for c in version_doc["columns"])
        filters = parse_where(where or {}, columns)
        if order_by is not None and order_by not in columns:
            raise QueryRejected(f"cannot sort by {order_by!r}: the asset has no such column")
        subject, grant_terms, mode_of, tier_key = self._grant(caller, entry, tuple(scopes))
        masker = self._masker(entry, version_doc["number"], columns, tier_key, mode_of)
        check_columns(masker, tier_key[0], filters, order_by)
        return AccessPlan(
            caller=caller, asset_id=asset_id, department_id=entry["department_id"],
            version=version_doc["number"], table=version_doc["table"], columns=columns,
            row_count=version_doc.get("row_count"), filters=tuple(filters), subject=subject,
            terms=grant_terms, masker=masker, tier=tier_key[0],
            indexed=indexed_names(version_doc["columns"]))

    def served_by_index(self, asset_id: object, where: object, order_by: object) -> bool:
        """Whether a page of the asset's current version with this ``where``/``order_by`` is read
        through an index (never a scan): the web layer runs such pages on the event loop and
        everything else on a worker thread. Anything odd answers False (the thread path then
        gives the real answer or error); decides nothing about access, uses no quota."""
        if not isinstance(asset_id, str) or not (order_by is None or isinstance(order_by, str)):
            return False
        entry = self._assets.get(asset_id, lambda: self.catalogue_view.get(asset_id))
        if entry is None or entry["status"] != "published" or not entry.get("current_version"):
            return False
        version_doc = entry["versions"][entry["current_version"] - 1]
        columns = tuple(c["name"] for c in version_doc["columns"])
        try:
            filters = parse_where(where or {}, columns)
        except QueryRejected:
            return False
        return index_use(filters, order_by, indexed_names(version_doc["columns"])).served

    def reserve(self, plan: AccessPlan, rows_wanted: int, *, continuation: bool = False,
                final: bool = False) -> Grant:
        """Reserve up to ``rows_wanted`` rows (and one call) for the plan's subject, durably,
        before any of them is served; raises ``QuotaRefused`` when the ledger refuses.

        :param continuation: a later block of one export already admitted: the per-minute rate
            limit is not applied to it (it still counts the call, the rows and the quota)
        :param final: the caller will not settle (it reserves exactly the rows it holds)
        """
        now = self.clock()
        terms = plan.terms.copy()
        if continuation:
            terms["rate_limit_per_minute"] = None
        grant = self.ledger.reserve(
            plan.subject, period_of(now), rows_wanted=rows_wanted, now=now, asset_id=plan.asset_id,
            department_id=plan.department_id, organisation_id=plan.caller.actor.organisation_id,
            final=final, **terms)
        if not grant.allowed:
            raise QuotaRefused(grant)
        return grant

    def settle(self, grant: Grant, rows_served: int) -> Grant:
        """Give back what ``grant`` did not serve; the grant as the caller should see it."""
        if rows_served < grant.granted_rows and self.ledger.settle(grant, rows_served=rows_served):
            return given_back(grant, grant.granted_rows - rows_served)
        return grant

    # ---- steps ------------------------------------------------------------------------------

    def _grant(self, caller: Caller, entry: ReadModelDoc, scopes: tuple[str, ...] = ROWS_SCOPES
               ) -> tuple[str, QuotaTerms, ModeOf, TierKey]:
        """The ledger subject and terms, and the field tier, for this caller and asset."""
        actor = caller.actor
        if caller.scopes is not None and not set(scopes) & set(caller.scopes):
            raise AccessDenied(f"this API key has no {' or '.join(scopes)} scope")
        organisation_id = actor.organisation_id
        if actor.role is Role.MEMBER and organisation_id:
            entitlement = self._grants.get(
                (organisation_id, entry["id"]),
                lambda: self.entitlements_view.entitlement(organisation_id, entry["id"]))
            if entitlement is not None:
                check_entitlement(entitlement)
                terms: QuotaTerms = {"rows_quota": entitlement.rows_per_month,
                                     "calls_quota": entitlement.calls_per_month,
                                     "rate_limit_per_minute": entitlement.rate_limit_per_minute,
                                     "overage": Overage(entitlement.overage)}
                key = (entitlement.field_tier, tuple(sorted(entitlement.item_overrides.items())))
                return entitlement.subscription_id, terms, entitlement.item_mode, key
            if entry["metadata"]["opening"]["type"] != "unconditional":
                raise AccessDenied("this asset is not open to all: subscribe to one of its plans")
        elif entry["metadata"]["opening"]["type"] != "unconditional":
            raise AccessDenied("this asset is only for subscribers: log in or use an API key",
                               code="UNAUTHENTICATED" if actor.role is Role.ANONYMOUS else "FORBIDDEN")
        # Open data without a subscription: the anonymous allowance, per IP, masked.
        terms = {"rows_quota": self.anonymous.rows_per_month, "calls_quota": None,
                 "rate_limit_per_minute": self.anonymous.calls_per_minute, "overage": Overage.BLOCK}
        return f"anon:{caller.ip or 'unknown'}", terms, lambda item: "masked", ("masked", ())

    def _masker(self, entry: ReadModelDoc, version: int, columns: Sequence[str], tier_key: TierKey,
                mode_of: ModeOf) -> RowMasker:
        # The entry's updated_at moves with every catalogue event (a clearance, new metadata),
        # so a changed entry never meets a masker built from the old one.
        key = (entry["id"], version, entry.get("updated_at"), tier_key)
        masker = self._maskers.get(key)
        if masker is None:
            if len(self._maskers) > 4096:
                self._maskers.clear()  # stale keys of superseded entries: rebuilt on demand
            kinds, cleared = column_kinds(entry, version)
            masker = self._maskers[key] = RowMasker(columns, kinds, mode_of, revealed=cleared)
        return masker


def column_kinds(entry: ReadModelDoc, version: int
                 ) -> tuple[dict[str, Sensitivity], dict[str, Sensitivity]]:
    """Each column's kind of personal data for masking a version of a catalogue entry (the
    declared sensitivity, else the import's detection unless a reviewer cleared it), and the
    cleared detections (sent as stored, still counted for what a row reveals)."""
    known = {k.value: k for k in Sensitivity}
    declared = {i["name"]: known.get(i["sensitivity"], Sensitivity.NONE)
                for i in entry["metadata"]["information_items"]}
    version_doc = entry["versions"][version - 1]
    detected = {c: known[k] for c, k in (version_doc.get("personal") or {}).items() if k in known}
    cleared = {c: known[v["kind"]] for c, v in (entry.get("cleared_columns") or {}).items()
               if v.get("kind") in known}
    return effective_kinds(declared, detected, cleared), cleared


def given_back(grant: Grant, rows: int) -> Grant:
    """The grant as the caller should see it after ``rows`` unserved rows went back."""
    remaining = None if grant.rows_remaining is None else grant.rows_remaining + rows
    return replace(grant, granted_rows=grant.granted_rows - rows, rows_used=grant.rows_used - rows,
                   rows_remaining=remaining)


def check_entitlement(entitlement: Entitlement) -> None:
    """Refuse, saying why, unless the subscription is active."""
    if entitlement.ok:
        return
    reasons = {"suspended": "the subscription is suspended (unpaid)",
               "revoked": "the subscription was revoked",
               "expired": "the subscription has expired",
               "pending_payment": "the subscription waits for payment"}
    raise AccessDenied(reasons.get(entitlement.status, f"the subscription is {entitlement.status}"))


def check_columns(masker: RowMasker, tier: str, filters: Sequence[Filter],
                  order_by: str | None) -> None:
    """The column rule: under a tier that masks or drops a column, no filter (any operator) and
    no order may name it — each would answer guesses about values the caller may not see (eq
    guesses, ``in`` bisection, ranges, ``contains``, the order of the rows)."""
    masks, dropped = masker.masks, masker.dropped
    if not masks and not dropped:
        return
    for f in filters:
        if f.column in masks or f.column in dropped:
            raise ColumnRefused(_hidden(f"cannot filter on \"{f.column}\"", f.column, masker, tier),
                                "where", f.column)
    if order_by is not None and (order_by in masks or order_by in dropped):
        raise ColumnRefused(_hidden(f"cannot sort by \"{order_by}\"", order_by, masker, tier),
                            "orderBy", order_by)


def _hidden(what: str, column: str, masker: RowMasker, tier: str) -> str:
    if column in masker.dropped:
        return f"{what}: it is not part of your licence tier ({tier})"
    return f"{what}: it is masked under your licence tier ({tier})"


def cursor_binding(plan: AccessPlan, order_by: str | None, descending: bool) -> bytes:
    """What a cursor is sealed to: the asset version and the whole query (order, direction,
    filters), so it opens for the next page of the same query only."""
    filters = [(f.column, f.op, f.value) for f in plan.filters]  # a dataclass repr costs 3x
    return repr((plan.asset_id, plan.version, plan.table, order_by, descending, filters)).encode()


def parse_where(where: object, columns: Sequence[str]) -> list[Filter]:
    """``{"所属区县": "霍山县", "注册资本": {"gte": 100, "lt": 500}, "行业": {"in": [...]}}``
    into datastore filters; unknown columns and operators are refused by name."""
    if not isinstance(where, Mapping):
        raise QueryRejected("where must be an object of column: value or column: {operator: value}")
    filters: list[Filter] = []
    for column, condition in where.items():
        if column not in columns:
            raise QueryRejected(f"cannot filter on {column!r}: the asset has no such column")
        if isinstance(condition, Mapping):
            if not condition:
                raise QueryRejected(f"the condition on {column!r} is empty")
            for op, value in condition.items():
                if not is_operator(op):
                    raise QueryRejected(f"{op!r} is not an operator; use one of {', '.join(OPS)}")
                filters.append(Filter(column, op, value))
        else:
            filters.append(Filter(column, "eq", condition))
    return filters
