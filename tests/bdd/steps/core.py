"""What every area's steps share: the demo password, the bootstrap administrator, logging a
person in on the scenario's client, a mutation's payload and the licensing names → ids.

State travels in the ``world`` dict (the fixture in tests/bdd/conftest.py).
"""

from __future__ import annotations

from support.api import GraphQLTestClient

from domain.actors import Actor, Role

PASSWORD = "luan-demo-2026"
ROOT_ADMIN = Actor("bootstrap", "系统管理员", Role.ADMIN)
UPLOAD_LIMIT = 256 * 1024


def as_user(world: dict, username: str) -> GraphQLTestClient:
    """Logs ``username`` in on the scenario's client (the demo password) and returns it."""
    api: GraphQLTestClient = world["api"]
    api.login(username, PASSWORD)
    world["user"] = username
    return api


def payload_of(body: dict) -> dict:
    """The one field a GraphQL answer carries, asserting it came without top-level errors."""
    assert "errors" not in body, body
    (payload,) = body["data"].values()
    return payload


def market_of(world: dict) -> dict:
    """The licensing part of the world: names → ids, and the market's clock."""
    if "market" not in world:
        from support.marketplace import Clock

        world["bank"].market.clock = Clock()
        world["market"] = {"licences": {}, "assets": {}, "plans": {}, "organisations": {}}
    return world["market"]
