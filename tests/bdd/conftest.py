"""The shared core of the step library for the feature files (features/), in the users' words.

Given steps arrange the world through the use cases (as an administrator would have); When steps
act through the GraphQL API as a person's client does, with the documented operations; Then steps
look at what the API answers. State travels in the ``world`` dict.

Here: the ``world`` fixture and the steps every area uses (departments and staff accounts,
logging in, "the answer is the error ..."); each area's steps live in steps/<area>.py, over the
helpers of steps/core.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from bdd.steps.core import PASSWORD, ROOT_ADMIN, UPLOAD_LIMIT, as_user, payload_of
from pytest_bdd import given, parsers, then
from starlette.testclient import TestClient
from support.api import GraphQLTestClient

from domain.actors import Role
from domain.identifiers import org_code_check_char, uscc_check_char
from marketplace.bootstrap import build_in_memory
from marketplace.settings import Settings
from marketplace.web.app import create_app

# isort: split
# The areas' steps are star-imported, as pytest-bdd documents for shared steps, rather than listed
# in ``pytest_plugins``: pytest refuses ``pytest_plugins`` in a conftest below the top one when it
# collects from tests/ (scripts/test runs a bare ``pytest``), and in tests/conftest.py they would
# load the web application for every unit test run. pytest-bdd names a step's fixture after its
# function, so step functions need names unique across the areas (of two alike, the later import
# wins and the other step goes missing); they come before this module's own steps, which then get
# names of their own.
from bdd.steps.access import *
from bdd.steps.billing import *
from bdd.steps.catalogue import *
from bdd.steps.identity import *
from bdd.steps.licensing import *
from bdd.steps.privacy import *
from bdd.steps.sdk import *


def _uscc(n: int) -> str:
    org = f"{n:08d}"
    head = "11341500" + org + org_code_check_char(org)
    return head + uscc_check_char(head)


@pytest.fixture
def world() -> Any:
    """Everything a scenario builds: the bank, the API client, names → ids, the last answer."""
    settings = Settings(max_upload_bytes=UPLOAD_LIMIT, projection_poll_seconds=0.05)
    bank = build_in_memory(settings)
    with TestClient(create_app(bank)) as http:
        yield {"bank": bank, "api": GraphQLTestClient(http), "departments": {}, "users": {},
               "asset_id": None, "answer": None}


@given(parsers.parse('the department "{name}" with the publisher "{username}"'))
def department_with_publisher(world: dict, name: str, username: str) -> None:
    """Registers a department (a generated valid credit code) and its publisher account."""
    bank = world["bank"]
    department = bank.catalogue.register_department(
        code=_uscc(len(world["departments"]) + 1), name=name, contact="0564-0000000", by=ROOT_ADMIN)
    world["departments"][name] = str(department.id)
    bank.staff.open_account(username=username, name=f"{name}数据专员", role=Role.PUBLISHER,
                            password=PASSWORD, department_id=str(department.id), by=ROOT_ADMIN)


@given(parsers.re(r'the open-data reviewer "(?P<username>[^"]+)"( of "(?P<department>[^"]+)")?$'))
def reviewer(world: dict, username: str, department: str | None) -> None:
    """Opens a reviewer account, central (no department) or of the named department."""
    world["bank"].staff.open_account(
        username=username, name=f"审查员{username}", role=Role.REVIEWER, password=PASSWORD,
        department_id=world["departments"][department] if department else None, by=ROOT_ADMIN)


@given(parsers.parse('the data bank administrator "{username}"'))
def administrator(world: dict, username: str) -> None:
    """Opens an administrator account."""
    world["bank"].staff.open_account(username=username, name="数据银行管理员", role=Role.ADMIN,
                                     password=PASSWORD, by=ROOT_ADMIN)


@given(parsers.parse('"{username}" is logged in'))
def logged_in(world: dict, username: str) -> None:
    as_user(world, username)


@then(parsers.re(r'the answer is the error "(?P<code>[A-Z_]+)"(?: on the field "(?P<field>[^"]+)")?'
                 r'(?: mentioning "(?P<where>[^"]+)")?$'))
def answer_is_error(world: dict, code: str, field: str | None, where: str | None) -> None:
    payload = payload_of(world["answer"])
    (error,) = payload["errors"]
    assert error["code"] == code, error
    if field:
        assert error["field"] == field, error
    if where:
        assert re.search(re.escape(where), error["message"]), error
