"""Issue 9 §5 (the codebase): every third-party module that core/, web/ and plugins/ import
is a dependency pyproject.toml declares (not one that merely comes along with another), and
no module reads a setting from the environment by its name outside ``core/settings.py``
(``Settings``) and the test kit that sets the environment up."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OWN = {"core", "web", "plugins", "tests", "clintech_testkit"}
# The test kit (core/testing, the pytest11 entry point) runs only where the [test] extra is installed.
KIT = ("core/testing/", "clintech_testkit.py")


def _normal(requirement: str) -> str:
    name = re.split(r"[\[<>=!~; ]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return ({_normal(r) for r in project["dependencies"]},
            {_normal(r) for r in project["optional-dependencies"]["test"]})


def _sources():
    for folder in ("core", "web", "plugins"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "piccolo_migrations" not in path.parts:
                yield path
    yield ROOT / "clintech_testkit.py"


def _imported(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _undeclared(path: Path, runtime: set[str], test: set[str], providers: dict) -> list[str]:
    rel = path.relative_to(ROOT).as_posix()
    allowed = runtime | (test if rel.startswith(KIT) else set())
    out = []
    for name in sorted(_imported(ast.parse(path.read_text(encoding="utf-8")))):
        if name in sys.stdlib_module_names or name in OWN or name == "__future__":
            continue
        dists = {_normal(d) for d in providers.get(name, [name])}
        if not dists & allowed:
            out.append(f"{rel}: {name} ({', '.join(sorted(dists))})")
    return out


def test_every_third_party_import_is_a_declared_dependency():
    runtime, test = _declared()
    providers = packages_distributions()
    found = [line for path in _sources() for line in _undeclared(path, runtime, test, providers)]
    assert found == [], "\n".join(found)


def test_the_import_guard_would_catch_an_undeclared_module(tmp_path):
    """Not vacuous: it reads the files it claims to, and a module that only comes along with
    a declared one (sniffio, with anyio and httpx) is not declared."""
    runtime, test = _declared()
    assert {"aiosqlite", "jinja2", "anyio"} <= runtime and "pytest" in test and "pytest" not in runtime
    sources = [p.relative_to(ROOT).as_posix() for p in _sources()]
    assert "core/db.py" in sources and "web/app.py" in sources and "plugins/jilin/__init__.py" in sources
    fake = tmp_path / "probe.py"
    fake.write_text("import sniffio\nimport pytest\nfrom jinja2 import Environment\n", encoding="utf-8")
    tree_names = _imported(ast.parse(fake.read_text(encoding="utf-8")))
    assert tree_names == {"sniffio", "pytest", "jinja2"}
    providers = packages_distributions()
    undeclared = [n for n in sorted(tree_names) if not {_normal(d) for d in providers.get(n, [n])} & runtime]
    assert undeclared == ["pytest", "sniffio"], undeclared


_READS = ("getenv", "get")


def _setting_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, name) of every read of the environment by a literal name: os.getenv("X"),
    os.environ.get("X"), os.environ["X"] (a value handed on by variable, e.g. a channel's
    URL the demo saves and restores, is not a setting read)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            owner, attr = node.func.value, node.func.attr
            is_env = (attr == "getenv" and isinstance(owner, ast.Name) and owner.id == "os") or (
                attr == "get" and isinstance(owner, ast.Attribute) and owner.attr == "environ")
            if is_env and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
        elif (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
              and isinstance(node.value, ast.Attribute) and node.value.attr == "environ"
              and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
            found.append((node.lineno, node.slice.value))
    return found


def test_settings_are_read_through_core_settings():
    found = []
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        if rel == "core/settings.py" or rel.startswith(KIT):
            continue
        found += [f"{rel}:{line}: {name}" for line, name in
                  _setting_reads(ast.parse(path.read_text(encoding="utf-8")))]
    assert found == [], "\n".join(found)


def test_the_settings_guard_would_catch_a_direct_read():
    code = 'import os\na = os.getenv("CLINTECH_X")\nb = os.environ.get("DATABASE_URL", "")\nc = os.environ["CLINTECH_Y"]\n' \
           'os.environ["CLINTECH_JOBS"] = "inline"\nd = os.environ.get(name)\n'
    assert [n for _, n in _setting_reads(ast.parse(code))] == ["CLINTECH_X", "DATABASE_URL", "CLINTECH_Y"]


# Status columns still plain text: none (issue 9 §5, an enum per area). A new status column
# declares its area's enum (``choices=``) or this test fails.
PLAIN_STATUSES: set[tuple[str, str]] = set()


def test_status_columns_declare_their_area_enum_and_its_labels_are_chinese():
    import enum

    from core.piccolo_app import APP_CONFIG

    plain, labelled = set(), []
    for table in APP_CONFIG.table_classes:
        for column in table._meta.columns:
            name = column._meta.name
            if name != "status" and not name.endswith("_status") or name == "http_status":
                continue
            choices = column._meta.choices
            if choices is None:
                plain.add((table._meta.tablename, name))
                continue
            assert issubclass(choices, enum.StrEnum), (table._meta.tablename, name)
            if isinstance(getattr(choices, "label", None), property):
                labelled += [(member, member.label) for member in choices]
    assert plain == PLAIN_STATUSES
    assert labelled and all(re.search(r"[\u4e00-\u9fff]", label) for _, label in labelled), labelled
