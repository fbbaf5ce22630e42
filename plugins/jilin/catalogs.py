"""Jilin's catalogue editions (JL-11): the national list of annex 1 (2017 edition, G01–G15) and
the provincial list of annex 2 (2021 edition, S1–S21; S1–S17 grade 3 and 4 operations only)."""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.catalog.loader import load_dir

CATALOG_DIR = Path(__file__).parent / "catalog"


@hookimpl
def register_catalogs():
    """The editions in ``catalog/`` (TOML data files), validated by the core loader."""
    return load_dir(CATALOG_DIR)
