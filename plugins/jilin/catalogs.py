"""Jilin's catalogue (JL-11): the provincial list of annex 2 (2021 edition, S1–S21; S1–S17
grade 3 and 4 operations only). Annex 1, the national list (2017 edition, G01–G15), and the
2022 edition that replaced it are the built-in national plugin's."""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.catalog.loader import load_dir

CATALOG_DIR = Path(__file__).parent / "catalog"


@hookimpl
def register_catalogs():
    """Jilin's provincial list (``catalog/``, JL-11). Data files, validated by the core loader."""
    return load_dir(CATALOG_DIR)
