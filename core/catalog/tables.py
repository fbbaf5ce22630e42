"""Catalogue tables: editions synced from plugin data files (or imported by an admin),
the plugins that supply each edition, and the technologies records cite.

Rows are never deleted: a record that cites a technology keeps pointing at the row of
the edition it cited, whatever happens to the plugin or to later editions.
"""

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.tenancy.tables import Institution


class CatalogEdition(Table):
    """One edition (版本) of a catalogue, identified by ``scope:key`` across plugins."""

    uid = Varchar(length=140, unique=True)  # "<scope>:<key>"
    key = Varchar(length=100, index=True)
    scope = Varchar(length=20)
    title = Varchar(length=200)
    issuer = Varchar(length=200, default="")
    document = Text(default="")
    effective_on = Date(null=True, default=None)
    superseded_on = Date(null=True, default=None)
    superseded_by = Varchar(length=100, default="")
    supersedes = Varchar(length=100, default="")
    source = Text(default="")
    origin = Varchar(length=20, default="plugin")  # plugin / import
    content_hash = Varchar(length=64, default="")
    entry_count = Integer(default=0)
    imported_by = Varchar(length=60, default="")
    synced_at = Timestamptz(default=TimestamptzNow())


class CatalogEditionSource(Table):
    """A plugin that supplies an edition; the edition serves new work while one of its
    active sources is switched on."""

    uid = Varchar(length=250, unique=True)  # "<edition uid>@<plugin>"
    edition = ForeignKey(references=CatalogEdition, index=True)
    plugin = Varchar(length=100, index=True)
    file = Varchar(length=300, default="")
    active = Boolean(default=True)  # False once the plugin stopped shipping it


class CatalogTechnology(Table):
    """One technology (技术) of an edition; the row a record cites."""

    uid = Varchar(length=200, unique=True)  # "<edition uid>#<code>"
    edition = ForeignKey(references=CatalogEdition, index=True)
    code = Varchar(length=40, index=True)
    name = Varchar(length=200, index=True)
    tech_class = Varchar(length=20)
    scope = Varchar(length=20)
    surgery_levels = JSON(default=[])
    specification = Text(default="")
    qc_indicators = JSON(default=[])
    note = Text(default="")
    lead = JSON(default={})  # the specification's requirements of the lead (HOSP-5); {} when not stated
    position = Integer(default=0)
    withdrawn = Boolean(default=False)  # dropped from a later version of the same edition file


class CatalogHospitalRoutine(Table, tablename="catalog_hospital_routine"):
    """The hospital's own catalogue of routine technologies (院级常规技术目录): a technology
    medical affairs decided, after its monitoring period's summary, becomes routine
    (HOSP-19). Per institution; only that institution's users see it."""

    uid = Varchar(length=80, unique=True)  # "<institution>:<code>"
    institution = ForeignKey(references=Institution, index=True)
    code = Varchar(length=40)
    name = Varchar(length=200)
    technology_ref = Integer(null=True, default=None)  # the CatalogTechnology the project cited, if any
    project = Integer(null=True, default=None)  # the admission project whose summary decided it
    decided_on = Date()
    decided_by = Varchar(length=60, default="")
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
