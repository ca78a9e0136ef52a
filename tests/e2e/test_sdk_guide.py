"""docs/sdk.md: every Python example runs as written against ``databank serve`` with the demo."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from support.sdk_server import demo_key

pytestmark = pytest.mark.e2e

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)


def test_the_guide_has_examples() -> None:
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_each_example_of_the_guide_runs(demo_server, index: int) -> None:
    import os

    env = {**os.environ, "DATABANK_URL": demo_server.base_url,
           "DATABANK_API_KEY": demo_key(demo_server)}
    done = subprocess.run([sys.executable, "-c", EXAMPLES[index]], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, f"example {index + 1}:\n{EXAMPLES[index]}\n{done.stdout}\n{done.stderr}"
