"""The schema the migrations create, described as SQLAlchemy models with geoalchemy2 geometry.

The migrations (``migrations/versions/``) create the database; these models describe the same
tables so that ``alembic revision --autogenerate`` can write the next migration and so that
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

Three lookup tables have no key (``municipality_parts``, ``street_keys``, ``property_keys``):
they are plain :class:`~sqlalchemy.Table` objects in the same metadata, since an ORM class needs
an identity those rows do not have. Constraint names follow PostgreSQL's own defaults
(``layers_pkey``, ``addresses_uid_key``, ...), which is what the migrations' unnamed constraints
got, so a generated migration names them the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from layers.schema import CATALOG_SCHEMA, LAYER_NAME_PATTERN

if TYPE_CHECKING:
    from alembic.runtime.environment import NameFilterParentNames, NameFilterType

LOOKUP_SCHEMA = "lookup"  # created by migration 0002_lookup

# PostgreSQL's names for unnamed constraints; CHECK constraints are named one by one below.
NAMING_CONVENTION = {
    "pk": "%(table_name)s_pkey",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
}

NOW = text("now()")


def _geometry(geometry_type: str, srid: int) -> Geometry:
    # The migrations create the GiST indexes they want by name (declared below); geoalchemy2's
    # own spatial index would be a second, differently named one.
    return Geometry(geometry_type, srid=srid, spatial_index=False)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# -- webmap: the catalog (0001_catalog) ---------------------------------------------------------


class Layer(Base):
    """One published layer; ``version`` is its live row of :class:`LayerVersion`."""

    __tablename__ = "layers"
    __table_args__ = (
        CheckConstraint(f"name ~ '{LAYER_NAME_PATTERN}'", name="layer_name_format"),
        CheckConstraint("kind IN ('vector', 'raster')", name="layer_kind"),
        CheckConstraint(
            "minzoom BETWEEN 0 AND 24 AND maxzoom BETWEEN minzoom AND 24", name="layers_check"
        ),
        {"schema": CATALOG_SCHEMA},
    )

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, server_default=text("''"))
    kind: Mapped[str] = mapped_column(Text, server_default=text("'vector'"))
    geometry_type: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    public: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    attribution: Mapped[str] = mapped_column(Text, server_default=text("''"))
    minzoom: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    maxzoom: Mapped[int] = mapped_column(Integer, server_default=text("22"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)


class LayerVersion(Base):
    """One stored version of a layer (its own data table in ``layerdata``, or a raster file).

    The foreign key is checked at commit (DEFERRABLE INITIALLY DEFERRED): a first publish writes
    its version row before the layer row that points at it.
    """

    __tablename__ = "layer_versions"
    __table_args__ = ({"schema": CATALOG_SCHEMA},)

    layer_name: Mapped[str] = mapped_column(
        Text,
        ForeignKey(
            f"{CATALOG_SCHEMA}.layers.name",
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
        ),
        primary_key=True,
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_name: Mapped[str] = mapped_column(Text, unique=True)
    feature_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    fields: Mapped[list[dict[str, str]]] = mapped_column(JSONB, server_default=text("'[]'"))
    bounds: Mapped[WKBElement | None] = mapped_column(_geometry("POLYGON", 4326))
    report: Mapped[dict[str, object]] = mapped_column(JSONB, server_default=text("'{}'"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)


# -- webmap: staff access and deleted layers (0003_staff, 0004_staff_sessions) ------------------


class ApiToken(Base):
    """An API token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint("length(name) BETWEEN 1 AND 100", name="api_tokens_name_check"),
        CheckConstraint("scope IN ('read', 'publish')", name="api_tokens_scope_check"),
        {"schema": CATALOG_SCHEMA},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # serial
    name: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    prefix: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text, server_default=text("'publish'"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StaffUser(Base):
    """A staff login (scrypt password hash, :mod:`staff.accounts`)."""

    __tablename__ = "staff_users"
    __table_args__ = (
        CheckConstraint("username ~ '^[a-z0-9_.@-]{1,64}$'", name="staff_users_username_check"),
        {"schema": CATALOG_SCHEMA},
    )

    username: Mapped[str] = mapped_column(Text, primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class LayerTombstone(Base):
    """The last version number of a deleted layer, so a new layer of that name does not reuse it."""

    __tablename__ = "layer_tombstones"
    __table_args__ = ({"schema": CATALOG_SCHEMA},)

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    last_version: Mapped[int] = mapped_column(Integer)
    deleted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)


class StaffSession(Base):
    """A staff session kept on the server; only the SHA-256 of the cookie's id is stored."""

    __tablename__ = "staff_sessions"
    __table_args__ = (
        CheckConstraint("length(id_hash) = 64", name="staff_sessions_id_hash_check"),
        Index("staff_sessions_username", "username"),
        Index("staff_sessions_last_seen", "last_seen_at"),
        {"schema": CATALOG_SCHEMA},
    )

    id_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    username: Mapped[str] = mapped_column(
        Text,
        ForeignKey(
            f"{CATALOG_SCHEMA}.staff_users.username", ondelete="CASCADE", onupdate="CASCADE"
        ),
    )
    csrf_token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# -- webmap: pre-rendered low zooms (0005_prerender) ----------------------------------------------


class PrerenderJob(Base):
    """Pre-rendering one tileset (a vector layer or ``basemap``) at one version."""

    __tablename__ = "prerender_jobs"
    __table_args__ = (
        CheckConstraint(
            "state IN ('queued', 'running', 'done', 'superseded')",
            name="prerender_jobs_state_check",
        ),
        CheckConstraint(
            "min_zoom BETWEEN 0 AND 24 AND max_zoom BETWEEN min_zoom AND 24",
            name="prerender_jobs_zooms_check",
        ),
        UniqueConstraint("tileset", "version"),
        {"schema": CATALOG_SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # bigserial
    tileset: Mapped[str] = mapped_column(Text)
    version: Mapped[str] = mapped_column(Text)
    min_zoom: Mapped[int] = mapped_column(Integer)
    max_zoom: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(Text, server_default=text("'queued'"))
    tiles_total: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    tiles_done: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PrerenderChunk(Base):
    """A run of tiles of one job (one row of one zoom), claimed with ``SKIP LOCKED``."""

    __tablename__ = "prerender_chunks"
    __table_args__ = ({"schema": CATALOG_SCHEMA},)

    job_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey(f"{CATALOG_SCHEMA}.prerender_jobs.id", ondelete="CASCADE"),
        primary_key=True,
    )
    z: Mapped[int] = mapped_column(Integer, primary_key=True)
    y: Mapped[int] = mapped_column(Integer, primary_key=True)
    x_min: Mapped[int] = mapped_column(Integer, primary_key=True)
    x_max: Mapped[int] = mapped_column(Integer)
    done: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class PrerenderedTile(Base):
    """A tile a job rendered ahead of demand: its MVT bytes, and their gzip unless empty."""

    __tablename__ = "prerendered_tiles"
    __table_args__ = (
        Index("prerendered_tiles_job", "job_id"),
        {"schema": CATALOG_SCHEMA},
    )

    tileset: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[str] = mapped_column(Text, primary_key=True)
    z: Mapped[int] = mapped_column(Integer, primary_key=True)
    x: Mapped[int] = mapped_column(Integer, primary_key=True)
    y: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey(f"{CATALOG_SCHEMA}.prerender_jobs.id", ondelete="CASCADE")
    )
    body: Mapped[bytes] = mapped_column(LargeBinary)
    gzipped: Mapped[bytes | None] = mapped_column(LargeBinary)


# -- lookup: addresses, streets, properties, municipalities (0002_lookup) -----------------------
# Geometry is SWEREF 99 TM (EPSG:3006). The *_fold columns are generated by lookup.fold().


class Municipality(Base):
    __tablename__ = "municipalities"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{4}$'", name="municipality_code"),
        Index("municipalities_geom_idx", "geom", postgresql_using="gist"),
        {"schema": LOOKUP_SCHEMA},
    )

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    county_code: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(_geometry("MULTIPOLYGON", 3006), nullable=False)


