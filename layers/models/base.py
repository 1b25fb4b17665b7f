"""What every model shares: the declarative base with PostgreSQL's constraint names, the
schemas, and how a geometry column is declared."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import MetaData, text
from sqlalchemy.orm import DeclarativeBase

LOOKUP_SCHEMA = "lookup"  # created by migration 0002_lookup

# PostgreSQL's names for unnamed constraints; CHECK constraints are named one by one in the models.
NAMING_CONVENTION = {
    "pk": "%(table_name)s_pkey",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
}

NOW = text("now()")


def geometry_column(geometry_type: str, srid: int) -> Geometry:
    # The migrations create the GiST indexes they want by name (declared below); geoalchemy2's
    # own spatial index would be a second, differently named one.
    return Geometry(geometry_type, srid=srid, spatial_index=False)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
