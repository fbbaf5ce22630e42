"""The test kit's cheap argon2 (``CLINTECH_FAST_HASH=1``, core/testing) is for test
deployments only: a portal started without it hashes with argon2-cffi's default (strong)
parameters — checked in a process of its own, as production starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import argon2

PROBE = """
import json
from core.accounts import service
h = service._hasher
print(json.dumps({"time_cost": h.time_cost, "memory_cost": h.memory_cost, "parallelism": h.parallelism,
                  "type": h.type.name, "hash": service.hash_password("x")}))
"""


def _hasher_of(env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_production_hashes_passwords_with_argon2s_strong_defaults_and_only_tests_lower_it(tmp_path):
    production = {k: v for k, v in os.environ.items() if not k.startswith(("CLINTECH_", "DATABASE_URL"))}
    production |= {"CLINTECH_VAR": str(tmp_path / "var"), "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}"}
    strong = argon2.PasswordHasher()  # argon2-cffi's default profile (RFC 9106, low memory)
    used = _hasher_of(production)
    assert (used["time_cost"], used["memory_cost"], used["parallelism"], used["type"]) == (
        strong.time_cost, strong.memory_cost, strong.parallelism, "ID")
    assert strong.memory_cost >= 64 * 1024 and strong.time_cost >= 3  # 64 MiB, 3 passes
    assert argon2.extract_parameters(used["hash"]) == argon2.extract_parameters(strong.hash("x"))
    # The test deployment (the kit sets CLINTECH_FAST_HASH=1) is cheaper, still argon2id.
    cheap = _hasher_of(production | {"CLINTECH_FAST_HASH": "1"})
    assert cheap["type"] == "ID" and cheap["memory_cost"] < used["memory_cost"]
