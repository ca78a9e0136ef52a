"""Models are dataclasses with a docstring for every field."""

from __future__ import annotations

import ast
import dataclasses
import inspect

import pytest

import databank
from databank import models

MODELS = [getattr(models, n) for n in dir(models)
          if dataclasses.is_dataclass(getattr(models, n)) and getattr(models, n).__module__ == models.__name__]


def _documented_fields(cls: type) -> set[str]:
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    documented = set()
    for statement, following in zip(body, body[1:]):
        if (isinstance(statement, ast.AnnAssign) and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant) and isinstance(following.value.value, str)
                and following.value.value.strip()):
            documented.add(statement.target.id)  # type: ignore[union-attr]
    return documented


@pytest.mark.parametrize("cls", MODELS, ids=[m.__name__ for m in MODELS])
def test_every_field_of_every_model_has_a_docstring(cls: type) -> None:
    fields = {f.name for f in dataclasses.fields(cls)}
    assert cls.__doc__ and fields <= _documented_fields(cls), fields - _documented_fields(cls)


def test_the_field_error_is_documented_too() -> None:
    assert {"field", "message", "code"} <= _documented_fields(databank.FieldError)


def test_there_are_models_for_each_namespace() -> None:
    assert {"Asset", "RowsPage", "Quota", "Subscription", "Plan", "ApiKey", "CreatedApiKey",
            "AccessApplication", "Usage", "SubscriptionUsage", "UsageReportRow"} <= {m.__name__ for m in MODELS}


def test_a_created_key_does_not_show_its_secret_in_its_repr() -> None:
    key = models.CreatedApiKey(models.ApiKey.from_api({"id": "K"}), "dbk_" + "s" * 40)
    assert "sss" not in repr(key)


def test_usage_prints_what_is_left_and_when_it_resets() -> None:
    usage = models.usage_from_api([{"subscriptionId": "S", "status": "ACTIVE",
                                    "asset": {"id": "A", "name": "企业登记"}, "plan": {"name": "免费版"},
                                    "rowsUsed": 1200, "callsUsed": 3, "rowsQuota": 10000,
                                    "rowsRemaining": 8800, "resetAt": "2026-04-01T00:00:00+08:00"}],
                                  "2026-03")
    text = str(usage)
    assert "企业登记" in text and "8,800 rows left" in text and "2026-04-01" in text
    assert [s.subscription_id for s in usage] == ["S"] and len(usage) == 1
