"""Mutation testing of the rules modules with mutmut (``make mutation``; not part of ``make test``).

Each module (core/calendar.py, every core/**/rules.py and every plugins/*/rules.py) is
mutated on its own, in a workspace of its own under ``mutants/`` (gitignored), against
the fast, pure test files that exercise it (``TESTS`` below: no database, no browser,
no hypothesis properties).
Within a module mutmut runs, for each mutant, only the selected tests that call the
mutated function. One module at a time, one worker by default (``MUTATION_JOBS=2``
to use both cores): the machine is shared.

Like the benchmark this reports, it does not assert: a table per module (mutants,
killed, survived, no tests, score = killed / mutants) and, with ``--survivors``, the
diff of every mutant left alive so that each can be explained or killed.

    .venv/bin/python scripts/mutation.py                      # every module
    .venv/bin/python scripts/mutation.py core/calendar.py     # one module
    .venv/bin/python scripts/mutation.py --survivors core/filing/rules.py
    .venv/bin/python scripts/mutation.py --last --survivors core/filing/rules.py   # no new run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORK = ROOT / "mutants"

def examples(path: str) -> list[str]:
    """The tests of ``path`` that are not hypothesis properties (``@given``), as node ids:
    a property runs hundreds of examples, for every mutant it covers."""
    import ast

    tree = ast.parse((ROOT / path).read_text("utf-8"))
    return [f"{path}::{node.name}" for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
            and not any(ast.unparse(d).startswith("given") for d in node.decorator_list)]


# The pure test files that exercise each module (a module's own limits file first).
TESTS: dict[str, list[str]] = {
    "core/calendar.py": ["tests/test_limits_calendar.py", *examples("tests/test_calendar.py")],
    "core/accounts/rules.py": ["tests/test_limits_accounts.py"],
    "core/admission/rules.py": ["tests/test_limits_admission.py"],
    "core/cases/rules.py": ["tests/test_limits_cases.py"],
    "core/catalog/rules.py": ["tests/test_limits_catalog.py"],
    "core/filing/rules.py": ["tests/test_limits_filing.py"],
    "core/holidays/rules.py": ["tests/test_limits_holidays.py",
                               *(t for t in examples("tests/test_calendar.py") if "notice" in t)],
    "core/obligations/rules.py": ["tests/test_limits_obligations.py"],
    "core/outbox/rules.py": ["tests/test_limits_outbox.py"],
    "core/tenancy/rules.py": ["tests/test_limits_tenancy.py"],
}

# What a workspace needs besides the module: the packages it imports and the tests.
COPY = ("core", "plugins", "web", "tests", "pyproject.toml")


def modules() -> list[str]:
    found = ["core/calendar.py"]
    found += sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("core/**/rules.py"))
    found += sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("plugins/*/rules.py"))
    # Not plugins/*/policy.py: its checks are @hookimpl functions, and mutmut does not mutate
    # decorated functions (tests/test_limits_provinces.py pins them all the same).
    return found


def _slug(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".")


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def prepare(module: str, tests: list[str]) -> Path:
    """A fresh workspace: a copy of the tree and a pyproject whose [tool.mutmut] names
    this module and its tests (the shared options come from the real pyproject)."""
    ws = WORK / _slug(module)
    shutil.rmtree(ws, ignore_errors=True)
    ws.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, ws / name, ignore=ignore)
        else:
            shutil.copy2(src, ws / name)
    base = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8")).get("tool", {}).get("mutmut", {})
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    start = text.find("[tool.mutmut]")
    if start >= 0:  # drop the shared table; it is rewritten below with this module's keys
        end = text.find("\n[", start + 1)
        text = text[:start] + (text[end + 1 :] if end >= 0 else "")
    lines = ["", "[tool.mutmut]", f"source_paths = {_toml_list([module])}",
             f"pytest_add_cli_args_test_selection = {_toml_list(tests)}"]
    for key, value in base.items():
        if key not in ("source_paths", "pytest_add_cli_args_test_selection", "paths_to_mutate", "tests_dir"):
            lines.append(f"{key} = {json.dumps(value)}")
    (ws / "pyproject.toml").write_text(text.rstrip() + "\n" + "\n".join(lines) + "\n", "utf-8")
    return ws


def results(ws: Path, module: str) -> dict[str, str]:
    """mutant name → status (killed, survived, no tests, timeout, …) from mutmut's meta file."""
    from mutmut.stats import status_by_exit_code

    meta = ws / "mutants" / (module + ".meta")
    if not meta.exists():
        return {}
    codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
    return {name: status_by_exit_code[code] for name, code in codes.items()}


