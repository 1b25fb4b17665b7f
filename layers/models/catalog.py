"""The ``webmap`` schema: the layer catalog (0001), staff access and deleted layers (0003,
0004) and pre-rendered low zooms (0005)."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from layers.models.base import NOW, Base, geometry_column
from layers.schema import CATALOG_SCHEMA, LAYER_NAME_PATTERN

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
        Index("layers_municipality", "municipality"),
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
    #: The owning municipality (0007_municipalities); NULL: an instance-wide layer.
    municipality: Mapped[str | None] = mapped_column(
        Text, ForeignKey(f"{CATALOG_SCHEMA}.tenants.code", onupdate="CASCADE")
    )


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
    bounds: Mapped[WKBElement | None] = mapped_column(geometry_column("POLYGON", 4326))
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
    instance_admin: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


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
    instance_admin: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


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
