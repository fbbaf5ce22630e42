"""bench/suite.py reads each half's pytest summary from the output of either tree's
scripts/test.sh: the baseline's (the halves one after the other, pytest's own lines only)
and the current one's (each half's log, then a summary line per half that repeats them)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _suite():
    spec = importlib.util.spec_from_file_location("bench_suite", ROOT / "bench" / "suite.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BASELINE_OUTPUT = """== SQLite ==
.................. [100%]
=========================== short test summary info ============================
FAILED tests/test_admission_service.py::test_hosp10 - assert [2, 3] == []
============= 2 failed, 459 passed, 3 skipped in 131.36s (0:02:11) =============
== PostgreSQL ==
.................. [100%]
============= 2 failed, 459 passed, 3 skipped in 234.93s (0:03:54) =============
"""

CURRENT_OUTPUT = """== SQLite ==
8 workers [1541 items]
================= 1536 passed, 5 skipped in 356.34s (0:05:56) ==================
== PostgreSQL ==
================= 1535 passed, 1 failed, 5 skipped in 367.62s (0:06:07) ==================
== summary ==
SQLite      passed (359s): ================= 1536 passed, 5 skipped in 356.34s (0:05:56) ==================
PostgreSQL  FAILED (370s): ================= 1535 passed, 1 failed, 5 skipped in 367.62s (0:06:07) ==================
"""


def test_the_baseline_scripts_halves_are_read_in_order():
    sqlite, postgres = _suite().halves(BASELINE_OUTPUT)
    assert sqlite == {"seconds": 131.36, "tests": 464, "failed": 2, "passed": 459, "skipped": 3}
    assert postgres["seconds"] == 234.93 and postgres["tests"] == 464


def test_the_current_scripts_summary_lines_are_not_read_as_more_halves():
    found = _suite().halves(CURRENT_OUTPUT)
    assert [h["seconds"] for h in found] == [356.34, 367.62]
    assert found[1] == {"seconds": 367.62, "tests": 1541, "passed": 1535, "failed": 1, "skipped": 5}


def test_an_output_without_both_halves_gives_fewer_than_two():
    assert _suite().halves("== SQLite ==\nERROR: usage\n") == []


def test_a_failing_runs_failed_tests_are_named_and_its_output_kept(tmp_path, monkeypatch):
    """A run that exits non-zero names what failed and keeps its whole output: a flake in
    one round of the comparison is otherwise lost (issue 9, stop 25)."""
    suite = _suite()
    assert suite.failures(BASELINE_OUTPUT) == ["FAILED tests/test_admission_service.py::test_hosp10 - assert [2, 3] == []"]
    assert suite.failures(CURRENT_OUTPUT) == []
    monkeypatch.setattr(suite, "RESULTS", tmp_path / "results")
    kept = suite.keep_output("current", BASELINE_OUTPUT)
    assert kept.parent == tmp_path / "results" and kept.read_text() == BASELINE_OUTPUT


NO_TESTS_RAN = """== SQLite ==
collected 464 items

============================ no tests ran in 3.14s =============================
== PostgreSQL ==
collected 464 items

============================ no tests ran in 3.13s =============================
"""


def test_a_tree_whose_tests_did_not_run_stops_the_comparison(tmp_path, monkeypatch):
    """On a new machine the baseline's suite stopped at once (its CI=true check found no
    /usr/bin/chromium): "no tests ran" in 3 s must not be compared as a run (it was read as
    two halves of 0 tests). ``set_up`` installs the tree's own system packages first."""
    import pytest

    suite = _suite()
    assert [h["tests"] for h in suite.halves(NO_TESTS_RAN)] == [0, 0]
    (tmp_path / "scripts").mkdir()
    script = tmp_path / "scripts" / "test.sh"
    script.write_text(f"#!/bin/sh\ncat <<'OUT'\n{NO_TESTS_RAN}OUT\nexit 4\n")
    script.chmod(0o755)
    monkeypatch.setattr(suite, "RESULTS", tmp_path / "results")
    with pytest.raises(SystemExit, match="the tests did not run in both halves"):
        suite.run_suite(tmp_path, "baseline")