def run(module: str, jobs: int, survivors: bool, again: bool = True) -> dict:
    started = time.monotonic()
    ws = WORK / _slug(module)
    if again:
        # a module not listed: its own limits file (tests/test_limits_<area>.py) when there is one
        area = Path(module).parent.name if Path(module).name == "rules.py" else Path(module).stem
        tests = [t for t in TESTS.get(module, [f"tests/test_limits_{area}.py"]) if (ROOT / t.split("::")[0]).exists()]
        if not tests:
            print(f"!! {module}: no test files selected in scripts/mutation.py TESTS", file=sys.stderr)
        ws = prepare(module, tests)
        log = ws / "mutmut.log"
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        with log.open("w") as out:
            code = subprocess.call([str(BIN / "mutmut"), "run", "--max-children", str(jobs)], cwd=ws,
                                   stdout=out, stderr=subprocess.STDOUT, env=env)
        if code != 0:
            print(f"!! {module}: mutmut exited {code}; see {log}", file=sys.stderr)
    status = results(ws, module)
    if not status:
        print(f"!! {module}: no results in {ws}", file=sys.stderr)
    counts = {"mutants": len(status), "killed": 0, "survived": 0, "no tests": 0, "other": 0}
    for value in status.values():
        if value in ("killed", "timeout", "caught by type check"):
            counts["killed"] += 1
        elif value in ("survived", "no tests"):
            counts[value] += 1
        else:
            counts["other"] += 1
    counts["seconds"] = round(time.monotonic() - started)
    counts["left"] = sorted(n for n, s in status.items() if s in ("survived", "no tests", "suspicious"))
    if survivors:
        for name in counts["left"]:
            shown = subprocess.run([str(BIN / "mutmut"), "show", name], cwd=ws, capture_output=True, text=True)
            print(shown.stdout.rstrip() + f"   [{status[name]}]\n")
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="paths (default: every rules module and core/calendar.py)")
    parser.add_argument("--survivors", action="store_true", help="print the diff of each mutant left alive")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATION_JOBS", "1")))
    parser.add_argument("--last", action="store_true", help="report the last run's results, run nothing")
    args = parser.parse_args()
    chosen = args.modules or modules()
    table = []
    for module in chosen:
        print(f"… {module}", file=sys.stderr, flush=True)
        table.append((module, run(module, args.jobs, args.survivors, again=not args.last)))
    width = max(len(m) for m, _ in table)
    print(f"\n{'module':<{width}}  mutants  killed  survived  no tests  score  time")
    for module, c in table:
        score = c["killed"] / c["mutants"] * 100 if c["mutants"] else 0.0
        print(f"{module:<{width}}  {c['mutants']:>7}  {c['killed']:>6}  {c['survived']:>8}  {c['no tests']:>8}"
              f"  {score:>4.0f}%  {c['seconds']:>3}s")
    left = [(m, n) for m, c in table for n in c["left"]]
    if left and not args.survivors:
        print(f"\n{len(left)} mutants left alive; see them with: "
              f"{BIN.relative_to(ROOT) if BIN.is_relative_to(ROOT) else BIN}/python scripts/mutation.py --survivors MODULE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
