"""Henan's catalogue (HN-2.1): the national restricted list (2022 edition) and the slot for the
Henan provincial list, which the sources do not list and an admin imports from XLSX/CSV."""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.catalog.loader import load_dir

CATALOG_DIR = Path(__file__).parent / "catalog"


@hookimpl
def register_catalogs():
    """The editions in ``catalog/`` (TOML data files), validated by the core loader."""
    return load_dir(CATALOG_DIR)
