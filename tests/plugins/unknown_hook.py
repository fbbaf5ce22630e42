"""A plugin with a misspelt hook: the deployment must refuse to start with it."""

from core import hookimpl


@hookimpl
def filing_materialz(technology, institution):
    return []