municipality_parts = Table(
    "municipality_parts",
    Base.metadata,
    Column(
        "code",
        Text,
        ForeignKey(f"{LOOKUP_SCHEMA}.municipalities.code", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("geom", _geometry("POLYGON", 3006), nullable=False),
    Index("municipality_parts_geom_idx", "geom", postgresql_using="gist"),
    schema=LOOKUP_SCHEMA,
)


class Address(Base):
    __tablename__ = "addresses"
    __table_args__ = (
        CheckConstraint("number >= 0", name="address_number"),
        CheckConstraint("letter ~ '^[A-ZÅÄÖ]{1,2}$'", name="address_letter"),
        CheckConstraint("postcode ~ '^[0-9]{5}$'", name="address_postcode"),
        Index("addresses_geom_idx", "geom", postgresql_using="gist"),
        Index("addresses_street_number_idx", "street_uid", "number", "letter"),
        Index("addresses_source_idx", "source"),
        {"schema": LOOKUP_SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # bigserial
    uid: Mapped[str] = mapped_column(Text, unique=True)
    street: Mapped[str] = mapped_column(Text)
    street_uid: Mapped[str] = mapped_column(Text)
    number: Mapped[int] = mapped_column(Integer)
    letter: Mapped[str | None] = mapped_column(Text)
    entrance: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(Text)
    municipality_code: Mapped[str | None] = mapped_column(Text)
    district: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    source_id: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(_geometry("POINT", 3006), nullable=False)


class Street(Base):
    __tablename__ = "streets"
    __table_args__ = (
        Index("streets_name_fold_idx", "name_fold"),
        {"schema": LOOKUP_SCHEMA},
    )

    uid: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_fold: Mapped[str | None] = mapped_column(
        Text, Computed("lookup.fold(name)", persisted=True)
    )
    city: Mapped[str | None] = mapped_column(Text)
    city_fold: Mapped[str | None] = mapped_column(
        Text, Computed("lookup.fold(city)", persisted=True)
    )
    municipality_code: Mapped[str | None] = mapped_column(Text)
    municipality_name: Mapped[str | None] = mapped_column(Text)
    municipality_fold: Mapped[str | None] = mapped_column(
        Text, Computed("lookup.fold(municipality_name)", persisted=True)
    )
    postcodes: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    address_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    geom: Mapped[WKBElement] = mapped_column(_geometry("POINT", 3006), nullable=False)


# Every word-start suffix of a folded street name, with what ranking needs, for prefix search.
street_keys = Table(
    "street_keys",
    Base.metadata,
    Column("key", Text, nullable=False),
    Column("street_uid", Text, nullable=False),
    Column("word_start", Boolean, nullable=False),
    Column("name_lower", Text, nullable=False),
    Column("address_count", Integer, nullable=False),
    Column("municipality_code", Text),
    Column("e", Double, nullable=False),
    Column("n", Double, nullable=False),
    Index(
        "street_keys_key_idx",
        "key",
        postgresql_ops={"key": "text_pattern_ops"},
        postgresql_include=[
            "street_uid",
            "word_start",
            "name_lower",
            "address_count",
            "municipality_code",
            "e",
            "n",
        ],
    ),
    # 0006_search_heads: the biggest streets of a one- or two-letter head first, and the nearest.
    *(
        Index(
            f"street_keys_head{length}_idx",
            text(f"left(key, {length})"),
            "word_start",
            "address_count",
            postgresql_include=[
                "key",
                "street_uid",
                "name_lower",
                "municipality_code",
                "e",
                "n",
            ],
        )
        for length in (1, 2)
    ),
    *(
        Index(
            f"street_keys_near{length}_idx",
            text(f"substr(key, 1, {length})"),
            text("point(e, n)"),
            postgresql_using="gist",
        )
        for length in (1, 2)
    ),
    schema=LOOKUP_SCHEMA,
)


class StreetName(Base):
    """Distinct folded street names, for typo-tolerant (trigram) search."""

    __tablename__ = "street_names"
    __table_args__ = (
        Index(
            "street_names_trgm_idx",
            "name_fold",
            postgresql_using="gist",
            postgresql_ops={"name_fold": "gist_trgm_ops"},
        ),
        {"schema": LOOKUP_SCHEMA},
    )

    name_fold: Mapped[str] = mapped_column(Text, primary_key=True)


class Property(Base):
    __tablename__ = "properties"
    __table_args__ = (
        Index("properties_geom_idx", "geom", postgresql_using="gist"),
        {"schema": LOOKUP_SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # bigserial
    uid: Mapped[str] = mapped_column(Text, unique=True)
    designation: Mapped[str] = mapped_column(Text)
    designation_fold: Mapped[str | None] = mapped_column(
        Text, Computed("lookup.fold(designation)", persisted=True)
    )
    municipality_code: Mapped[str | None] = mapped_column(Text)
    municipality_name: Mapped[str | None] = mapped_column(Text)
    district: Mapped[str] = mapped_column(Text)
    block: Mapped[int] = mapped_column(Integer)
    unit: Mapped[int | None] = mapped_column(Integer)
    fictional: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(_geometry("MULTIPOLYGON", 3006), nullable=False)
    point: Mapped[WKBElement] = mapped_column(_geometry("POINT", 3006), nullable=False)


# Every word-start suffix of a folded property designation, for prefix search.
property_keys = Table(
    "property_keys",
    Base.metadata,
    Column("key", Text, nullable=False),
    Column(
        "property_id",
        BigInteger,
        ForeignKey(f"{LOOKUP_SCHEMA}.properties.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("word_start", Boolean, nullable=False),
    Index(
        "property_keys_key_idx",
        "key",
        postgresql_ops={"key": "text_pattern_ops"},
        postgresql_include=["property_id", "word_start"],
    ),
    Index("property_keys_property_idx", "property_id"),
    schema=LOOKUP_SCHEMA,
)


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
