"""The SDK ships its own copies of the documented operations: each equals the one in
graphql/operations/ and validates against graphql/schema.graphql."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p for p in (resources.files("databank") / "operations").iterdir()
                 if p.name.endswith(".graphql"))


def test_the_sdk_ships_the_operations_it_uses() -> None:
    import re

    used = set()
    for path in (ROOT / "sdk" / "databank").rglob("*.py"):
        used |= set(re.findall(r'Call\(\s*"([A-Za-z]+)"', path.read_text(encoding="utf-8")))
    assert used and used <= {p.name.removesuffix(".graphql") for p in SHIPPED}
    assert len(SHIPPED) >= 10


@pytest.mark.parametrize("shipped", SHIPPED, ids=[p.name for p in SHIPPED])
def test_each_shipped_operation_equals_the_documented_one(shipped) -> None:
    documented = ROOT / "graphql" / "operations" / shipped.name
    assert documented.exists(), f"{shipped.name} is not a documented operation"
    assert shipped.read_text(encoding="utf-8") == documented.read_text(encoding="utf-8")


@pytest.mark.parametrize("shipped", SHIPPED, ids=[p.name for p in SHIPPED])
def test_each_shipped_operation_validates_against_the_schema(shipped) -> None:
    schema = build_schema((ROOT / "graphql" / "schema.graphql").read_text(encoding="utf-8"))
    assert validate(schema, parse(shipped.read_text(encoding="utf-8"))) == []


def test_the_sdk_package_imports_only_httpx_and_the_standard_library() -> None:
    """At module level: httpx and the standard library. The optional extras (pandas, pyarrow,
    tqdm) only inside the functions that need them, so ``import databank`` works without them."""
    import ast
    import sys

    allowed = set(sys.stdlib_module_names) | {"httpx", "databank"}
    optional = {"pandas", "pyarrow", "tqdm"}
    seen_optional = set()

    def imported(node: ast.AST) -> list[str]:
        return ([a.name for a in node.names] if isinstance(node, ast.Import)
                else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0
                else [])

    for path in (ROOT / "sdk" / "databank").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = {id(n) for n in tree.body} | {
            id(n) for s in tree.body if isinstance(s, (ast.If, ast.Try)) for n in ast.walk(s)}
        for node in ast.walk(tree):
            for name in imported(node):
                root = name.split(".")[0]
                if root in optional:
                    assert id(node) not in top_level, f"{path.name} imports {name} at module level"
                    seen_optional.add(root)
                else:
                    assert root in allowed, f"{path.name} imports {name}"
    assert seen_optional == optional


def test_the_distribution_depends_on_httpx_only() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "sdk" / "pyproject.toml").read_text())["project"]
    assert [d.split(">")[0].split("=")[0] for d in project["dependencies"]] == ["httpx"]
    assert project["scripts"]["databank-sdk"] == "databank.cli:main"
