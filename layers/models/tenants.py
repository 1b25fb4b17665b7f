"""The ``webmap`` schema's tenants (0007_municipalities): municipalities with their widget
settings, and which staff logins and API tokens act for which municipality."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import WKBElement
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from layers.models.base import NOW, Base, geometry_column
from layers.schema import CATALOG_SCHEMA

_ROLE = "role IN ('publisher', 'admin')"


class Tenant(Base):
    """A municipality served by this deployment (SCB kommunkod), with its own boundary copy."""

    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{4}$'", name="tenants_code_check"),
        CheckConstraint("length(name) BETWEEN 1 AND 100", name="tenants_name_check"),
        CheckConstraint(
            "length(display_name) BETWEEN 1 AND 100", name="tenants_display_name_check"
        ),
        CheckConstraint("theme_colour ~ '^#[0-9a-f]{6}$'", name="tenants_theme_colour_check"),
        {"schema": CATALOG_SCHEMA},
    )

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    display_name: Mapped[str | None] = mapped_column(Text)
    theme_colour: Mapped[str | None] = mapped_column(Text)
    boundary: Mapped[WKBElement] = mapped_column(
        geometry_column("MULTIPOLYGON", 3006), nullable=False
    )
    embed_origins: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    default_layers: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    basemap: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)


def _tenant_key() -> ForeignKey:
    return ForeignKey(f"{CATALOG_SCHEMA}.tenants.code", ondelete="CASCADE", onupdate="CASCADE")


class StaffMembership(Base):
    """A staff login's role in one municipality."""

    __tablename__ = "staff_memberships"
    __table_args__ = (
        CheckConstraint(_ROLE, name="staff_memberships_role_check"),
        {"schema": CATALOG_SCHEMA},
    )

    username: Mapped[str] = mapped_column(
        Text,
        ForeignKey(
            f"{CATALOG_SCHEMA}.staff_users.username", ondelete="CASCADE", onupdate="CASCADE"
        ),
        primary_key=True,
    )
    municipality: Mapped[str] = mapped_column(Text, _tenant_key(), primary_key=True)
    role: Mapped[str] = mapped_column(Text)


class TokenMembership(Base):
    """An API token's role in one municipality."""

    __tablename__ = "token_memberships"
    __table_args__ = (
        CheckConstraint(_ROLE, name="token_memberships_role_check"),
        {"schema": CATALOG_SCHEMA},
    )

    token_id: Mapped[int] = mapped_column(
        Integer, ForeignKey(f"{CATALOG_SCHEMA}.api_tokens.id", ondelete="CASCADE"), primary_key=True
    )
    municipality: Mapped[str] = mapped_column(Text, _tenant_key(), primary_key=True)
    role: Mapped[str] = mapped_column(Text)
