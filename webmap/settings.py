"""Typed settings for the service, read from ``WEBMAP_*`` environment variables.

Settings are built by :func:`webmap.create_app`, never at import time, so tests can pass their own
values and nothing reads the environment just because a module was imported.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the service can be configured with; one field per ``WEBMAP_<NAME>`` variable."""

    model_config = SettingsConfigDict(env_prefix="WEBMAP_", extra="forbid")

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/webmap",
        description="libpq connection URL of the PostGIS database.",
    )
    database_read_urls: str = Field(
        default="",
        description="postgresql:// URLs of streaming read replicas (hot standbys), separated by"
        " commas or spaces: tiles, search, reverse and OGC reads go to one that has replayed"
        " the live versions, else to the primary (docs/deploy.md, Read replicas).",
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
    tile_fast_path: bool = Field(
        default=True,
        description="Answer plain public vector tile requests without Flask's request "
        "machinery (same bytes and headers; off: every tile goes through Flask, for A/B runs).",
    )
    tile_max_features: int = Field(
        default=20_000, ge=1, description="Feature budget per source layer in one tile."
    )
    tile_max_bytes: int = Field(
        default=500 * 1024,
        ge=1024,
        description="Byte budget of one vector tile; denser tiles drop their smallest features"
        " (docs/architecture.md, Tiles). Reported in TileJSON as webmap:max_tile_bytes.",
    )
    tile_buffer: int = Field(default=64, ge=0, le=512, description="Tile buffer in tile units.")
    tile_archives: str = Field(
        default="",
        description="Tilesets served from archives made by `webmap tiles export` instead of the"
        " database: comma-separated NAME=PATH or NAME=https://URL of PMTiles files, e.g."
        " basemap=/srv/webmap/basemap.pmtiles (docs/export.md).",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL of a tile cache shared by all workers (e.g. redis://127.0.0.1:6379/0);"
        " unset keeps the cache in each process only.",
    )
    prerender: bool = Field(
        default=True,
        description="Pre-render low zooms when a version is published (a job per tileset, run by"
        " `webmap tiles prerender --worker`, which `webmap serve --proxy` starts) and serve them"
        " from PostgreSQL on a cache miss (docs/architecture.md, Pre-rendered low zooms).",
    )
    prerender_max_zoom: int = Field(
        default=8, ge=0, le=12, description="Deepest zoom pre-rendered (z0 up to this)."
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
        default=None,
        description="Folder with the sample data (`webmap data load-sample`); defaults to data/ "
        "of the source checkout, which an installed package does not have (see sample_data_dir).",
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
        "defaults to $XDG_DATA_HOME/webmap/rasters, i.e. ~/.local/share/webmap/rasters "
        "(see raster_storage); scripts/start.sh uses var/rasters of the checkout.",
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
    insecure_basemap_hosts: str = Field(
        default="",
        description="For tests and development only: comma-separated loopback hosts (localhost,"
        " 127.0.0.1) whose plain-http URLs a municipality's external basemap may use; production"
        " leaves it empty, and only https on a DNS name is accepted (docs/layers.md).",
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

    metrics: bool = Field(
        default=False,
        description="Serve Prometheus metrics at /metrics (404 when off). Only a staff API token"
        " or a client address in WEBMAP_METRICS_ALLOW may read them.",
    )
    metrics_allow: str = Field(
        default="",
        description="Comma-separated addresses or networks (e.g. 127.0.0.1,10.0.0.0/8) that may"
        " read /metrics without a token; empty: tokens only.",
    )

    @field_validator("metrics_allow")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)  # ValueError names the part
        return value

    @field_validator("insecure_basemap_hosts")
    @classmethod
    def _loopback_only(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip() and part.strip().lower() not in {"localhost", "127.0.0.1", "::1"}:
                raise ValueError(
                    f"WEBMAP_INSECURE_BASEMAP_HOSTS: {part.strip()!r} is not a loopback host"
                )
        return value

    @property
    def insecure_basemap_host_list(self) -> tuple[str, ...]:
        """``WEBMAP_INSECURE_BASEMAP_HOSTS`` as a tuple (empty in production)."""
        return tuple(p.strip().lower() for p in self.insecure_basemap_hosts.split(",") if p.strip())

    @field_validator("tile_archives")
    @classmethod
    def _archives(cls, value: str) -> str:
        for part in value.split(","):
            name, sep, path = part.strip().partition("=")
            if part.strip() and not (sep and name.strip() and path.strip()):
                raise ValueError(f"WEBMAP_TILE_ARCHIVES: {part.strip()!r} is not NAME=PATH")
        return value

    @property
    def archive_paths(self) -> dict[str, str]:
        """Tileset name → PMTiles file, from ``WEBMAP_TILE_ARCHIVES``."""
        pairs = (p.strip().partition("=") for p in self.tile_archives.split(",") if p.strip())
        return {name.strip(): path.strip() for name, _, path in pairs}

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("WEBMAP_DATABASE_URL must be a postgresql:// URL")
        return value

    @field_validator("database_read_urls")
    @classmethod
    def _replica_urls(cls, value: str) -> str:
        for url in value.replace(",", " ").split():
            if not url.startswith(("postgresql://", "postgres://")):
                raise ValueError("WEBMAP_DATABASE_READ_URLS must be postgresql:// URLs")
        return value

    @property
    def read_urls(self) -> list[str]:
        """The read replicas' URLs, in the order given (``WEBMAP_DATABASE_READ_URLS``)."""
        return self.database_read_urls.replace(",", " ").split()

    @model_validator(mode="after")
    def _pool_sizes(self) -> Settings:
        if self.pool_min_size > self.pool_max_size:
            raise ValueError("WEBMAP_POOL_MIN_SIZE must not exceed WEBMAP_POOL_MAX_SIZE")
        return self


# The folder that holds webmap/ (and, in a source checkout, setup.cfg and data/).
_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def raster_storage(settings: Settings) -> Path:
    """Where published COGs live: ``WEBMAP_RASTER_DIR``, else ``$XDG_DATA_HOME/webmap/rasters``
    (``~/.local/share/webmap/rasters`` when ``XDG_DATA_HOME`` is unset or relative, as the XDG
    base-directory spec says): a per-user data folder that exists wherever the package is
    installed. A service sets ``WEBMAP_RASTER_DIR`` (e.g. ``/var/lib/webmap/rasters``)."""
    if settings.raster_dir:
        return Path(settings.raster_dir)
    data_home = os.environ.get("XDG_DATA_HOME", "")
    base = Path(data_home) if os.path.isabs(data_home) else Path.home() / ".local" / "share"
    return base / "webmap" / "rasters"


class SampleDataMissing(FileNotFoundError):
    """No folder with the sample data: set ``WEBMAP_DATA_DIR`` (or pass ``--data-dir``)."""


def sample_data_dir(settings: Settings) -> Path:
    """The folder with the sample data: ``WEBMAP_DATA_DIR``, else ``data/`` of the source
    checkout. The sample files ship with the project's source, not with the installed package,
    so an installed package without ``WEBMAP_DATA_DIR`` gets :class:`SampleDataMissing`."""
    if settings.data_dir:
        folder = Path(settings.data_dir)
        if not folder.is_dir():
            raise SampleDataMissing(f"WEBMAP_DATA_DIR={settings.data_dir} is not a folder.")
        return folder
    checkout_data = _SOURCE_ROOT / "data"
    if (_SOURCE_ROOT / "setup.cfg").is_file() and checkout_data.is_dir():
        return checkout_data
    raise SampleDataMissing(
        "No sample data folder: the sample files are in data/ of the webmap source checkout, "
        "which this installation does not have. Set WEBMAP_DATA_DIR (or pass --data-dir) to a "
        "copy of that folder."
    )
