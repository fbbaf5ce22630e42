"""Jilin's catalogue editions (JL-11): the national list of annex 1 (2017 edition, G01–G15) and
the provincial list of annex 2 (2021 edition, S1–S21; S1–S17 grade 3 and 4 operations only)."""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.catalog.loader import load_dir
from plugins import national

CATALOG_DIR = Path(__file__).parent / "catalog"


@hookimpl
def register_catalogs():
    """Jilin's provincial list (``catalog/``), the national list of annex 1 (2017, JL-11),
    the 2022 national edition that replaced it and the national prohibited technologies (NAT-9).

    Data files, validated by the core loader."""
    return load_dir(CATALOG_DIR, national.RESTRICTED_2017, national.RESTRICTED_2022, national.PROHIBITED)
