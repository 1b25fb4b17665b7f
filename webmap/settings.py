"""Typed settings for the service, read from ``WEBMAP_*`` environment variables.

Settings are built by :func:`webmap.create_app`, never at import time, so tests can pass their own
values and nothing reads the environment just because a module was imported.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the service can be configured with; one field per ``WEBMAP_<NAME>`` variable."""

    model_config = SettingsConfigDict(env_prefix="WEBMAP_", extra="forbid")

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/webmap",
        description="libpq connection URL of the PostGIS database.",
    )
    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=8, ge=1)
    pool_timeout: float = Field(default=10.0, gt=0, description="Seconds to wait for a connection.")
    db_connect_timeout: int = Field(
        default=2,
        ge=2,
        le=60,
        description="Seconds one connection attempt to PostgreSQL may take (libpq's minimum is 2);"
        " bounds how long a hung network can hold a request.",
    )
    db_retry_after: int = Field(
        default=1,
        ge=1,
        le=300,
        description="Seconds the database is treated as down after a failed connection: requests"
        " needing it answer 503 at once with this Retry-After, then one request probes again.",
    )
    statement_timeout_ms: int = Field(
        default=15_000, ge=100, description="Upper bound for one tile or lookup query."
    )
    tile_cache_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="In-process tile cache size in bytes; 0 turns the cache off (benchmarks).",
    )
    tile_max_features: int = Field(
        default=20_000, ge=1, description="Feature budget per source layer in one tile."
    )
    tile_buffer: int = Field(default=64, ge=0, le=512, description="Tile buffer in tile units.")
    redis_url: str | None = Field(
        default=None,
        description="Redis URL of a tile cache shared by all workers (e.g. redis://127.0.0.1:6379/0);"
        " unset keeps the cache in each process only.",
    )
    catalog_ttl: float = Field(
        default=2.0, ge=0, description="Seconds a catalog snapshot is reused by the tile path."
    )
    secret_key: str = Field(default="dev-only-change-me", min_length=8)
    secure_cookies: bool = Field(
        default=False,
        description="Send the staff session cookie over HTTPS only; turn on behind TLS.",
    )
    data_dir: str | None = Field(
        default=None, description="Folder with the sample data; defaults to the project's data/."
    )
    keep_versions: int = Field(
        default=5, ge=0, description="Older versions of each layer kept for rollback."
    )
    max_upload_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1024, description="Largest accepted upload (HTTP 413 above)."
    )
    max_unpacked_bytes: int = Field(
        default=2 * 1024 * 1024 * 1024, ge=1024, description="Largest total size unzipped."
    )
    max_features: int = Field(default=5_000_000, ge=1, description="Most features per upload.")
    max_vertices: int = Field(
        default=25_000_000, ge=1, description="Most vertices per upload (all features)."
    )
    max_feature_vertices: int = Field(
        default=250_000, ge=1, description="Most vertices in one feature."
    )
    max_raster_pixels: int = Field(
        default=400_000_000,
        ge=1,
        description="Most pixels (width × height) of one uploaded raster, checked before decoding.",
    )
    ingest_max_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Wall-clock budget of one upload's processing (422 when spent).",
    )
    ingest_statement_timeout_ms: int = Field(
        default=600_000,
        ge=1000,
        description="statement_timeout of the ingest transaction (never 0; lowered to the "
        "time left of WEBMAP_INGEST_MAX_SECONDS).",
    )
    upload_dir: str | None = Field(
        default=None, description="Scratch folder for uploads; defaults to the system temp dir."
    )
    raster_dir: str | None = Field(
        default=None,
        description="Folder of published raster layers (COG files, created on demand); "
        "defaults to the project's var/rasters.",
    )
    proxy_hops: int = Field(
        default=0,
        ge=0,
        le=5,
        description="Reverse proxies in front of the app (1 behind the shipped nginx): trust this "
        "many X-Forwarded-For/-Proto/-Host entries; 0 trusts none (the app faces clients).",
    )
    embed_origins: str = Field(
        default="",
        description="Comma-separated origins (e.g. https://e-tjanst.example.se) of e-services "
        "allowed to use the widget: CORS on lookups, style and tiles; /embed framing and messages.",
    )
    session_idle_seconds: int = Field(
        default=8 * 3600, ge=1, description="A staff session ends after this long unused."
    )
    session_max_seconds: int = Field(
        default=7 * 24 * 3600, ge=1, description="A staff session ends this long after login."
    )
    login_failures_per_user: int = Field(
        default=5, ge=1, description="Failed logins per user name in the window before HTTP 429."
    )
    login_failures_per_address: int = Field(
        default=20, ge=1, description="Failed logins per client address in the window (HTTP 429)."
    )
    login_window_seconds: int = Field(
        default=15 * 60, ge=1, description="Sliding window of the failed-login limits."
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("WEBMAP_DATABASE_URL must be a postgresql:// URL")
        return value

    @model_validator(mode="after")
    def _pool_sizes(self) -> Settings:
        if self.pool_min_size > self.pool_max_size:
            raise ValueError("WEBMAP_POOL_MIN_SIZE must not exceed WEBMAP_POOL_MAX_SIZE")
        return self
