"""``make bench-suite``: ``make test`` of this tree against ``make test`` of a baseline commit,
on the same machine, in one run (issue 9: "make test passes in the same or less time than
today"; these machines are too noisy for figures taken hours apart).

What it does:

1. checks the baseline commit out into a temporary git worktree (default ``a7b5074``, the
   tree issue 9's figures "SQLite 2 min 15 s, PostgreSQL 4 min 24 s" were taken on) and sets
   it up as its own Makefile does (its own ``.venv``; not timed);
2. runs each tree's ``scripts/test.sh`` (what ``make test`` runs after setup) ``--rounds``
   times, alternating which tree goes first, with ``CI=true`` so that a missing browser or
   database fails rather than skips;
3. prints, per run, the wall time of the whole command and of each half (pytest's own
   figure) with the counts of tests, then the median ratio current / baseline of the whole
   time and of the time per test, and writes them to ``bench/results/suite.json``.

Nothing in either tree is changed; the worktree is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
ISSUE_9_BASELINE = "a7b5074"

# pytest's last line, e.g. "==== 2 failed, 459 passed, 3 skipped in 131.36s (0:02:11) ====".
SUMMARY = re.compile(r"=+ (?P<counts>[^=]*?) in (?P<secs>[\d.]+)s")


def halves(output: str) -> list[dict]:
    """The SQLite and PostgreSQL halves of one ``scripts/test.sh`` output, in that order
    (both scripts print each half's pytest output whole, SQLite first)."""
    found = []
    for match in SUMMARY.finditer(output):
        counts = {kind: int(n) for n, kind in re.findall(r"(\d+) (passed|failed|skipped|errors?)", match["counts"])}
        found.append({"seconds": float(match["secs"]), "tests": sum(counts.values()), **counts})
        if len(found) == 2:
            break
    return found


def failures(output: str) -> list[str]:
    """pytest's short summary lines of what failed (``FAILED …``, ``ERROR …``), both halves."""
    return [line for line in output.splitlines() if line.startswith(("FAILED ", "ERROR "))]


def keep_output(label: str, output: str) -> Path:
    """A failing run's whole output, kept beside suite.json (a flake is otherwise lost)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"suite-{label}-{time.strftime('%Y%m%d-%H%M%S')}.log"
    path.write_text(output)
    return path


def set_up(tree: Path) -> None:
    """The tree's own environment, as its Makefile makes it (pip's cache makes it quick),
    and the Debian packages its ``make test`` installs first (``scripts/system_deps.sh
    --test``): the baseline drives the full ``chromium``, this tree the headless shell, and a
    new machine has neither (the baseline's tests then stopped at once, "no tests ran")."""
    subprocess.run(["make", "-s", ".venv/bin/.installed", "web/static/vendor/htmx.min.js"], cwd=tree,
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["scripts/system_deps.sh", "--test"], cwd=tree, check=True, stdout=subprocess.DEVNULL)


def run_suite(tree: Path, label: str) -> dict:
    print(f"  {label}: make test …", flush=True)
    start = time.monotonic()
    done = subprocess.run(["scripts/test.sh"], cwd=tree, env={**os.environ, "CI": "true"}, capture_output=True,
                          text=True)
    wall = time.monotonic() - start
    found = halves(done.stdout)
    if len(found) != 2 or not all(h["tests"] for h in found):
        sys.exit(f"{label}: the tests did not run in both halves (exit {done.returncode}):\n{done.stdout[-2000:]}")
    tests = sum(h["tests"] for h in found)
    print(f"  {label}: {wall:6.1f} s whole; SQLite {found[0]['seconds']:.1f} s, PostgreSQL "
          f"{found[1]['seconds']:.1f} s; {tests} tests, exit {done.returncode}", flush=True)
    if done.returncode != 0:  # which tests failed, and the whole output to read them in
        kept = keep_output(label, done.stdout)
        for line in failures(done.stdout):
            print(f"    {line}", flush=True)
        print(f"    whole output: {kept}", flush=True)
    return {"wall_s": round(wall, 1), "sqlite": found[0], "postgres": found[1], "tests": tests,
            "exit": done.returncode}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=ISSUE_9_BASELINE, help="the commit to compare with (git ref)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each tree, alternating which goes first")
    args = parser.parse_args()
    baseline_commit = subprocess.run(["git", "rev-parse", "--short", args.baseline], cwd=ROOT, check=True,
                                     capture_output=True, text=True).stdout.strip()
    current_commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                                    capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="clintech-suite-") as tmp:
        baseline = Path(tmp) / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(baseline), baseline_commit], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            print(f"baseline {baseline_commit} in {baseline}: setting up …", flush=True)
            set_up(baseline)  # this tree: make bench-suite depends on make setup
            runs: dict[str, list[dict]] = {"current": [], "baseline": []}
            for round_no in range(args.rounds):
                order = [("baseline", baseline), ("current", ROOT)]
                if round_no % 2:
                    order.reverse()
                print(f"round {round_no + 1} of {args.rounds}", flush=True)
                for label, tree in order:
                    runs[label].append(run_suite(tree, label))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(baseline)], cwd=ROOT, capture_output=True)
    whole = [c["wall_s"] / b["wall_s"] for c, b in zip(runs["current"], runs["baseline"], strict=True)]
    per_test = [(c["wall_s"] / c["tests"]) / (b["wall_s"] / b["tests"])
                for c, b in zip(runs["current"], runs["baseline"], strict=True)]
    result = {
        "baseline_commit": baseline_commit, "current_commit": current_commit, "runs": runs,
        "ratio_whole": round(statistics.median(whole), 3), "ratio_per_test": round(statistics.median(per_test), 3),
    }
    print(f"make test, current {current_commit} / baseline {baseline_commit} (median of {args.rounds}): "
          f"whole {result['ratio_whole']:.2f}, per test {result['ratio_per_test']:.2f} "
          f"(1.00 or less: the same or less time)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "suite.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
