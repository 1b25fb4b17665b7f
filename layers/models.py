"""The catalog's schema as geoalchemy2 models: the single source the migrations are written from.

Request handlers read the catalog with plain psycopg (see :mod:`layers.catalog`); these models
describe the tables, serve the migrations and staff tools that prefer an ORM.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

CATALOG_SCHEMA = "webmap"
DATA_SCHEMA = "layerdata"
LAYER_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,47}$"


class Base(DeclarativeBase):
    metadata = MetaData(schema=CATALOG_SCHEMA)


class Layer(Base):
    """One published layer; ``version`` points at the live row of :class:`LayerVersion`."""

    __tablename__ = "layers"
    __table_args__ = (
        CheckConstraint(f"name ~ '{LAYER_NAME_PATTERN}'", name="layer_name_format"),
        CheckConstraint("kind IN ('vector', 'raster')", name="layer_kind"),
        CheckConstraint("minzoom BETWEEN 0 AND 24 AND maxzoom BETWEEN minzoom AND 24"),
    )

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(Text, default="vector")
    geometry_type: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    attribution: Mapped[str] = mapped_column(Text, default="")
    minzoom: Mapped[int] = mapped_column(Integer, default=0)
    maxzoom: Mapped[int] = mapped_column(Integer, default=22)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LayerVersion(Base):
    """One stored version of a layer: its own data table, so older versions can be rolled back."""

    __tablename__ = "layer_versions"

    layer_name: Mapped[str] = mapped_column(
        Text, ForeignKey("layers.name", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_name: Mapped[str] = mapped_column(Text, unique=True)
    feature_count: Mapped[int] = mapped_column(Integer, default=0)
    fields: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    bounds = mapped_column(Geometry("POLYGON", srid=4326), nullable=True)
    report: Mapped[dict[str, object]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
