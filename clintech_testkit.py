"""pytest's ``pytest11`` entry point of the ClinTech test kit (core/testing/pytest_plugin.py).

pytest imports entry-point plugins before it reads a project's conftest.py, so this module
imports nothing of the portal: it declares the kit's settings and, once pytest has set up
the project's import path, registers the kit itself. A checkout that is not the installed
one (a git worktree beside an editable install, a plugin's own project) therefore tests its
own ``core``, not the installed copy's.
"""

from __future__ import annotations

import pytest

KIT = "clintech-kit"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("clintech_plugins", "ClinTech test kit: the plugins of the deployment under test "
                  "(comma-separated); setting it turns the kit on", default="")
    parser.addini("clintech_today", "ClinTech test kit: the fixed today (ISO date, or 'real')",
                  default="2026-05-20")  # core.testing.DEFAULT_TODAY
    parser.addini("clintech_db", "ClinTech test kit: sqlite or postgres (CLINTECH_TEST_DB wins)", default="sqlite")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    from core.testing import pytest_plugin

    if config.pluginmanager.is_registered(pytest_plugin):  # already named in a conftest
        return

    # Registered now, its own pytest_configure runs next (a historic hook) and its fixtures
    # are collected like any plugin's.
    config.pluginmanager.register(pytest_plugin, KIT)
