"""Checks of what the node uses beside the database: Redis, the raster folder, nginx, GDAL."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from webmap.settings import raster_storage
from webmap.setup_checks.findings import Deployment, Finding, ok


def redis(d: Deployment) -> Finding:
    url = d.settings.redis_url
    if not url:
        return ok("redis", "not configured: caches and login limits are per process (one node)")
    import redis as redis_client

    try:
        client = redis_client.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        client.ping()
        client.close()
    except Exception as exc:  # redis-py raises several types for a refused, silent or bad URL
        return Finding(
            "redis",
            "error",
            f"Redis at WEBMAP_REDIS_URL does not answer: {exc}",
            "Start Redis, or correct WEBMAP_REDIS_URL (redis://host:6379/0), or unset it on a "
            "single node.",
        )
    return ok("redis", "Redis answers")


def raster_folder(d: Deployment) -> Finding:
    folder = raster_storage(d.settings)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(f"{existing} is not a folder")
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".webmap-doctor-"):
            pass
    except OSError as exc:
        return Finding(
            "raster-folder",
            "error",
            f"cannot write in the raster folder {folder}: {exc}",
            f"Create {folder} owned by the service's user (systemd: StateDirectory=webmap, "
            "WEBMAP_RASTER_DIR=/var/lib/webmap/rasters), or point WEBMAP_RASTER_DIR elsewhere.",
        )
    note = "" if existing == folder else f" (created on the first raster publish, in {existing})"
    as_root = " (checked as root: run doctor as the service's user)" if os.geteuid() == 0 else ""
    return ok("raster-folder", f"{folder} is writable{note}{as_root}")


def nginx(d: Deployment) -> Finding:
    template = d.nginx_template
    if shutil.which("nginx") is None:
        return Finding(
            "nginx", "error", "nginx is not installed.", "apt-get install nginx (Debian 12)."
        )
    if not template.is_file():
        return Finding(
            "nginx",
            "error",
            f"no nginx template at {template} (a package install has no deploy/ folder).",
            "Copy deploy/nginx/webmap.conf.template from the source archive to "
            "/etc/webmap/nginx.conf.template and pass --nginx-template (docs/operations.md).",
        )
    from webmap.cli.nginx_config import NginxConfig

    try:
        NginxConfig(
            runtime_dir=Path("/nonexistent"), upstream="unix:/x", template=template
        ).render()
    except (OSError, ValueError) as exc:
        return Finding("nginx", "error", f"{template} does not render: {exc}", "Compare it "
                       "with deploy/nginx/webmap.conf.template of this release.")  # fmt: skip
    return ok("nginx", f"nginx installed, {template} renders")


def gdal(_d: Deployment) -> Finding:
    from layers.ingest.gdal_policy import VECTOR_FORMATS, self_check

    try:
        left = self_check()
    except Exception as exc:  # the guards raise RuntimeError; a broken GDAL anything
        return Finding(
            "gdal",
            "error",
            f"the GDAL read policy cannot be applied: {exc}",
            "Reinstall the locked pyogrio and rasterio wheels (pip install -r requirements.lock).",
        )
    allowed = {driver for drivers in VECTOR_FORMATS.values() for driver in drivers}
    extra = sorted(set(left) - allowed)
    if extra:
        return Finding(
            "gdal",
            "error",
            f"GDAL keeps drivers uploads may not use: {', '.join(extra)}.",
            "Check GDAL_SKIP/OGR_SKIP and GDAL_DRIVER_PATH in the environment; "
            "layers/ingest/gdal_policy.py must be able to unload them.",
        )
    return ok("gdal", f"uploads are read by {len(left)} allowed GDAL drivers, network refused")
