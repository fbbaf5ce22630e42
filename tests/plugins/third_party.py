"""A third-party province plugin, installed through its own distribution's entry point."""

from core import hookimpl


@hookimpl
def disclosure_fields():
    return [{"key": "case_count", "title": "累计例数"}]
