"""The default hospital's catalogue editions (HOSP-2, NAT-9): the national restricted list in its
2022 edition (G01–G12, as seed 000 lists it) and the prohibited technologies the sources name."""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.catalog.loader import load_dir
from plugins import national

CATALOG_DIR = Path(__file__).parent / "catalog"


@hookimpl
def register_catalogs():
    """The classes of the hospital document (HOSP-2): the 2022 national restricted list
    it cites and the prohibited technologies (NAT-9).

    Data files, validated by the core loader."""
    return load_dir(CATALOG_DIR, national.RESTRICTED_2022, national.PROHIBITED)
