"""Henan's catalogue (HN-2.1): the national restricted list (2022 edition) and the slot for the
Henan provincial list, which the sources do not list and an admin imports from XLSX/CSV."""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.catalog.loader import load_dir
from plugins import national

CATALOG_DIR = Path(__file__).parent / "catalog"


@hookimpl
def register_catalogs():
    """The Henan import slot (``catalog/``), the national restricted list (2022) of the
    filing scope (HN-2.1) and the national prohibited technologies (NAT-9).

    Data files, validated by the core loader."""
    return load_dir(CATALOG_DIR, national.RESTRICTED_2022, national.PROHIBITED)
