"""The schema the migrations create, described as SQLAlchemy models with geoalchemy2 geometry.

The migrations (``migrations/versions/``) create the database; these models (:mod:`.base`,
:mod:`.catalog` for the ``webmap`` schema, :mod:`.lookup`) describe the same tables so that
``alembic revision --autogenerate`` can write the next migration and so that
``tests/test_schema.py`` can check, in every test run, that models and migrations agree
(docs/architecture.md, "Schema"). Nothing the app runs imports this module: request handlers
and commands read and write with psycopg (:mod:`layers.catalog`, :mod:`layers.store`, ...), and
``create_app`` loads neither SQLAlchemy nor geoalchemy2. Only alembic's ``env.py`` and the tests
import it.

Not modelled here:

- the per-version data tables in the ``layerdata`` schema: publishing creates one per stored
  vector version, with the columns of the uploaded file (:mod:`layers.store`);
- what is not a table: the extensions (postgis, pg_trgm, unaccent), the schemas themselves and
  the ``lookup.fold()`` SQL function, which the generated ``*_fold`` columns call.

Three lookup tables have no key (``municipality_parts``, ``street_keys``,
``property_head_keys``): they are plain :class:`~sqlalchemy.Table` objects in the same
metadata, since an ORM class needs an identity those rows do not have. Constraint names follow
PostgreSQL's own defaults (``layers_pkey``, ``addresses_uid_key``, ...), which is what the
migrations' unnamed constraints got, so a generated migration names them the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from layers.models import catalog, lookup, tenants
from layers.models.base import LOOKUP_SCHEMA, Base
from layers.schema import CATALOG_SCHEMA

if TYPE_CHECKING:
    from alembic.runtime.environment import NameFilterParentNames, NameFilterType

__all__ = ["Base", "catalog", "include_name", "lookup", "tenants"]

# -- What alembic compares ----------------------------------------------------------------------

# The schemas the models describe. Left out: ``layerdata`` (per-version data tables made at
# publish time, not modelled) and every other schema in the database (PostGIS's ``tiger`` and
# ``topology`` where those extensions are installed, ``pg_catalog``, ...).
MODELLED_SCHEMAS = frozenset({CATALOG_SCHEMA, LOOKUP_SCHEMA})

# Tables in the default schema (``public``) that are not ours: PostGIS's SRID list, and alembic's
# record of the applied migration. Any other table there is compared (and would be reported).
FOREIGN_PUBLIC_TABLES = frozenset({"spatial_ref_sys", "alembic_version"})


def include_name(
    name: str | None, type_: NameFilterType, parent_names: NameFilterParentNames
) -> bool:
    """Alembic's ``include_name`` hook: which reflected schemas and tables to compare."""
    if type_ == "schema":
        return name is None or name in MODELLED_SCHEMAS  # None: the default schema, public
    if type_ == "table":
        return parent_names.get("schema_name") is not None or name not in FOREIGN_PUBLIC_TABLES
    return True
