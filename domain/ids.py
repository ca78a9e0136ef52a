"""Deterministic ids: the same natural key always names the same aggregate, so registering a
second aggregate with that key collides in the event store (a uniqueness check for free)."""

from __future__ import annotations

from uuid import UUID, uuid5

NAMESPACE = UUID("6c1d3c52-4f0e-5b1a-9a39-1a0b9c2d7e11")


def natural_id(kind: str, key: str) -> UUID:
    return uuid5(NAMESPACE, f"{kind}:{key}")
