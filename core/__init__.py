"""ClinTech Portal core. Plugin authors need ``from core import hookimpl`` and the typed
contract of every hook's arguments and answers, ``core.contract`` (its names are also
reachable from ``core``: ``from core import PanelStep, HOOK_API_VERSION``)."""

from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("clintech")

__all__ = ["hookimpl"]


def __getattr__(name: str) -> Any:
    """The contract's names, imported on first use (``core.contract`` imports core modules)."""
    if name.startswith("_") or name == "contract":
        raise AttributeError(f"module 'core' has no attribute {name!r}")
    import importlib

    contract = importlib.import_module("core.contract")
    if name in contract.__all__:
        return getattr(contract, name)
    raise AttributeError(f"module 'core' has no attribute {name!r}")
