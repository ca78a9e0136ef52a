"""The house rules the code must keep: dependencies point inward, the SDK stands alone."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_graphql_folder_is_not_a_python_package() -> None:
    # graphql/ holds the contract; an __init__.py there would shadow graphql-core.
    assert not (ROOT / "graphql" / "__init__.py").exists()


def test_the_sdk_imports_nothing_from_the_server() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "sdk").rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.match(r"\s*(from|import)\s+(marketplace|domain)\b", line)
    ]
    assert offenders == []
