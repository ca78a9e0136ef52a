"""The one-time move of billing's stored events out of the Market's store (named Marketplace).

Before billing had its own store, its aggregates were saved in the Marketplace's (the SQLite file
``marketplace.sqlite3``, the PostgreSQL ``marketplace_events`` table). Those events are copied, as
stored (same ids, versions, topics and state bytes: both stores share one transcoding
configuration), into billing's store when billing's store is still empty. Every copied event is
inserted in ONE ``insert_events`` call, a single transaction: a crash leaves billing's store empty
and the next start copies again; a store that holds anything is never copied into, so a second
build copies nothing twice. The originals stay where they are (nothing reads them any more).

It runs where tables are created (a single-process start, ``databank migrate``), never in API
workers: ``databank serve --workers`` migrates once before starting them.
"""

from __future__ import annotations

import inspect

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.utils import get_topic

import domain.billing

PREFIX = f"{domain.billing.__name__}:"
#: Event topics of billing aggregates that no longer exist, still present in older stores.
RETIRED_TOPICS = ("domain.billing:PlanBilling.Linked",)
PAGE = 1000


def billing_topics() -> tuple[str, ...]:
    """Every stored-event topic of the billing aggregates (``domain.billing:<Aggregate>.<Event>``)."""
    topics = []
    for _, aggregate in inspect.getmembers(domain.billing, inspect.isclass):
        if issubclass(aggregate, Aggregate) and aggregate.__module__ == domain.billing.__name__:
            for _, event in inspect.getmembers(aggregate, inspect.isclass):
                if issubclass(event, Aggregate.Event) and get_topic(event).startswith(PREFIX):
                    topics.append(get_topic(event))
    return tuple(sorted(set(topics))) + RETIRED_TOPICS


def copy_billing_events(source: ApplicationRecorder, target: ApplicationRecorder) -> int:
    """Copy the billing events of ``source`` (the Market's recorder) into ``target``
    (billing's) when ``target`` holds nothing yet; the number of events copied."""
    if target.max_notification_id() is not None:
        return 0
    topics = billing_topics()
    found: list[StoredEvent] = []
    start = 1
    while True:
        page = source.select_notifications(start, PAGE, topics=topics)
        found += [StoredEvent(originator_id=n.originator_id, originator_version=n.originator_version,
                              topic=n.topic, state=n.state) for n in page]
        if len(page) < PAGE:
            break
        start = page[-1].id + 1
    if found:
        target.insert_events(found)
    return len(found)
