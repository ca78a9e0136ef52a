"""Mutation testing (mutmut 3) of the code that decides what leaves the bank: the masks, the
identifier checks and the quota ledger's decision.

    .venv/bin/python bench/mutation_bench.py [--children 2] [--only domain/masking.py ...]

mutmut writes a ``mutants/`` copy of the tree it works in, so the script copies the project
(the files git knows, committed or not) into a temporary directory, adds the ``[tool.mutmut]``
section there, and runs ``mutmut run`` on that copy: the working tree is never touched.
It prints, per mutated file, killed / total and the score, then every surviving mutant with its
diff (``mutmut show``), and writes bench/out/mutation.json. A survivor that changes what leaves
the bank (a mask, a check, a quota decision) is a missing test; a survivor that cannot change
behaviour (an equivalent mutant) is named as such in the issue's closing note.

mutmut is a bench tool, not a project dependency: it is installed into .venv on first use.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
VENV_BIN = Path(sys.executable).parent
MUTMUT_VERSION = "3.8.1"

# What leaves the bank, and the tests that guard it.
TARGETS = {
    "domain/masking.py": ["tests/unit/domain"],
    "domain/identifiers.py": ["tests/unit/domain"],
    "marketplace/metering/ledger.py": ["tests/unit/metering"],
}
# Where only part of a file decides what leaves the bank: the functions (and classes) that do.
# The ledger's group-commit thread, protocol and report SQL are mutated too but scored apart
# (their behaviour is held by the backends' integration tests, which need a database).
FOCUS = {
    "marketplace.metering.ledger": ("decide", "make_grant", "settle_state", "check_reservation",
                                    "check_settlement", "epoch_minute", "Grant", "Reservation",
                                    "Settlement", "CounterState", "_whole"),
}


def ensure_mutmut() -> None:
    try:
        import mutmut  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", f"mutmut=={MUTMUT_VERSION}"],
                       check=True)


def copy_project(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.splitlines()
    for name in files:
        source = ROOT / name
        if not source.is_file():
            continue  # deleted in the working tree
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def configure(dest: Path, targets: list[str]) -> None:
    tests = sorted({t for target in targets for t in TARGETS[target]})
    section = "\n".join([
        "",
        "[tool.mutmut]",
        'source_paths = ["domain", "marketplace"]',
        f"only_mutate = {json.dumps(targets)}",
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
        # The suite's strict warnings stay on; the cache would be written into the copy anyway.
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]',
        "use_git_change_detection = false",
        "",
    ])
    with open(dest / "pyproject.toml", "a", encoding="utf-8") as f:
        f.write(section)


def run(dest: Path, children: int) -> tuple[str, float]:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "DATABANK_TEST_POSTGRES_URL": ""}
    started = time.perf_counter()
    subprocess.run([str(VENV_BIN / "mutmut"), "run", "--max-children", str(children)], cwd=dest,
                   env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    elapsed = time.perf_counter() - started
    results = subprocess.run([str(VENV_BIN / "mutmut"), "results", "--all", "true"], cwd=dest,
                             env=env, check=True, capture_output=True, text=True).stdout
    return results, elapsed


_RESULT = re.compile(r"^\s*([\w.]+__mutmut_\d+): (\w[\w ]*)$")


def parse(results: str) -> dict[str, str]:
    """``{mutant name: status}`` from ``mutmut results --all true``."""
    found = {}
    for line in results.splitlines():
        match = _RESULT.match(line)
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


def module_of(mutant: str) -> str:
    return mutant.split(".x", 1)[0].split(".x_", 1)[0]


def function_of(mutant: str) -> str:
    """``pkg.mod.x_decide__mutmut_3`` → ``decide``; ``pkg.mod.xǁGrantǁquota__mutmut_1`` → ``Grant``."""
    rest = mutant[len(module_of(mutant)) + 1:].rsplit("__mutmut_", 1)[0]  # x_decide, xǁGrantǁquota
    return rest[2:].split("ǁ")[0]


def scope_of(mutant: str) -> str:
    """The module, or ``module (decision)`` / ``module (rest)`` where FOCUS splits it."""
    module = module_of(mutant)
    if module not in FOCUS:
        return module
    return f"{module} ({'decision' if function_of(mutant) in FOCUS[module] else 'rest'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=2)
    parser.add_argument("--only", nargs="*", choices=sorted(TARGETS), default=sorted(TARGETS))
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy (for mutmut browse)")
    args = parser.parse_args()
    ensure_mutmut()
    work = Path(tempfile.mkdtemp(prefix="databank-mutation-"))
    try:
        copy_project(work)
        configure(work, args.only)
        results, elapsed = run(work, args.children)
        statuses = parse(results)
        if not statuses:
            raise SystemExit("mutmut reported no mutants; its output:\n" + results)
        by_module: dict[str, dict[str, int]] = {}
        for name, status in statuses.items():
            counts = by_module.setdefault(scope_of(name), {})
            counts[status] = counts.get(status, 0) + 1
        # Survivors in the scored code first; those of a FOCUS file's rest are listed by name.
        survivors = sorted((name for name, status in statuses.items() if status != "killed"),
                           key=lambda name: (scope_of(name).endswith("(rest)"), name))
        print(f"mutmut {MUTMUT_VERSION}: {len(statuses)} mutants in {elapsed:.0f} s")
        print(f"{'module':50} {'killed':>7} {'total':>6} {'score':>7}  other")
        for module, counts in sorted(by_module.items()):
            total = sum(counts.values())
            killed = counts.get("killed", 0)
            other = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "killed")
            print(f"{module:50} {killed:7d} {total:6d} {killed / total:7.1%}  {other}")
        diffs = {}
        for name in survivors:
            if scope_of(name).endswith("(rest)"):
                print(f"--- {name}: {statuses[name]} (outside the decision)")
                continue
            shown = subprocess.run([str(VENV_BIN / "mutmut"), "show", name], cwd=work,
                                   capture_output=True, text=True).stdout
            diffs[name] = shown
            print(f"\n--- {name}: {statuses[name]}\n{shown.strip()}")
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "mutation.json").write_text(json.dumps(
            {"seconds": round(elapsed, 1), "modules": by_module, "survivors": diffs},
            ensure_ascii=False, indent=2), encoding="utf-8")
    finally:
        if args.keep:
            print(f"\nthe copy is kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
