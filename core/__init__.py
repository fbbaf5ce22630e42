"""ClinTech Portal core. Plugin authors need only ``from core import hookimpl``."""

import pluggy

hookimpl = pluggy.HookimplMarker("clintech")

__all__ = ["hookimpl"]
