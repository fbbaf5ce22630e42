"""Henan's catalogue (HN-2.1): the filing scope is the national restricted list — the built-in
national plugin's — and the Henan provincial list, which the sources do not list and an admin
imports from XLSX/CSV into this plugin's slot."""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.catalog.loader import load_dir

CATALOG_DIR = Path(__file__).parent / "catalog"


@hookimpl
def register_catalogs():
    """The Henan import slot (``catalog/``, HN-2.1). Data files, validated by the core loader."""
    return load_dir(CATALOG_DIR)
