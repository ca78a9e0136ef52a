"""graphql/ is the published API contract: the committed schema matches the code, and every
documented operation is valid against it."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from marketplace.api.schema import schema_sdl

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "graphql" / "schema.graphql"
OPERATIONS = sorted((ROOT / "graphql" / "operations").glob("*.graphql"))


def test_the_committed_schema_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_sdl(), (
        "graphql/schema.graphql drifted from the graphene schema: run "
        "`databank schema --output graphql/schema.graphql` and review the diff")


def test_there_are_documented_operations() -> None:
    assert len(OPERATIONS) >= 10


@pytest.mark.parametrize("path", OPERATIONS, ids=[p.stem for p in OPERATIONS])
def test_each_operation_validates_against_the_committed_schema(path: Path) -> None:
    document = parse(path.read_text(encoding="utf-8"))
    errors = validate(build_schema(SCHEMA_FILE.read_text(encoding="utf-8")), document)
    assert errors == []
    names = [d.name.value for d in document.definitions if getattr(d, "name", None)]
    assert names == [path.stem], "one named operation per file, named like the file"
